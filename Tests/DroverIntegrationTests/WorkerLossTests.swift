import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A worker killed with SIGKILL: the server notices at once that its connection closed
/// (or, were it hung, its silence: heartbeat 0.5 s, lost after three), crashes its running
/// run, shows it OFFLINE, and hands work it never started to another worker.
@Suite(.timeLimit(.minutes(2)))
struct WorkerLossTests {
    @Test func aKilledWorkersRunCrashesAndItsQueuedWorkGoesToAnotherWorker() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(
            home: home.url, arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--heartbeat-interval", "0.5"])
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "lossy")
        try await server.succeed("deployment", "create", "long", "--pool", "lossy", "--command", "sleep 30")
        try await server.succeed("deployment", "create", "quick", "--pool", "lossy", "--command", "true")

        let first = try await DroverWorkerProcess.start(on: server, pool: "lossy", name: "w1", arguments: ["--limit", "1"])
        defer { first.terminate() }
        let longID = try await server.runDeployment("long")
        let running = try await server.awaitFlowRun(longID, toBe: "RUNNING")
        let group = try #require(running.startedPID, "\(running)")
        // A SIGKILLed worker cannot clean up; should its run outlive it, the test does.
        defer { ProcessGroup.kill(group) }
        // w1's one slot is taken: this run waits.
        let quickID = try await server.runDeployment("quick")

        #expect(await first.stop(signal: SIGKILL) == .signal(SIGKILL))

        let crashed = try await server.awaitFlowRun(longID, toBe: "CRASHED")
        #expect(crashed.workerName == "w1")
        #expect(crashed.history.last?.message == "Crashed: its worker stopped responding.", "\(crashed)")
        let w1 = try #require(element(named: "w1", in: try await server.workers(pool: "lossy")))
        #expect(w1["status"] as? String == "OFFLINE", "\(w1)")
        #expect(try await server.flowRun(quickID).stateTypes == ["SCHEDULED"])

        // The run's processes die with their worker: nothing of `sleep 30` is left.
        #expect(
            await ProcessGroup.awaitEmpty(group, seconds: 10),
            "pids \(ProcessGroup.livingMembers(of: group)) of the crashed run still run")

        let second = try await DroverWorkerProcess.start(on: server, pool: "lossy", name: "w2", arguments: ["--limit", "1"])
        defer { second.terminate() }
        let quick = try await server.awaitFlowRun(quickID, toBe: "COMPLETED")
        #expect(quick.workerName == "w2")
        #expect(try await server.flowRun(longID).state == "CRASHED", "a crashed run stays crashed")
        #expect(await second.stop(signal: SIGINT) == .exit(0))
        #expect(await server.stop() == .exit(0))
    }

    /// With heartbeats 30 s apart (silence would take 90 s to notice), a killed worker's
    /// run is CRASHED within the guard: its closed connection is what the server noticed.
    @Test func aKilledWorkerIsLostWhenItsConnectionClosesNotAfterItsHeartbeats() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(
            home: home.url, arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--heartbeat-interval", "30"])
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "sudden")
        try await server.succeed("deployment", "create", "long", "--pool", "sudden", "--command", "sleep 30")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "sudden", name: "w1", arguments: ["--limit", "1"])
        defer { worker.terminate() }
        let id = try await server.runDeployment("long")
        let running = try await server.awaitFlowRun(id, toBe: "RUNNING")
        let group = try #require(running.startedPID, "\(running)")
        defer { ProcessGroup.kill(group) }

        #expect(await worker.stop(signal: SIGKILL) == .signal(SIGKILL))
        let crashed = try await server.awaitFlowRun(id, toBe: "CRASHED", seconds: 20)
        #expect(crashed.workerName == "w1")
        let w1 = try #require(element(named: "w1", in: try await server.workers(pool: "sudden")))
        #expect(w1["status"] as? String == "OFFLINE", "\(w1)")
        #expect(server.stderr.contains("a worker's connection closed"), "\(server.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    /// A hung worker keeps its connection open: heartbeats catch it. Woken, it is told its
    /// run is over and says Hello again; the run stays CRASHED and is not run again by it.
    @Test func aStoppedWorkerIsLostByItsSilenceAndItsRunIsNotTakenBack() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(
            home: home.url, arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--heartbeat-interval", "0.5"])
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "hung")
        try await server.succeed("deployment", "create", "long", "--pool", "hung", "--command", "sleep 30")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "hung", name: "w1", arguments: ["--limit", "1"])
        defer { worker.terminate() }
        let id = try await server.runDeployment("long")
        let running = try await server.awaitFlowRun(id, toBe: "RUNNING")
        let group = try #require(running.startedPID, "\(running)")
        defer { ProcessGroup.kill(group) }

        worker.send(SIGSTOP)
        let crashed = try await server.awaitFlowRun(id, toBe: "CRASHED", seconds: 20)
        #expect(crashed.history.last?.message == "Crashed: its worker stopped responding.", "\(crashed)")
        worker.send(SIGCONT)
        try await server.awaitWorker("w1", pool: "hung", status: "ONLINE")
        // Told at its Hello that the run is no longer its own, it stops the process.
        #expect(
            await ProcessGroup.awaitEmpty(group, seconds: 20),
            "pids \(ProcessGroup.livingMembers(of: group)) of the crashed run still run")
        #expect(try await server.flowRun(id).state == "CRASHED")
        #expect(try await server.flowRun(id).attempt == 1, "not run again")
        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    /// A run that starts the moment its worker connects and prints nothing for a while: only
    /// heartbeats tell the server the worker lives, from the first interval on.
    @Test func aYoungWorkersSilentRunIsNotTakenForLost() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(
            home: home.url, arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--heartbeat-interval", "0.5"])
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "young")
        try await server.succeed("deployment", "create", "silent", "--pool", "young", "--command", "sleep 2.5")
        let id = try await server.runDeployment("silent")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "young", name: "w1")
        defer { worker.terminate() }

        let run = try await server.awaitTerminal(id)
        #expect(run.state == "COMPLETED", "\(run)")
        #expect(!worker.stdout.contains("Lost the server"), "\(worker.stdout)")
        #expect(try await server.workers(pool: "young").first?["status"] as? String == "ONLINE")
        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await server.stop() == .exit(0))
    }
}
