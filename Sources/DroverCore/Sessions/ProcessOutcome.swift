/// How a flow run's process ended. A non-zero exit is an outcome to record, not an error.
public enum ProcessOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The process called `exit` (or returned from `main`) with this code, 0 through 255.
    /// The code is -1 if the process was reaped by someone else and its status is unknown.
    case exited(code: Int32)
    /// A signal ended the process (`SIGTERM` from `terminate`, `SIGKILL` after its grace period).
    case signaled(signal: Int32)

    /// "exit 3" or "signal 15", for logs.
    public var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}
