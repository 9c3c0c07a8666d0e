import DroverClient
import DroverCore
import DroverProto
import Foundation

/// Follows a flow run: prints its new log lines and state changes until it ends.
///
/// It asks the server for what is new a few times a second; the server's events
/// endpoint, when it comes, will let it wait for changes instead.
struct FlowRunWatcher {
    let connection: ControlClient
    let runID: String
    /// Time between two reads of the run.
    var interval: Duration = .milliseconds(200)

    /// Prints until the run reaches a terminal state, and returns that state.
    func follow(printStates: Bool) throws -> Drover_V1_StateType {
        var after: UInt64 = 0
        var lastState = ""
        while true {
            let request = Drover_V1_ReadFlowRunLogs.with {
                $0.id = runID
                $0.afterSequence = after
                $0.limit = 1000
            }
            guard case .logs(let page) = try connection.call(.readFlowRunLogs(request)) else { throw unexpectedReply }
            for line in page.lines {
                Terminal.print(LogFormat.line(line, runName: page.flowRun.name))
                after = line.sequence
            }
            let run = page.flowRun
            let state = "\(run.stateType)/\(run.stateName)"
            if printStates && state != lastState {
                Terminal.print("Flow run '\(run.name)' is \(Formatting.stateType(run.stateType)) (\(run.stateName))")
                lastState = state
            }
            if !page.more && Formatting.isTerminal(run.stateType) {
                if run.hasExitCode { Terminal.print("Exit code: \(run.exitCode)") }
                return run.stateType
            }
            if page.lines.count < 1000 { Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18) }
        }
    }
}

/// How log lines print: `2026-11-28 23:25:31.629 | stdout | Flow run 'stoic-heron' - text`.
enum LogFormat {
    static func line(_ line: Drover_V1_LogLine, runName: String) -> String {
        let stamp = Formatting.timestamp(line.timestamp)
        let short = stamp.replacingOccurrences(of: "T", with: " ").prefix(23)
        let stream = line.stream.padding(toLength: 6, withPad: " ", startingAt: 0)
        return "\(short) | \(stream) | Flow run '\(runName)' - \(line.text)"
    }
}
