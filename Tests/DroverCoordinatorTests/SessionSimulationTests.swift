import DroverClient
import DroverCore
import DroverProto
import DroverTestSupport
import DroverWire
import Foundation
import Testing

@testable import DroverCoordinator

/// Real workers' sessions (`WorkerSession`) against the real `Coordinator`, over a simulated
/// network that loses what was in flight when the server dies, and replays to the new server
/// what was still queued on a worker's connection, as ZeroMQ does. Each seed plays thousands
/// of random steps: messages delivered one at a time, processes ending, time passing, runs
/// created, and the server killed — at every point of a run's life, with reports in flight,
/// and while runs end with no server to hear of it — and started again over the same store.
///
/// Checked at every step: no attempt's process starts twice, and no worker has more
/// processes alive than its limit. Checked at the end, once the network is quiet: every run
/// is finished, every report was acknowledged, and each COMPLETED run completed under the
/// attempt that a worker really ran to exit 0.
@Suite struct SessionSimulationTests {
    @Test(arguments: 1...12)
    func restartsAtEveryStepLoseNothingAndRunNothingTwice(seed: UInt64) throws {
        var simulation = try Simulation(seed: seed)
        try simulation.play(steps: 2_500)
        try simulation.settle()
        simulation.check()
        print("seed \(seed): \(simulation.summary())")
    }

    /// Workers that stall past the server's patience (as under SIGSTOP) while their processes
    /// run on: the server gives their runs up, and when a worker wakes its old reports are
    /// fenced, its old attempts stopped, and runs sent to it meanwhile wait for its limit.
    @Test(arguments: 1...6)
    func stalledWorkersAreFencedAndKeepTheirLimit(seed: UInt64) throws {
        var simulation = try Simulation(seed: seed, stalls: true)
        try simulation.play(steps: 2_500)
        try simulation.settle()
        simulation.check()
        print("seed \(seed) with stalls: \(simulation.summary())")
    }

    /// A server killed with short runs in flight, as in the issue that found the restart
    /// storm: one restart, then every Hello is answered once and no session is refused twice.
    @Test func aRestartWithShortRunsInFlightCostsOneHelloPerWorker() throws {
        var simulation = try Simulation(seed: 99, restartPercent: 0, downPercent: 0)
        for _ in 0..<12 { simulation.createRun() }
        try simulation.play(steps: 40)
        simulation.crashServer()
        try simulation.restartServer()
        try simulation.settle()
        simulation.check()
        #expect(simulation.hellosAfterLastRestart <= simulation.workers.count, "\(simulation.hellosAfterLastRestart) Hellos")
    }
}

/// One simulated world: a coordinator, three workers over two pools, and a network.
private struct Simulation {
    struct Worker {
        let identity: WorkerIdentity
        var session: WorkerSession
        /// Messages on the worker's connection toward the server, oldest first.
        var toServer: [Drover_V1_WorkerMessage] = []
        var toWorker: [Drover_V1_CoordinatorMessage] = []
        /// Its processes and the steps each has left; a terminated one ends by signal.
        var processes: [RunAttempt: (steps: Int, terminated: Bool)] = [:]
        var hellos = 0
        /// Steps left in a stall: it reads nothing and its clock does not move it.
        var stalledSteps = 0
    }

    var rng: SeededGenerator
    var harness: CoordinatorHarness
    var workers: [Worker]
    var serverDownSteps = 0
    let clock: ManualClock
    let base = ContinuousClock.now
    var elapsed: Duration = .zero
    let restartPercent: UInt64
    let downPercent: UInt64
    let stalls: Bool
    var runs: [String] = []
    var startedEver: Set<RunAttempt> = []
    /// Attempts whose process exited 0, and the worker that ran each.
    var completedBy: [RunAttempt: String] = [:]
    var restarts = 0
    var hellosAfterLastRestart = 0

    init(seed: UInt64, restartPercent: UInt64 = 1, downPercent: UInt64 = 1, stalls: Bool = false) throws {
        self.stalls = stalls
        rng = SeededGenerator(state: seed)
        self.restartPercent = restartPercent
        self.downPercent = downPercent
        clock = ManualClock()
        harness = try CoordinatorHarness(clock: clock)
        harness.createPool("alpha", limit: 2)
        harness.createPool("beta")
        harness.createDeployment("a", pool: "alpha")
        harness.createDeployment("b", pool: "beta")
        workers = []
        for (id, pool, limit) in [("w-a1", "alpha", UInt32(1)), ("w-a2", "alpha", 2), ("w-b1", "beta", 1)] {
            var settings = WorkerSession.Settings(limit: limit)
            settings.connectTimeout = .seconds(3600)
            let identity = WorkerIdentity(
                workerID: id, poolName: pool, name: id, queueNames: [], limit: limit, host: "sim", pid: 1, type: "process",
                createPoolIfNotFound: false)
            workers.append(Worker(identity: identity, session: WorkerSession(settings: settings, now: base, seed: seed)))
        }
        for index in workers.indices { try perform(index, workers[index].session.tick(now: now)) }
    }

    var now: ContinuousClock.Instant { base + elapsed }
    var serverUp: Bool { serverDownSteps == 0 }

    mutating func roll(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
    mutating func pick(_ count: Int) -> Int { Int(rng.next() % UInt64(count)) }

    // MARK: Playing

    mutating func play(steps: Int) throws {
        for _ in 0..<steps {
            if serverDownSteps > 0 {
                serverDownSteps -= 1
                if serverDownSteps == 0 { try restartServer() }
            }
            let dice = rng.next() % 100
            switch dice {
            case 0..<33: try deliverToServer()
            case 33..<63: try deliverToWorker()
            case 63..<78: try stepProcess()
            case 78..<92: try advance(by: .milliseconds(100))
            case 92..<94: createRun()
            default:
                if serverUp && roll(restartPercent * 15) {
                    crashServer()
                    if roll(50) { try restartServer() } else { serverDownSteps = 20 + pick(200) }
                } else if serverUp && roll(downPercent * 15) {
                    // Time jumps, as on a loaded machine.
                    try advance(by: .milliseconds(500))
                } else if stalls && roll(10) {
                    // Long enough, often, for the server to give the worker up (3 × 2 s).
                    workers[pick(workers.count)].stalledSteps = 200 + pick(800)
                }
            }
        }
    }

    /// No more faults: deliver, end processes and let time pass until every run is over.
    mutating func settle() throws {
        if !serverUp { try restartServer() }
        for index in workers.indices { workers[index].stalledSteps = 0 }
        for _ in 0..<20_000 {
            let busy = workers.contains { !$0.toServer.isEmpty || !$0.toWorker.isEmpty || !$0.processes.isEmpty }
            if !busy && workers.allSatisfy({ $0.session.unacknowledgedCount == 0 }) && allRunsFinished() { return }
            try deliverToServer()
            try deliverToWorker()
            try stepProcess()
            if rng.next() % 4 == 0 { try advance(by: .milliseconds(100)) }
        }
        Issue.record("the simulation did not settle: \(summary())")
    }

    mutating func allRunsFinished() -> Bool {
        runs.allSatisfy { id in StateType(wire: harness.flowRun(id).stateType)?.isTerminal ?? false }
    }

    mutating func createRun() {
        guard runs.count < 40, serverUp else { return }
        runs.append(harness.runDeployment(roll(50) ? "a" : "b").id)
        route((try? harness.takeOutbox()) ?? [])
    }

    mutating func crashServer() {
        restarts += 1
        // What the server had not read is lost with it, except what was still queued on the
        // workers' side of each connection: libzmq sends that to the next server.
        for index in workers.indices {
            workers[index].toServer.removeFirst(pick(workers[index].toServer.count + 1))
            workers[index].toWorker.removeAll()
        }
        serverDownSteps = 1
    }

    mutating func restartServer() throws {
        serverDownSteps = 0
        harness = try harness.restarted()
        hellosAfterLastRestart = 0
        route(try harness.takeOutbox())
    }

    mutating func advance(by duration: Duration) throws {
        elapsed += duration
        if serverUp {
            route(try harness.advance(by: Double(duration.components.attoseconds) / 1e18 + Double(duration.components.seconds)))
        } else {
            clock.advance(by: Double(duration.components.attoseconds) / 1e18 + Double(duration.components.seconds))
        }
        for index in workers.indices {
            if workers[index].stalledSteps > 0 {
                workers[index].stalledSteps = max(0, workers[index].stalledSteps - 10)
                continue
            }
            try perform(index, workers[index].session.tick(now: now))
        }
    }

    // MARK: The network

    mutating func deliverToServer() throws {
        guard serverUp else { return }
        let ready = workers.indices.filter { !workers[$0].toServer.isEmpty }
        guard !ready.isEmpty else { return }
        let index = ready[pick(ready.count)]
        let message = workers[index].toServer.removeFirst()
        if case .hello? = message.kind {
            workers[index].hellos += 1
            hellosAfterLastRestart += 1
        }
        try harness.coordinator.handle(worker: workers[index].identity.workerID, message)
        route(try harness.takeOutbox())
    }

    mutating func route(_ outbox: [Outgoing]) {
        for (worker, message) in outbox {
            guard let index = workers.firstIndex(where: { $0.identity.workerID == worker }) else { continue }
            workers[index].toWorker.append(message)
        }
    }

    mutating func deliverToWorker() throws {
        let ready = workers.indices.filter { !workers[$0].toWorker.isEmpty && workers[$0].stalledSteps == 0 }
        guard !ready.isEmpty else { return }
        let index = ready[pick(ready.count)]
        let message = workers[index].toWorker.removeFirst()
        guard let incoming = WorkerSession.Incoming(message) else { return }
        try perform(
            index, workers[index].session.received(incoming, session: message.session, acknowledged: message.acknowledged, now: now))
    }

    // MARK: The workers' processes

    mutating func stepProcess() throws {
        let busy = workers.indices.filter { !workers[$0].processes.isEmpty && workers[$0].stalledSteps == 0 }
        guard !busy.isEmpty else { return }
        let index = busy[pick(busy.count)]
        let run = workers[index].processes.keys.sorted()[pick(workers[index].processes.count)]
        workers[index].processes[run]!.steps -= 1
        guard workers[index].processes[run]!.steps <= 0 else {
            if roll(30) { try perform(index, workers[index].session.log(run, .stdout, "tick", at: clock.now)) }
            return
        }
        let terminated = workers[index].processes.removeValue(forKey: run)!.terminated
        if !terminated { completedBy[run] = workers[index].identity.workerID }
        try perform(index, workers[index].session.processEnded(run, terminated ? .signaled(signal: 15) : .exited(code: 0), at: clock.now))
    }

    mutating func perform(_ index: Int, _ actions: [WorkerSession.Action]) throws {
        for action in actions {
            switch action {
            case .send(let outgoing):
                let message = Drover_V1_WorkerMessage(
                    outgoing, identity: workers[index].identity, assignedName: workers[index].session.name)
                // A DEALER queues at most its high-water mark while nobody listens.
                if workers[index].toServer.count < 1000 {
                    workers[index].toServer.append(message)
                } else {
                    workers[index].session.sendFailed(outgoing, now: now)
                }
            case .reconnect:
                workers[index].toServer.removeAll()
                workers[index].toWorker.removeAll()
            case .start(let run):
                #expect(startedEver.insert(run).inserted, "attempt \(run) started twice")
                workers[index].processes[run] = (steps: 1 + pick(30), terminated: false)
                if let limit = workers[index].identity.limit {
                    #expect(
                        workers[index].processes.count <= Int(limit),
                        "\(workers[index].identity.workerID) runs \(workers[index].processes.count) processes, limit \(limit)")
                }
                try perform(index, workers[index].session.processStarted(run, pid: 100, at: clock.now))
            case .terminate(let run, _):
                if workers[index].processes[run] != nil { workers[index].processes[run] = (steps: 1, terminated: true) }
            case .giveUp(let error):
                Issue.record("\(workers[index].identity.workerID) gave up: \(error.message)")
            case .overCapacity(let run):
                Issue.record("\(workers[index].identity.workerID) was sent \(run) beyond its limit")
            case .discard, .welcomed, .lostServer, .refused, .droppedLines, .leave:
                break
            }
        }
    }

    // MARK: Checking

    mutating func check() {
        for id in runs {
            let run = harness.flowRun(id)
            let type = StateType(wire: run.stateType)
            #expect(type?.isTerminal == true, "run \(id) ended \(run.stateType): \(summary())")
            // Processes here never crash and workers never die: without stalls, a CRASHED run
            // is one the server wrongly took for lost.
            if !stalls { #expect(type != .crashed, "run \(id) CRASHED: \(run.stateHistory.map(\.message))") }
            if type == .completed, let uuid = UUID(uuidString: id) {
                let attempt = RunAttempt(uuid, attempt: run.attempt)
                #expect(completedBy[attempt] != nil, "run \(id) COMPLETED under attempt \(run.attempt), which no worker ran to exit 0")
                #expect(
                    completedBy[attempt] == run.workerName,
                    "run \(id) completed by \(completedBy[attempt] ?? "nobody"), recorded \(run.workerName)")
            }
        }
        for worker in workers {
            #expect(worker.session.unacknowledgedCount == 0, "\(worker.identity.workerID) has unacknowledged reports")
        }
    }

    mutating func summary() -> String {
        var states: [String: Int] = [:]
        for id in runs { states["\(harness.flowRun(id).stateType)", default: 0] += 1 }
        return "restarts \(restarts), runs \(runs.count) \(states.sorted { $0.key < $1.key }), hellos \(workers.map(\.hellos))"
    }
}
