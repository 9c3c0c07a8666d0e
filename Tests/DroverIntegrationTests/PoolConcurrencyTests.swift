import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A pool's concurrency limit holds under load: with four pools limited to one run each,
/// forty runs submitted at once all complete, and no pool ever has two runs in flight.
@Suite(.timeLimit(.minutes(2)))
struct PoolConcurrencyTests {
    static let pools = ["p1", "p2", "p3", "p4"]
    static let runsPerPool = 10

    @Test func fourPoolsLimitedToOneRunEachNeverOverlap() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        for pool in Self.pools {
            try await server.succeed("work-pool", "create", pool)
            try await server.succeed("work-pool", "set-concurrency-limit", pool, "1")
            try await server.succeed("deployment", "create", "sleep-\(pool)", "--pool", pool, "--command", "sleep 0.05")
        }
        var workers: [DroverWorkerProcess] = []
        defer { workers.forEach { $0.terminate() } }
        for pool in Self.pools {
            workers.append(try await DroverWorkerProcess.start(on: server, pool: pool, name: "w-\(pool)", arguments: ["--limit", "1"]))
        }

        // All forty at once: one submitter per pool, each creating its ten runs back to back.
        let idsByPool = try await withThrowingTaskGroup(of: (String, [String]).self) { group in
            for pool in Self.pools {
                group.addTask {
                    var ids: [String] = []
                    for _ in 0..<Self.runsPerPool { ids.append(try await server.runDeployment("sleep-\(pool)")) }
                    return (pool, ids)
                }
            }
            return try await group.reduce(into: [String: [String]]()) { $0[$1.0] = $1.1 }
        }

        for pool in Self.pools {
            let ids = try #require(idsByPool[pool])
            #expect(ids.count == Self.runsPerPool)
            var intervals: [(start: Date, end: Date, id: String)] = []
            for id in ids {
                let run = try await server.awaitFlowRun(id, toBe: "COMPLETED")
                #expect(run.workPoolName == pool)
                #expect(run.workerName == "w-\(pool)")
                let start = try #require(run.firstTime(in: "PENDING"), "\(run)")
                let end = try #require(run.endTime ?? run.firstTime(in: "COMPLETED"), "\(run)")
                intervals.append((start, end, id))
            }
            // In flight means PENDING or RUNNING: from first PENDING to the end. Sorted by
            // start, each run of the pool must start no earlier than the previous one ended.
            intervals.sort { $0.start < $1.start }
            for (previous, next) in zip(intervals, intervals.dropFirst()) {
                #expect(
                    next.start >= previous.end,
                    "pool \(pool): run \(next.id) went PENDING at \(next.start) before run \(previous.id) ended at \(previous.end)")
            }
        }

        for worker in workers {
            #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        }
        #expect(await server.stop() == .exit(0))
    }
}
