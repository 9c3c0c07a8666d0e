import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Which run goes out, and when: a pool's queues are served in priority order, and a
/// paused pool hands out nothing until it is resumed.
@Suite(.timeLimit(.minutes(2)))
struct DispatchOrderTests {
    @Test func higherPriorityQueuesGoFirst() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "ranked")
        try await server.succeed("work-queue", "create", "high", "--pool", "ranked", "--priority", "1")
        try await server.succeed("work-queue", "create", "low", "--pool", "ranked", "--priority", "2")
        try await server.succeed("deployment", "create", "urgent", "--pool", "ranked", "--queue", "high", "--command", "true")
        try await server.succeed("deployment", "create", "routine", "--pool", "ranked", "--queue", "low", "--command", "true")

        // No worker yet: all six wait, the low ones created first.
        var low: [String] = []
        var high: [String] = []
        for _ in 0..<3 { low.append(try await server.runDeployment("routine")) }
        for _ in 0..<3 { high.append(try await server.runDeployment("urgent")) }

        let worker = try await DroverWorkerProcess.start(on: server, pool: "ranked", name: "w1", arguments: ["--limit", "1"])
        defer { worker.terminate() }
        var pendingAt: [String: Date] = [:]
        for id in low + high {
            let run = try await server.awaitFlowRun(id, toBe: "COMPLETED")
            let pending: Date = try #require(run.firstTime(in: "PENDING"), "\(run)")
            pendingAt[id] = pending
        }
        let order = (low + high).sorted { pendingAt[$0]! < pendingAt[$1]! }
        #expect(Set(order.prefix(3)) == Set(high), "high runs \(high) should go before low runs \(low); went out as \(order)")
        #expect(Set(order.suffix(3)) == Set(low))

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    @Test func aPausedPoolHoldsItsRunsUntilResumed() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "held")
        try await server.succeed("deployment", "create", "job", "--pool", "held", "--command", "true")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "held", name: "w1")
        defer { worker.terminate() }
        try await server.succeed("work-pool", "pause", "held")

        let id = try await server.runDeployment("job")
        #expect(try await server.flowRun(id).stateTypes == ["SCHEDULED"])
        // Other requests come and go; the run still waits.
        #expect(try await server.pool("held")["status"] as? String == "PAUSED")
        try await server.succeed("work-pool", "ls")
        #expect(try await server.flowRun(id).stateTypes == ["SCHEDULED"])
        #expect(!worker.stdout.contains(id), "\(worker.stdout)")

        try await server.succeed("work-pool", "resume", "held")
        let run = try await server.awaitFlowRun(id, toBe: "COMPLETED")
        #expect(run.workerName == "w1")

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await server.stop() == .exit(0))
    }
}
