import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A server killed with SIGKILL and started again on the same home and ports: its worker
/// reconnects by itself, the run it was running completes once (not run again), and the
/// runs still scheduled run after it.
///
/// The running run is a shell loop that ends when the test creates a gate file, so it ends
/// exactly when the test means it to: after the worker is back, or while the server is down.
@Suite(.timeLimit(.minutes(2)))
struct ServerCrashRecoveryTests {
    /// A command that waits for `gate` to exist, then prints "slept".
    static func gatedCommand(_ gate: URL) -> String {
        "while [ ! -e '\(gate.path)' ]; do sleep 0.05; done; echo slept"
    }

    @Test func runsSurviveASIGKILLedServer() async throws {
        let home = try TemporaryDirectory()
        let gate = home.file("gate")
        // The default heartbeat (2 s): the restarted server gives the worker three intervals and
        // its reconnection back-off to claim its run; its next heartbeat, answered with "say
        // Hello again", does.
        let first = try await DroverServer.start(home: home.url)
        defer { first.terminate() }
        try await first.succeed("work-pool", "create", "sturdy")
        try await first.succeed("deployment", "create", "gated", "--pool", "sturdy", "--command", Self.gatedCommand(gate))
        try await first.succeed("deployment", "create", "quick", "--pool", "sturdy", "--command", "echo quick")
        let worker = try await DroverWorkerProcess.start(on: first, pool: "sturdy", name: "w1", arguments: ["--limit", "1"])
        defer { worker.terminate() }

        let gatedID = try await first.runDeployment("gated")
        _ = try await first.awaitFlowRun(gatedID, toBe: "RUNNING")
        let quickIDs = [try await first.runDeployment("quick"), try await first.runDeployment("quick")]
        for id in quickIDs { #expect(try await first.flowRun(id).state == "SCHEDULED") }

        try #require(first.dispatchPort > 0, "\(first.listeningLine)")
        #expect(await first.stop(signal: SIGKILL) == .signal(SIGKILL))

        let second = try await DroverServer.start(
            home: home.url,
            arguments: ["--control-port", "\(first.port)", "--dispatch-port", "\(first.dispatchPort)", "--limits-port", "0"])
        defer { second.terminate() }
        #expect(second.endpoint == first.endpoint && second.dispatchEndpoint == first.dispatchEndpoint)
        // The worker said Hello again to the new server by itself, claiming its run.
        try await second.awaitWorker("w1", pool: "sturdy", status: "ONLINE")
        #expect(try await second.flowRun(gatedID).state == "RUNNING")
        #expect(FileManager.default.createFile(atPath: gate.path, contents: nil))

        let gated = try await second.awaitFlowRun(gatedID, toBe: "COMPLETED")
        #expect(gated.stateTypes == ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"], "\(gated)")
        #expect(gated.attempt == 1 && gated.exitCode == 0, "\(gated)")
        let logs = try await second.flowRunLogs(gatedID)
        #expect(logs.contains("| stdout | Flow run '\(gated.name)' - slept"), "\(logs)")
        #expect(logs.lowercased().components(separatedBy: "started as pid").count - 1 == 1, "not run again:\n\(logs)")
        #expect(worker.stdout.components(separatedBy: "(\(gatedID)) started as pid").count - 1 == 1, "\(worker.stdout)")

        for id in quickIDs {
            let quick = try await second.awaitFlowRun(id, toBe: "COMPLETED")
            let pending = try #require(quick.firstTime(in: "PENDING"), "\(quick)")
            let gatedEnd = try #require(gated.endTime, "\(gated)")
            #expect(pending >= gatedEnd, "a scheduled run went out while the worker's one slot was taken:\n\(quick)\n\(gated)")
            #expect(quick.workerName == "w1")
        }

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await second.stop() == .exit(0))
    }

    /// The run's process ends while the server is down: the worker holds the report and the
    /// restarted server records the run as it ended, not as crashed.
    @Test func aRunThatEndsWhileTheServerIsDownIsRecordedAsItEnded() async throws {
        let home = try TemporaryDirectory()
        let gate = home.file("gate")
        let first = try await DroverServer.start(
            home: home.url, arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--heartbeat-interval", "0.5"])
        defer { first.terminate() }
        try await first.succeed("work-pool", "create", "outage")
        try await first.succeed("deployment", "create", "gated", "--pool", "outage", "--command", Self.gatedCommand(gate))
        let worker = try await DroverWorkerProcess.start(on: first, pool: "outage", name: "w1")
        defer { worker.terminate() }

        let id = try await first.runDeployment("gated")
        let running = try await first.awaitFlowRun(id, toBe: "RUNNING")
        #expect(await first.stop(signal: SIGKILL) == .signal(SIGKILL))
        // The run ends with no server to hear of it.
        #expect(FileManager.default.createFile(atPath: gate.path, contents: nil))
        try #require(await worker.awaitLine(containing: "Flow run '\(running.name)' finished: Process exited with code 0."))

        let second = try await DroverServer.start(
            home: home.url,
            arguments: [
                "--control-port", "\(first.port)", "--dispatch-port", "\(first.dispatchPort)", "--limits-port", "0", "--heartbeat-interval",
                "0.5",
            ])
        defer { second.terminate() }
        let run = try await second.awaitTerminal(id)
        let logs = try await second.flowRunLogs(id)
        #expect(run.state == "COMPLETED" && run.exitCode == 0, "\(run)")
        #expect(logs.contains("- slept"), "\(logs)")
        #expect(run.attempt == 1)
        #expect(logs.lowercased().components(separatedBy: "started as pid").count - 1 == 1, "not run again:\n\(logs)")

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await second.stop() == .exit(0))
    }
}
