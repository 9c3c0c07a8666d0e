import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A server killed with SIGKILL and started again on the same home and ports: its worker
/// reconnects by itself, the run it was running completes once (not run again), and the
/// runs still scheduled run after it.
@Suite(.timeLimit(.minutes(2)))
struct ServerCrashRecoveryTests {
    @Test func runsSurviveASIGKILLedServer() async throws {
        let home = try TemporaryDirectory()
        // The default heartbeat (2 s): the restarted server gives the worker three intervals to
        // claim its run, and its next heartbeat, answered with "say Hello again", does.
        let first = try await DroverServer.start(home: home.url)
        defer { first.terminate() }
        try await first.succeed("work-pool", "create", "sturdy")
        try await first.succeed("deployment", "create", "three", "--pool", "sturdy", "--command", "sleep 3; echo slept")
        try await first.succeed("deployment", "create", "quick", "--pool", "sturdy", "--command", "echo quick")
        let worker = try await DroverWorkerProcess.start(on: first, pool: "sturdy", name: "w1", arguments: ["--limit", "1"])
        defer { worker.terminate() }

        let threeID = try await first.runDeployment("three")
        _ = try await first.awaitFlowRun(threeID, toBe: "RUNNING")
        let quickIDs = [try await first.runDeployment("quick"), try await first.runDeployment("quick")]
        for id in quickIDs { #expect(try await first.flowRun(id).state == "SCHEDULED") }

        let controlPort = first.port
        let dispatchPort = first.dispatchPort
        try #require(dispatchPort > 0, "\(first.listeningLine)")
        #expect(await first.stop(signal: SIGKILL) == .signal(SIGKILL))

        let second = try await DroverServer.start(
            home: home.url,
            arguments: ["--control-port", "\(controlPort)", "--dispatch-port", "\(dispatchPort)"])
        defer { second.terminate() }
        #expect(second.endpoint == first.endpoint && second.dispatchEndpoint == first.dispatchEndpoint)

        let three = try await second.awaitFlowRun(threeID, toBe: "COMPLETED")
        #expect(three.stateTypes == ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"], "\(three)")
        #expect(three.attempt == 1, "\(three)")
        let logs = try await second.flowRunLogs(threeID)
        #expect(logs.contains("| stdout | Flow run '\(three.name)' - slept"), "\(logs)")
        #expect(logs.lowercased().components(separatedBy: "started as pid").count - 1 == 1, "not run again:\n\(logs)")

        for id in quickIDs {
            let quick = try await second.awaitFlowRun(id, toBe: "COMPLETED")
            let pending = try #require(quick.firstTime(in: "PENDING"), "\(quick)")
            let threeEnd = try #require(three.endTime, "\(three)")
            #expect(pending >= threeEnd, "a scheduled run went out while the worker's one slot was taken:\n\(quick)\n\(three)")
            #expect(quick.workerName == "w1")
        }
        #expect(worker.stdout.components(separatedBy: "(\(threeID)) started as pid").count - 1 == 1, "\(worker.stdout)")

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await second.stop() == .exit(0))
    }
}
