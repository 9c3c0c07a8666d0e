/// Lets a warning through at most once per `interval` per kind, and counts the ones it held
/// back, so that a peer sending a flood of bad frames cannot flood the log with them.
public struct WarningGate: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public let interval: Duration
    private var last: [String: Instant] = [:]
    private var held: [String: Int] = [:]

    public init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// Whether to log a warning of `kind` now.
    public mutating func allows(_ kind: String, now: Instant) -> Bool {
        if let previous = last[kind], now - previous < interval {
            held[kind, default: 0] += 1
            return false
        }
        last[kind] = now
        return true
    }

    /// How many warnings of `kind` were held back since the last one let through; resets the count.
    public mutating func takeHeldBack(_ kind: String) -> Int {
        held.removeValue(forKey: kind) ?? 0
    }
}
