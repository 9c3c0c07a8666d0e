import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs under concurrency limits, with the real binaries: the tutorial's section 4
/// (a server-wide limit over four pools), slots freed when a worker or a server dies,
/// and limits reached from inside a run.
@Suite(.timeLimit(.minutes(3)))
struct RunLimitTests {
    /// Four users, four pools of limit 1, four workers of limit 1, and a global limit of 1
    /// that applies to every run: at most one run is PENDING or RUNNING at any instant,
    /// and every run completes.
    @Test func aServerWideLimitLetsOneRunGoAtATimeAcrossFourPools() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("concurrency-limit", "create", "global_limit", "1", "--all-runs")
        // Runs hold their slot until the gate file appears, so the others must wait for it.
        let gate = home.url.appendingPathComponent("gate").path
        let gated = "for i in $(seq 600); do [ -e '\(gate)' ] && exit 0; sleep 0.05; done; exit 1"
        let users = ["a", "b", "c", "d"]
        var workers: [DroverWorkerProcess] = []
        defer { for worker in workers { worker.terminate() } }
        for user in users {
            try await server.succeed("work-pool", "create", "user\(user)-pool", "--type", "process")
            try await server.succeed("work-pool", "set-concurrency-limit", "user\(user)-pool", "1")
            try await server.succeed(
                "deployment", "create", "job-\(user)", "--pool", "user\(user)-pool", "--command", gated)
            workers.append(
                try await DroverWorkerProcess.start(
                    on: server, pool: "user\(user)-pool", name: "user\(user)-worker", arguments: ["--limit", "1"]))
        }
        var ids: [String] = []
        for _ in 0..<2 {
            for user in users { ids.append(try await server.runDeployment("job-\(user)")) }
        }
        // The first run holds the slot; the next waits for it, and says so.
        _ = try await server.awaitFlowRun(ids[0], toBe: "RUNNING")
        _ = try await server.awaitFlowRun(ids[1], "waiting for the slot") {
            $0.history.contains { $0.name == "AwaitingConcurrencySlot" }
        }
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))

        var runs: [FlowRunRecord] = []
        for id in ids { runs.append(try await server.awaitTerminal(id, seconds: 60)) }
        #expect(runs.allSatisfy { $0.state == "COMPLETED" }, "\(runs)")
        // From the moment a run went PENDING until it ended, no other run did.
        let spans = runs.compactMap { run -> (start: Date, end: Date)? in
            guard let pending = run.firstTime(in: "PENDING"), let end = run.endTime else { return nil }
            return (pending, end)
        }.sorted { $0.start < $1.start }
        #expect(spans.count == ids.count)
        for (earlier, later) in zip(spans, spans.dropFirst()) {
            #expect(later.start >= earlier.end, "runs overlapped: \(spans)")
        }
        // Runs that had to wait said so.
        #expect(runs.contains { $0.history.contains { $0.name == "AwaitingConcurrencySlot" } })
        let limit = try JSON.object(try await server.output("concurrency-limit", "inspect", "global_limit", "-o", "json"))
        #expect((limit["active_slots"] as? Int ?? 0) == 0, "\(limit)")
        for worker in workers { #expect(await worker.stop(signal: SIGINT) == .exit(0)) }
        #expect(await server.stop() == .exit(0))
    }

    /// A worker SIGKILLed mid-run: once the server gives up on it (three heartbeat
    /// intervals), its run crashes and the slot goes to the run waiting for it.
    @Test func aKilledWorkersSlotGoesToTheNextRun() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(
            home: home.url,
            arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--heartbeat-interval", "0.5"])
        defer { server.terminate() }
        try await server.succeed("concurrency-limit", "create", "db", "1")
        try await server.succeed("work-pool", "create", "p1")
        try await server.succeed("work-pool", "create", "p2")
        try await server.succeed("deployment", "create", "long", "--pool", "p1", "--command", "sleep 30", "--tag", "db")
        try await server.succeed("deployment", "create", "quick", "--pool", "p2", "--command", "true", "--tag", "db")
        let doomed = try await DroverWorkerProcess.start(on: server, pool: "p1", name: "w1")
        defer { doomed.terminate() }
        let survivor = try await DroverWorkerProcess.start(on: server, pool: "p2", name: "w2")
        defer { survivor.terminate() }

        let longID = try await server.runDeployment("long")
        let running = try await server.awaitFlowRun(longID, toBe: "RUNNING")
        let group = try #require(running.startedPID, "\(running)")
        defer { ProcessGroup.kill(group) }
        let quickID = try await server.runDeployment("quick")
        let waiting = try await server.awaitFlowRun(quickID, "waiting for the slot") {
            $0.history.last?.name == "AwaitingConcurrencySlot"
        }
        #expect(waiting.state == "SCHEDULED")

        #expect(await doomed.stop(signal: SIGKILL) == .signal(SIGKILL))
        #expect(try await server.awaitFlowRun(longID, toBe: "CRASHED").state == "CRASHED")
        let quick = try await server.awaitFlowRun(quickID, toBe: "COMPLETED")
        #expect(quick.workerName == "w2")
        #expect(await survivor.stop(signal: SIGINT) == .exit(0))
        #expect(await server.stop() == .exit(0))
    }

    /// Two servers share a standalone limit service. SIGKILL one while its run holds the
    /// only slot: the lease is not renewed, expires after its TTL, and the other server's
    /// waiting run gets the slot.
    @Test func aKilledServersLeasesExpireOnASharedLimitService() async throws {
        let limitsHome = try TemporaryDirectory()
        let limits = try await LimitServiceProcess.start(home: limitsHome.url)
        defer { limits.terminate() }
        let shared = ["--control-port", "0", "--dispatch-port", "0", "--limit-service", limits.endpoint, "--run-lease-ttl", "3"]
        let firstHome = try TemporaryDirectory()
        let first = try await DroverServer.start(home: firstHome.url, arguments: shared)
        defer { first.terminate() }
        let secondHome = try TemporaryDirectory()
        let second = try await DroverServer.start(home: secondHome.url, arguments: shared)
        defer { second.terminate() }
        #expect(first.limitsEndpoint == limits.endpoint)

        try await first.succeed("gcl", "create", "fleet", "--limit", "1", "--all-runs")
        for server in [first, second] {
            try await server.succeed("work-pool", "create", "pool")
            try await server.succeed("deployment", "create", "long", "--pool", "pool", "--command", "sleep 30")
        }
        let firstWorker = try await DroverWorkerProcess.start(on: first, pool: "pool", name: "w1")
        defer { firstWorker.terminate() }
        let secondWorker = try await DroverWorkerProcess.start(on: second, pool: "pool", name: "w2")
        defer { secondWorker.terminate() }

        let held = try await first.runDeployment("long")
        let running = try await first.awaitFlowRun(held, toBe: "RUNNING")
        let group = try #require(running.startedPID)
        defer { ProcessGroup.kill(group) }
        let blocked = try await second.runDeployment("long")
        _ = try await second.awaitFlowRun(blocked, "waiting for the slot") {
            $0.history.last?.name == "AwaitingConcurrencySlot"
        }

        #expect(await first.stop(signal: SIGKILL) == .signal(SIGKILL))
        let started = try await second.awaitFlowRun(blocked, toBe: "RUNNING", seconds: 30)
        let startedGroup = try #require(started.startedPID)
        defer { ProcessGroup.kill(startedGroup) }
        let fleet = try JSON.object(
            try await second.output("gcl", "inspect", "fleet", "-o", "json"))
        let holders = (fleet["leases"] as? [[String: Any]] ?? []).compactMap { $0["holder"] as? String }
        #expect(holders == ["flow-run/\(blocked)"], "\(fleet)")
        #expect(await limits.stop() == .exit(0))
    }

    /// A run's command holds a slot with `drover concurrency acquire`: the worker tells it
    /// where the limit service is.
    @Test func aRunTakesASlotFromInside() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("gcl", "create", "api", "--limit", "1")
        try await server.succeed("work-pool", "create", "pool")
        let command = "'\(DroverBinary.url.path)' concurrency acquire api -- sh -c 'echo holding $DROVER_FLOW_RUN_ID'"
        try await server.succeed("deployment", "create", "inner", "--pool", "pool", "--command", command)
        let worker = try await DroverWorkerProcess.start(on: server, pool: "pool", name: "w1")
        defer { worker.terminate() }

        let id = try await server.runDeployment("inner")
        let run = try await server.awaitTerminal(id)
        let logs = try await server.flowRunLogs(id)
        #expect(run.state == "COMPLETED", "\(run)\n\(logs)")
        #expect(logs.contains("holding \(id)"), "\(logs)")
        let api = try JSON.object(try await server.output("gcl", "inspect", "api", "-o", "json"))
        #expect((api["active_slots"] as? Int ?? 0) == 0, "the slot was released: \(api)")
        #expect(await worker.stop(signal: SIGINT) == .exit(0))
        #expect(await server.stop() == .exit(0))
    }
}

/// `drover limit-service start` as a child process, ready once it printed its endpoint.
final class LimitServiceProcess: Sendable {
    let endpoint: String
    private let child: ChildProcess

    private init(endpoint: String, child: ChildProcess) {
        self.endpoint = endpoint
        self.child = child
    }

    static func start(home: URL, sourceLocation: SourceLocation = #_sourceLocation) async throws -> LimitServiceProcess {
        let ready = Latch()
        let line = LockedValue<String?>(nil)
        let child = try ChildProcess(
            executable: DroverBinary.url, arguments: ["limit-service", "start", "--home", home.path, "--port", "0"],
            environment: DroverBinary.baseEnvironment(),
            onStdoutLine: { text in
                if text.contains("listening on "), line.set(ifNil: text) { ready.open() }
            },
            onStdoutEnd: { ready.open() })
        _ = await onOwnThread { ready.wait(seconds: 30) }
        guard let text = line.value, let start = text.range(of: "listening on ")?.upperBound else {
            child.killAndReap()
            Issue.record("drover limit-service did not start:\n\(child.stderr)", sourceLocation: sourceLocation)
            throw ServerStartFailure()
        }
        return LimitServiceProcess(endpoint: String(text[start...].prefix { !$0.isWhitespace }), child: child)
    }

    /// Sends `signal` and waits (bounded) for the service to exit.
    func stop(signal: Int32 = SIGTERM) async -> ProcessExit {
        let child = self.child
        await onOwnThread {
            child.send(signal)
            _ = child.waitForExit(seconds: 15)
            child.killAndReap()
        }
        return child.exit
    }

    func terminate() { child.killAndReap() }
}
