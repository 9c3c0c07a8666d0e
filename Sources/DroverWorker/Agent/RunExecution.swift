import DroverProto
import Foundation

/// One run this worker holds: its process and how its end is to be reported.
struct RunExecution {
    let runID: String
    let attempt: UInt32
    let runName: String
    let streamOutput: Bool
    var process: ChildProcess?
    /// A temporary working directory to remove when the run ends.
    var temporaryDirectory: String?
    /// The server asked to cancel it: its end is reported CANCELLED.
    var cancelRequested = false
    /// The server moved past this attempt: its end is not reported.
    var stale = false
    /// The worker is stopping and terminated it.
    var terminatedByWorker = false
    /// Lines not yet sent to the server.
    var pendingLogs: [Drover_V1_LogLine] = []
    /// The number the next line gets, so that the server can skip a line sent twice.
    private(set) var nextLine: UInt64 = 1

    /// Numbers `line` and keeps it for the next batch.
    mutating func log(_ line: Drover_V1_LogLine) {
        var line = line
        line.line = nextLine
        nextLine += 1
        pendingLogs.append(line)
    }

    /// What the run's end means, as the server records it.
    func report(for outcome: ProcessOutcome) -> (Drover_V1_RunOutcome, exitCode: Int32?, message: String) {
        switch outcome {
        case .exited(let code) where cancelRequested || terminatedByWorker:
            return (.runCancelled, code, cancellationMessage)
        case .signaled(let signal) where cancelRequested || terminatedByWorker:
            return (.runCancelled, nil, cancellationMessage + " (ended by signal \(signal))")
        case .exited(0):
            return (.runCompleted, 0, "Process exited with code 0.")
        case .exited(let code):
            return (.runFailed, code, "Process exited with code \(code).")
        case .signaled(let signal):
            return (.runCrashed, nil, "Process was killed by signal \(signal).")
        }
    }

    private var cancellationMessage: String {
        cancelRequested ? "Cancelled on request." : "Terminated: the worker was stopped with a second signal."
    }
}
