import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Which worker gets each run: among the connected workers of the run's pool that accept
/// runs, serve its queue and have credit, the one holding the fewest runs, the smallest
/// key among equals. A model of the fleet, kept from the actions the dispatcher returns,
/// judges every dispatch as the fleet stood just before it.
@Suite struct DispatcherChoiceTests {
    @Test(arguments: 1...30 as ClosedRange<UInt64>)
    func eachRunGoesToTheLeastLoadedWorkerThatCanTakeIt(seed: UInt64) {
        var fleet = ChoiceHarness(seed: seed)
        for step in 0..<1_500 {
            fleet.randomStep(step)
            if fleet.violations.count > 20 { break }
        }
        #expect(fleet.violations.isEmpty, "seed \(seed): \(fleet.violations.prefix(10))")
        #expect(fleet.dispatchCount > 100, "seed \(seed) dispatched only \(fleet.dispatchCount) runs")
        #expect(fleet.contestedCount > 0, "seed \(seed) never had two workers to choose from")
        #expect(fleet.tieCount > 0, "seed \(seed) never broke a tie by key")
    }

    /// A few unlimited workers whose loads climb high and fall back: the dispatcher's
    /// outdated candidate entries pile up past its rebuild threshold, and every choice
    /// must still be right before, during and after the rebuilds.
    @Test(arguments: 1...6 as ClosedRange<UInt64>)
    func choicesStayRightWhileLoadsClimbAndFall(seed: UInt64) {
        var fleet = ChoiceHarness(seed: seed, unlimitedWorkers: 2 + Int(seed % 4))
        var step = 0
        for key in fleet.keys {
            fleet.step = step
            fleet.connect(key)
            step += 1
        }
        for _ in 0..<4 {
            for (steps, adds) in [(120, 90), (150, 15)] as [(Int, UInt64)] {
                for _ in 0..<steps {
                    fleet.step = step
                    if fleet.chance(adds) { fleet.addRun() } else { fleet.finishRun() }
                    fleet.checkAfterStep()
                    step += 1
                }
            }
        }
        #expect(fleet.violations.isEmpty, "seed \(seed): \(fleet.violations.prefix(10))")
        #expect(fleet.tieCount > 0, "seed \(seed) never broke a tie by key")
    }
}

private struct ChoiceHarness {
    struct Queue {
        let id: UUID
        let pool: UUID
        let priority: UInt32
    }

    struct Profile {
        let pool: UUID
        /// nil: every queue of the pool.
        let queues: Set<UUID>?
        let limit: UInt32?
    }

    struct WorkerModel {
        var accepting = true
        var held: Set<UUID> = []
        var lastSeen: Date
    }

    struct RunModel {
        let queue: UUID
        let pool: UUID
        let sequence: Int
        /// False while waiting; in flight with `worker` nil once its worker is lost.
        var inFlight: Bool
        var worker: String?
    }

    static let timeout: TimeInterval = 30

    var random: SeededGenerator
    var dispatcher = Dispatcher(workerTimeout: timeout)
    var now = TestDates.at(0)
    let queues: [Queue]
    let profiles: [String: Profile]
    let keys: [String]
    var workers: [String: WorkerModel] = [:]
    var runs: [UUID: RunModel] = [:]
    var nextRun = 0
    var step = 0
    var violations: [String] = []
    var dispatchCount = 0
    /// Dispatches with more than one worker to choose from, and with a tie on load.
    var contestedCount = 0
    var tieCount = 0

    /// A random fleet; with `unlimitedWorkers`, one pool served whole by that many
    /// workers without limits.
    init(seed: UInt64, unlimitedWorkers: Int? = nil) {
        var random = SeededGenerator(state: seed)
        var queues: [Queue] = []
        var pools: [PoolRules] = []
        for poolIndex in 0..<(unlimitedWorkers == nil ? 1 + Int(random.next() % 2) : 1) {
            let poolID = Self.uuid(kind: 1, poolIndex)
            let count = 2 + Int(random.next() % 3)
            // Priorities in an order unlike the ids', so a queue's place is not its id's.
            var priorities = Array(1...UInt32(count))
            priorities.shuffle(using: &random)
            let rules = priorities.enumerated().map { index, priority in
                QueueRules(id: Self.uuid(kind: 2, poolIndex * 10 + index), priority: priority, isPaused: false, limit: nil)
            }
            queues += rules.map { Queue(id: $0.id, pool: poolID, priority: $0.priority) }
            pools.append(PoolRules(id: poolID, isPaused: false, limit: nil, queues: rules))
        }
        self.queues = queues
        // Some seeds have no unlimited workers, so runs wait for credit more often.
        let limits: [UInt32?] = unlimitedWorkers != nil ? [nil] : seed % 3 == 0 ? [1, 2, 4] : [nil, 1, 2, 4]
        var profiles: [String: Profile] = [:]
        let workerCount = unlimitedWorkers ?? 5 + Int(random.next() % 36)
        while profiles.count < workerCount {
            // Numbers of different widths, so string order is not numeric order.
            let key = "w\(random.next() % 300)"
            guard profiles[key] == nil else { continue }
            let pool = pools[Int(random.next() % UInt64(pools.count))]
            var served: Set<UUID>?
            if unlimitedWorkers == nil, random.next() % 100 < 40 {
                var chosen = Set(pool.queues.map(\.id).filter { _ in random.next() % 2 == 0 })
                if chosen.isEmpty { chosen.insert(pool.queues[Int(random.next() % UInt64(pool.queues.count))].id) }
                served = chosen
            }
            profiles[key] = Profile(pool: pool.id, queues: served, limit: limits[Int(random.next() % UInt64(limits.count))])
        }
        self.random = random
        self.profiles = profiles
        keys = profiles.keys.sorted()
        for pool in pools {
            let actions = dispatcher.setPool(pool)
            if !actions.isEmpty { violations.append("setPool with no runs returned \(actions)") }
        }
    }

    static func uuid(kind: Int, _ number: Int) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-0000-%04d-%012d", kind, number))!
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    var connectedKeys: [String] { workers.keys.sorted() }
    func runIDs(where matches: (RunModel) -> Bool) -> [UUID] {
        runs.filter { matches($0.value) }.sorted { $0.value.sequence < $1.value.sequence }.map(\.key)
    }

    // MARK: Steps

    /// Phases of filling and draining, so loads climb and fall rather than hover.
    var filling = false
    var phaseEnds = 0

    mutating func randomStep(_ step: Int) {
        self.step = step
        if step >= phaseEnds {
            filling.toggle()
            phaseEnds = step + 100 + Int(random.next() % 200)
        }
        let adds: UInt64 = filling ? 44 : 10
        switch random.next() % 100 {
        case 0..<adds: addRun()
        case adds..<54: finishRun()
        case 54..<56: cancelWaitingRun()
        case 56..<70: connect(pick(keys))
        case 70..<77: disconnect()
        case 77..<89: setAccepting()
        case 89..<95: seeWorker()
        default: tick(by: pick([0, 1, 5, 12]))
        }
        checkAfterStep()
    }

    mutating func addRun() {
        nextRun += 1
        let id = Self.uuid(kind: 3, nextRun)
        let queue = pick(queues)
        runs[id] = RunModel(queue: queue.id, pool: queue.pool, sequence: nextRun, inFlight: false, worker: nil)
        apply(dispatcher.addRun(id, pool: queue.pool, queue: queue.id, expectedStart: now, now: now), event: "addRun")
    }

    /// A run in flight finishes, on a worker or after its worker was lost.
    mutating func finishRun() {
        let inFlight = runIDs { $0.inFlight }
        guard !inFlight.isEmpty else { return }
        let id = pick(inFlight)
        if let key = runs.removeValue(forKey: id)?.worker { workers[key]?.held.remove(id) }
        apply(dispatcher.removeRun(id), event: "removeRun (finished)")
    }

    mutating func cancelWaitingRun() {
        let waiting = runIDs { !$0.inFlight }
        guard !waiting.isEmpty else { return }
        let id = pick(waiting)
        runs[id] = nil
        apply(dispatcher.removeRun(id), event: "removeRun (cancelled)")
    }

    /// A new worker, or one saying Hello again reporting all, some or none of its runs
    /// (and now and then a run it does not hold).
    mutating func connect(_ key: String) {
        let profile = profiles[key]!
        var reported: [UUID] = []
        if let held = workers[key]?.held.sorted(by: { runs[$0]!.sequence < runs[$1]!.sequence }) {
            switch random.next() % 3 {
            case 0: reported = []
            case 1: reported = held
            default: reported = held.filter { _ in chance(50) }
            }
        }
        let others = runIDs { $0.inFlight && $0.worker != key }
        if !others.isEmpty, chance(20) { reported.append(pick(others)) }
        let expectedClaims = reported.filter { runs[$0]?.worker == key }
        let dropped = runIDs { $0.worker == key }.filter { !expectedClaims.contains($0) }
        let wasConnected = workers[key] != nil
        for id in dropped { runs[id]?.worker = nil }
        workers[key] = WorkerModel(held: Set(expectedClaims), lastSeen: now)

        let result = dispatcher.workerConnected(
            key, pool: profile.pool, queues: profile.queues, limit: profile.limit, reportedRuns: reported, now: now)
        if result.claimed != expectedClaims {
            violations.append("step \(step): \(key) claimed \(result.claimed) reporting \(reported), expected \(expectedClaims)")
        }
        var actions = result.actions
        if wasConnected, !dropped.isEmpty {
            if actions.first == .workerLost(worker: key, runs: dropped) {
                actions.removeFirst()
            } else {
                violations.append("step \(step): \(key) reconnected dropping \(dropped), but actions were \(actions)")
            }
        }
        apply(actions, event: wasConnected ? "workerConnected (again)" : "workerConnected")
    }

    mutating func disconnect() {
        guard !connectedKeys.isEmpty else { return }
        let key = pick(connectedKeys)
        let actions = dispatcher.workerDisconnected(key)
        if actions.first.map({ if case .workerLost(key, _) = $0 { true } else { false } }) != true {
            violations.append("step \(step): \(key) disconnected, but actions were \(actions)")
        }
        apply(actions, event: "workerDisconnected")
    }

    mutating func setAccepting() {
        guard !connectedKeys.isEmpty else { return }
        let key = pick(connectedKeys)
        let accepting = chance(50)
        workers[key]?.accepting = accepting
        apply(dispatcher.setAccepting(key, accepting), event: "setAccepting(\(accepting))")
    }

    mutating func seeWorker() {
        guard !connectedKeys.isEmpty else { return }
        let key = pick(connectedKeys)
        workers[key]?.lastSeen = now
        dispatcher.workerSeen(key, now: now)
    }

    mutating func tick(by seconds: TimeInterval) {
        now = now.addingTimeInterval(seconds)
        let silent = workers.filter { now.timeIntervalSince($0.value.lastSeen) >= Self.timeout }.keys.sorted()
        let actions = dispatcher.tick(now: now)
        let lost = actions.compactMap { if case .workerLost(let key, _) = $0 { key } else { nil } }
        if lost != silent { violations.append("step \(step): tick lost \(lost), expected \(silent)") }
        apply(actions, event: "tick")
    }

    // MARK: The rule

    /// Whether `key` may take a run of `queue` now: connected, of the queue's pool,
    /// accepting, serving the queue, and with credit.
    func canTake(_ key: String, queue: UUID) -> Bool {
        guard let worker = workers[key], worker.accepting else { return false }
        let profile = profiles[key]!
        guard profile.pool == queues.first(where: { $0.id == queue })!.pool,
            profile.queues?.contains(queue) ?? true
        else { return false }
        return profile.limit.map { worker.held.count < Int($0) } ?? true
    }

    /// The workers that may take a run of `queue`, the one that should get it first.
    func eligible(for queue: UUID) -> [String] {
        connectedKeys.filter { canTake($0, queue: queue) }
            .sorted { (workers[$0]!.held.count, $0) < (workers[$1]!.held.count, $1) }
    }

    // MARK: Carrying out actions

    /// Applies the actions to the model one by one, judging each dispatch against the
    /// model as it stood just before it.
    mutating func apply(_ actions: [DispatchAction], event: String) {
        for action in actions {
            switch action {
            case .dispatch(let id, let key):
                check(dispatchOf: id, to: key, during: event)
                runs[id]?.inFlight = true
                runs[id]?.worker = key
                workers[key]?.held.insert(id)
                dispatchCount += 1
            case .workerLost(let key, let lost):
                let held = runIDs { $0.worker == key }
                if workers[key] == nil { violations.append("step \(step) \(event): lost \(key), which was not connected") }
                if lost != held { violations.append("step \(step) \(event): \(key) lost with \(lost), but held \(held)") }
                for id in held { runs[id]?.worker = nil }
                workers[key] = nil
            case .orphaned(let orphans):
                violations.append("step \(step) \(event): orphaned \(orphans) though nothing was restored")
            }
        }
    }

    mutating func check(dispatchOf id: UUID, to key: String, during event: String) {
        let prefix = "step \(step) \(event): run \(number(of: id)) to \(key)"
        guard let run = runs[id], !run.inFlight else {
            violations.append("\(prefix): the run was not waiting")
            return
        }
        let candidates = eligible(for: run.queue)
        guard let expected = candidates.first else {
            violations.append("\(prefix): no worker could take it")
            return
        }
        if key != expected {
            let loads = candidates.prefix(6).map { "\($0)=\(workers[$0]!.held.count)" }
            let chosen = workers[key].map { "holds \($0.held.count), may take: \(canTake(key, queue: run.queue))" } ?? "not connected"
            violations.append("\(prefix) (\(chosen)): expected \(expected); eligible by load \(loads)")
        }
        if candidates.count > 1 {
            contestedCount += 1
            if workers[candidates[0]]!.held.count == workers[candidates[1]]!.held.count { tieCount += 1 }
        }
        // Runs by arrival within a queue (all are due at once), queues by priority.
        let first = runIDs { !$0.inFlight && $0.queue == run.queue }.first
        if first != id { violations.append("\(prefix): run \(first.map { number(of: $0) } ?? -1) of the queue is older") }
        let priority = queues.first { $0.id == run.queue }!.priority
        for queue in queues where queue.pool == run.pool && queue.priority < priority {
            if runs.values.contains(where: { !$0.inFlight && $0.queue == queue.id }), !eligible(for: queue.id).isEmpty {
                violations.append("\(prefix): queue of priority \(queue.priority) could go first")
            }
        }
    }

    /// The run's number, for readable failures.
    func number(of id: UUID) -> Int { runs[id]?.sequence ?? -1 }

    // MARK: After each step

    mutating func checkAfterStep() {
        let prefix = "after step \(step)"
        for key in keys {
            let held = workers[key]?.held.count ?? 0
            if dispatcher.activeRuns(of: key) != held {
                violations.append("\(prefix): \(key) holds \(dispatcher.activeRuns(of: key)), model \(held)")
            }
            if dispatcher.isConnected(key) != (workers[key] != nil) {
                violations.append("\(prefix): \(key) connected: \(dispatcher.isConnected(key)), model \(workers[key] != nil)")
            }
            if let limit = profiles[key]!.limit, held > Int(limit) {
                violations.append("\(prefix): \(key) holds \(held) of \(limit)")
            }
        }
        for (id, run) in runs where dispatcher.worker(holding: id) != run.worker {
            violations.append(
                "\(prefix): run \(run.sequence) held by \(dispatcher.worker(holding: id) ?? "nobody"), model \(run.worker ?? "nobody")")
        }
        for queue in queues where runs.values.contains(where: { !$0.inFlight && $0.queue == queue.id }) {
            if let idle = eligible(for: queue.id).first {
                violations.append("\(prefix): a run of queue \(queue.priority) waits though \(idle) could take it")
            }
        }
        let deadline = workers.values.map { $0.lastSeen.addingTimeInterval(Self.timeout) }.min()
        if dispatcher.nextDeadline() != deadline {
            violations.append(
                "\(prefix): next deadline \(String(describing: dispatcher.nextDeadline())), model \(String(describing: deadline))")
        }
    }
}
