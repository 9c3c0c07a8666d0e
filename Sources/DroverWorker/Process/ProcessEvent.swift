import DroverCore

/// What a `ChildProcess` reports to its `onEvent` handler, in order.
public enum ProcessEvent: Sendable {
    /// A line of output. Lines of one stream arrive in the order they were written.
    case output(OutputLine)
    /// The process has ended and been reaped. Sent exactly once, after every `.output`.
    case exited(ProcessOutcome)
}
