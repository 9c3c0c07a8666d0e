import Foundation
import Testing

/// Why waiting for a flow run ended without what the test waited for.
struct FlowRunWaitFailure: Error, CustomStringConvertible {
    let description: String
}

extension DroverServer {
    /// Longest wait for a flow run to reach a state.
    static let flowRunGuardSeconds: Double = 60

    /// Runs a command that must succeed (exit 0).
    func succeed(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await drover(arguments, sourceLocation: sourceLocation)
        try #require(result.status == 0, "\(result)", sourceLocation: sourceLocation)
    }

    /// `deployment run NAME ARGUMENTS`, which must succeed; returns the new run's id.
    func runDeployment(
        _ name: String, _ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let result = try await drover(["deployment", "run", name] + arguments, sourceLocation: sourceLocation)
        try #require(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        let line = try #require(
            result.stdout.split(separator: "\n").first { $0.contains("└── UUID: ") }, "\(result)",
            sourceLocation: sourceLocation)
        let id = String(line.split(separator: " ").last ?? "")
        try #require(isUUID(id), "\(result)", sourceLocation: sourceLocation)
        return id
    }

    /// `flow-run inspect ID -o json`, which must succeed.
    func flowRun(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> FlowRunRecord {
        FlowRunRecord(
            json: try JSON.object(try await output("flow-run", "inspect", id, "-o", "json", sourceLocation: sourceLocation)))
    }

    /// `flow-run logs ID`, which must succeed.
    func flowRunLogs(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        try await output("flow-run", "logs", id, sourceLocation: sourceLocation)
    }

    /// Reads the run every 50 ms until `done` holds for it, and returns it. Throws if it
    /// reaches a terminal state where `done` does not hold, or after `seconds` (a failure
    /// guard, not a measure).
    func awaitFlowRun(
        _ id: String, _ what: String, seconds: Double = flowRunGuardSeconds,
        sourceLocation: SourceLocation = #_sourceLocation, until done: (FlowRunRecord) -> Bool
    ) async throws -> FlowRunRecord {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while true {
            let run = try await flowRun(id, sourceLocation: sourceLocation)
            if done(run) { return run }
            if run.isTerminal {
                throw FlowRunWaitFailure(description: "flow run \(id) ended \(run.state), not \(what):\n\(run)")
            }
            if Date() > deadline {
                throw FlowRunWaitFailure(description: "flow run \(id) was not \(what) within \(seconds) s:\n\(run)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits until the run is in state `type` (such as `RUNNING`); see `awaitFlowRun`.
    func awaitFlowRun(
        _ id: String, toBe type: String, seconds: Double = flowRunGuardSeconds,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> FlowRunRecord {
        try await awaitFlowRun(id, type, seconds: seconds, sourceLocation: sourceLocation) { $0.state == type }
    }

    /// Waits until the run is in any terminal state.
    func awaitTerminal(
        _ id: String, seconds: Double = flowRunGuardSeconds, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> FlowRunRecord {
        try await awaitFlowRun(id, "finished", seconds: seconds, sourceLocation: sourceLocation) { $0.isTerminal }
    }
}
