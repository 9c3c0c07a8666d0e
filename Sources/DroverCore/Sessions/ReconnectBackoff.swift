/// How long a worker waits before it says Hello again after a failed or lost session:
/// exponential, capped, with jitter, and back to the start after a stable session.
///
/// The n-th retry in a row waits a random time in `[d/2, d]` with `d = min(cap, base × 2ⁿ)`,
/// so a fleet that lost its server at the same instant comes back spread over time rather
/// than in one burst. A session that lasted `stableAfter` resets the count.
public struct ReconnectBackoff: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration
    public var stableAfter: Duration
    /// Retries since the last stable session.
    public private(set) var failures = 0

    public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(5), stableAfter: Duration = .seconds(3)) {
        self.base = base
        self.cap = max(base, cap)
        self.stableAfter = stableAfter
    }

    /// The wait before the next Hello, after a session that lasted `lasted` (nil: none was
    /// welcomed since the last retry). `random` is in `0...1`.
    public mutating func nextDelay(afterSessionOf lasted: Duration?, random: Double) -> Duration {
        if let lasted, lasted >= stableAfter { failures = 0 }
        let exponent = min(failures, 30)
        failures += 1
        let ceiling = min(cap, base * (1 << exponent))
        return ceiling * (0.5 + 0.5 * min(1, max(0, random)))
    }
}
