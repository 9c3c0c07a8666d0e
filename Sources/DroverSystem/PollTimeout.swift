/// How long `poll(2)` may block: its timeout in milliseconds.
public enum PollTimeout {
    /// Milliseconds until `deadline`, rounded up so the poll never wakes before it; 0 once it
    /// has passed; -1 (wait for an event) without one.
    public static func milliseconds(until deadline: ContinuousClock.Instant?) -> Int32 {
        guard let deadline else { return -1 }
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return 0 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}
