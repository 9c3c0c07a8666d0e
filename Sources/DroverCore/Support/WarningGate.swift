/// Lets at most `burst` lines of a kind through per `interval`, and counts the ones it held
/// back, so that a peer sending a flood of bad frames (or Hellos) cannot flood the log.
public struct WarningGate: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public let interval: Duration
    public let burst: Int
    /// Per kind: when its current window opened, and how many lines it let through since.
    private var windows: [String: (opened: Instant, count: Int)] = [:]
    private var held: [String: Int] = [:]

    public init(interval: Duration = .seconds(10), burst: Int = 1) {
        self.interval = interval
        self.burst = max(1, burst)
    }

    /// Whether to log a line of `kind` now.
    public mutating func allows(_ kind: String, now: Instant) -> Bool {
        if let window = windows[kind], now - window.opened < interval {
            guard window.count < burst else {
                held[kind, default: 0] += 1
                return false
            }
            windows[kind] = (window.opened, window.count + 1)
            return true
        }
        windows[kind] = (now, 1)
        return true
    }

    /// How many lines of `kind` were held back since the last one let through; resets the count.
    public mutating func takeHeldBack(_ kind: String) -> Int {
        held.removeValue(forKey: kind) ?? 0
    }
}
