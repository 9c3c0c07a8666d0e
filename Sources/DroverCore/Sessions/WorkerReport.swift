import Foundation

/// One attempt of one run, as a worker holds it: the attempt is the fencing token, so a
/// run sent again (a retry) is another `RunAttempt` even on the same worker.
public struct RunAttempt: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let runID: UUID
    public let attempt: UInt32

    public init(_ runID: UUID, attempt: UInt32) {
        self.runID = runID
        self.attempt = attempt
    }

    public static func < (lhs: RunAttempt, rhs: RunAttempt) -> Bool {
        (lhs.runID.uuidString, lhs.attempt) < (rhs.runID.uuidString, rhs.attempt)
    }

    public var description: String { "\(runID.uuidString.lowercased())#\(attempt)" }
}

/// How an attempt ended, as the worker reports it.
public enum RunOutcome: Sendable, Equatable {
    /// Exit code 0.
    case completed
    /// A non-zero exit code.
    case failed
    /// Killed by a signal, or could not start.
    case crashed
    /// Stopped on request (a cancel, or the worker's second signal).
    case cancelled
}

/// The end of an attempt, as reported to the server.
public struct RunEnd: Sendable, Equatable {
    public let run: RunAttempt
    public let outcome: RunOutcome
    public let exitCode: Int32?
    public let message: String
    public let at: Date

    public init(run: RunAttempt, outcome: RunOutcome, exitCode: Int32?, message: String, at: Date) {
        self.run = run
        self.outcome = outcome
        self.exitCode = exitCode
        self.message = message
        self.at = at
    }
}

/// A line of a run's output (or the worker's note about it), numbered by the worker within
/// its attempt from 1, so that a line sent twice is stored once.
public struct WorkerLogLine: Sendable, Equatable {
    public let line: UInt64
    public let timestamp: Date
    public let stream: FlowRunLog.Stream
    public let text: String

    public init(line: UInt64, timestamp: Date, stream: FlowRunLog.Stream, text: String) {
        self.line = line
        self.timestamp = timestamp
        self.stream = stream
        self.text = text
    }
}

/// What a worker tells the server about a run it holds. Every report gets a sequence
/// number and is kept until the server acknowledges it, through restarts of either side's
/// connection; reports are idempotent, so one sent twice counts once.
public enum WorkerReport: Sendable, Equatable {
    /// The attempt's process started (PENDING → RUNNING).
    case started(RunAttempt, pid: Int32, at: Date)
    /// The attempt ended.
    case finished(RunEnd)
    /// Lines of output, at most `WorkerSession.Settings.batchLines` in one report.
    case logs(RunAttempt, lines: [WorkerLogLine])

    /// The attempt the report is about.
    public var run: RunAttempt {
        switch self {
        case .started(let run, _, _): run
        case .finished(let end): end.run
        case .logs(let run, _): run
        }
    }
}
