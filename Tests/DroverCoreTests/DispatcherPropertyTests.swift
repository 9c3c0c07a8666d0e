import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Random event sequences against a model the test keeps from the actions it sees: no
/// limit is ever exceeded, nothing is sent that may not go, nothing waits that could go,
/// and no run is lost.
@Suite struct DispatcherPropertyTests {
    @Test(arguments: 1...24)
    func limitsHoldAndNothingIsLostUnderRandomEvents(seed: UInt64) {
        var harness = DispatchHarness(seed: seed)
        for step in 0..<400 {
            harness.randomEvent(step: step)
            if harness.violations.count > 20 { break }
        }
        harness.drainEverything()
        #expect(harness.violations.isEmpty, "seed \(seed): \(harness.violations.prefix(10))")
        #expect(harness.dispatchCount > 0, "seed \(seed) never dispatched: the test exercised nothing")
    }
}

private struct DispatchHarness {
    enum Phase: Equatable {
        case notDue
        case waiting
        case inFlight(worker: String?)
    }

    struct RunModel {
        let pool: UUID
        let queue: UUID
        let start: Date
        var phase: Phase
    }

    struct WorkerModel {
        let pool: UUID
        let queues: Set<UUID>?
        let limit: UInt32?
        var accepting = true
        var lastSeen: Date
    }

    static let timeout: TimeInterval = 8
    static let workerKeys = (0..<6).map { "w\($0)" }

    var random: SeededGenerator
    var dispatcher = Dispatcher(workerTimeout: timeout)
    var now = TestDates.at(0)
    var pools: [UUID: PoolRules] = [:]
    let poolIDs: [UUID]
    var runs: [UUID: RunModel] = [:]
    var workers: [String: WorkerModel] = [:]
    var nextRunNumber = 0
    var dispatchCount = 0
    var violations: [String] = []
    var step = 0

    init(seed: UInt64) {
        random = SeededGenerator(state: seed)
        var ids: [UUID] = []
        for index in 0..<3 {
            let queues = (1...3).map { priority in
                queueRules(priority: UInt32(priority), id: Self.uuid(kind: 1, index * 10 + priority))
            }
            let rules = poolRules(id: Self.uuid(kind: 2, index), queues: queues)
            ids.append(rules.id)
            pools[rules.id] = rules
        }
        poolIDs = ids
        for id in poolIDs { apply(dispatcher.setPool(pools[id]!)) }
    }

    static func uuid(kind: Int, _ number: Int) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-0000-%04d-%012d", kind, number))!
    }

    // MARK: Random choices

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    var connectedKeys: [String] { workers.keys.sorted() }

    // MARK: Events

    mutating func randomEvent(step: Int) {
        self.step = step
        let roll = random.next() % 100
        switch roll {
        case 0..<30: addRun()
        case 30..<42: removeRun()
        case 42..<48: addAgain()
        case 48..<60: connectWorker()
        case 60..<66: disconnectWorker()
        case 66..<76: changePool()
        case 76..<88: tick(by: pick([0, 0.5, 1, 2, 3]))
        case 88..<95: seeWorker()
        default: setAccepting()
        }
        checkInvariants()
    }

    mutating func addRun(due: Bool? = nil) {
        nextRunNumber += 1
        let id = Self.uuid(kind: 3, nextRunNumber)
        let pool = pick(poolIDs)
        let queue = pick(pools[pool]!.queues).id
        let offset: Double = due == true ? 0 : pick([-5, -1, 0, 0, 0, 2, 5])
        let start = now.addingTimeInterval(offset)
        runs[id] = RunModel(pool: pool, queue: queue, start: start, phase: start <= now ? .waiting : .notDue)
        apply(dispatcher.addRun(id, pool: pool, queue: queue, expectedStart: start, now: now), event: "addRun")
    }

    mutating func removeRun() {
        let ids = runs.keys.sorted { $0.uuidString < $1.uuidString }
        guard !ids.isEmpty else { return }
        let id = pick(ids)
        runs[id] = nil
        apply(dispatcher.removeRun(id), event: "removeRun")
    }

    /// Removes a run and adds it again under the same id, as a retry or a requeue does.
    mutating func addAgain() {
        let ids = runs.keys.sorted { $0.uuidString < $1.uuidString }
        guard !ids.isEmpty else { return }
        let id = pick(ids)
        let old = runs.removeValue(forKey: id)!
        apply(dispatcher.removeRun(id), event: "removeRun before adding again")
        let start = now.addingTimeInterval(pick([-3, 0, 0, 1, 4]))
        runs[id] = RunModel(pool: old.pool, queue: old.queue, start: start, phase: start <= now ? .waiting : .notDue)
        apply(dispatcher.addRun(id, pool: old.pool, queue: old.queue, expectedStart: start, now: now), event: "addRun again")
    }

    mutating func connectWorker() {
        let free = Self.workerKeys.filter { workers[$0] == nil }
        guard !free.isEmpty else { return }
        let key = pick(free)
        let pool = pick(poolIDs)
        var queues: Set<UUID>?
        if chance(50) {
            let all = pools[pool]!.queues.map(\.id)
            var chosen = Set(all.filter { _ in chance(50) })
            if chosen.isEmpty { chosen.insert(pick(all)) }
            queues = chosen
        }
        let limit: UInt32? = pick([nil, 1, 1, 2, 3])
        workers[key] = WorkerModel(pool: pool, queues: queues, limit: limit, lastSeen: now)
        let result = dispatcher.workerConnected(key, pool: pool, queues: queues, limit: limit, reportedRuns: [], now: now)
        if !result.claimed.isEmpty { violations.append("step \(step): \(key) claimed \(result.claimed) reporting nothing") }
        apply(result.actions, event: "workerConnected")
    }

    mutating func disconnectWorker() {
        guard !connectedKeys.isEmpty else { return }
        let key = pick(connectedKeys)
        apply(dispatcher.workerDisconnected(key), event: "workerDisconnected")
        if workers[key] != nil { violations.append("step \(step): \(key) disconnected but not reported lost") }
    }

    mutating func changePool() {
        let id = pick(poolIDs)
        let old = pools[id]!
        // Never below what is in flight now, so "never more than the limit" is the dispatcher's to keep.
        let inPool = inFlight { $0.pool == id }
        let poolLimit: UInt32? = pick([nil, 0, 1, 2, 3, 4] as [UInt32?]).map { max($0, UInt32(inPool)) }
        let queues = old.queues.map { queue in
            let inQueue = inFlight { $0.queue == queue.id }
            let limit: UInt32? = pick([nil, nil, 0, 1, 2] as [UInt32?]).map { max($0, UInt32(inQueue)) }
            return queue.with(paused: chance(20), limit: .some(limit))
        }
        let rules = old.with(paused: chance(25), limit: .some(poolLimit), queues: queues)
        pools[id] = rules
        apply(dispatcher.setPool(rules), event: "setPool")
    }

    mutating func tick(by seconds: Double) {
        now = now.addingTimeInterval(seconds)
        for (id, run) in runs where run.phase == .notDue && run.start <= now { runs[id]?.phase = .waiting }
        let silent = workers.filter { now.timeIntervalSince($0.value.lastSeen) >= Self.timeout }.keys.sorted()
        let actions = dispatcher.tick(now: now)
        let lost = actions.compactMap { if case .workerLost(let worker, _) = $0 { worker } else { nil } }.sorted()
        if lost != silent { violations.append("step \(step): tick lost \(lost), expected \(silent)") }
        apply(actions, event: "tick")
    }

    mutating func seeWorker() {
        guard !connectedKeys.isEmpty else { return }
        let key = pick(connectedKeys)
        workers[key]?.lastSeen = now
        dispatcher.workerSeen(key, now: now)
    }

    mutating func setAccepting() {
        guard !connectedKeys.isEmpty else { return }
        let key = pick(connectedKeys)
        let accepting = chance(60)
        workers[key]?.accepting = accepting
        apply(dispatcher.setAccepting(key, accepting), event: "setAccepting")
    }

    /// Lets every run go: old workers time out, pools open, one unlimited worker per pool.
    mutating func drainEverything() {
        tick(by: 1000)
        for id in poolIDs {
            let open = pools[id]!.with(
                paused: false, limit: .some(nil), queues: pools[id]!.queues.map { $0.with(paused: false, limit: .some(nil)) })
            pools[id] = open
            apply(dispatcher.setPool(open), event: "final setPool")
        }
        for (index, id) in poolIDs.enumerated() {
            let key = "final-\(index)"
            workers[key] = WorkerModel(pool: id, queues: nil, limit: nil, lastSeen: now)
            apply(
                dispatcher.workerConnected(key, pool: id, queues: nil, limit: nil, reportedRuns: [], now: now).actions,
                event: "final workerConnected")
        }
        tick(by: 0)
        checkInvariants()
        let left = runs.filter { if case .inFlight = $0.value.phase { false } else { true } }
        if !left.isEmpty {
            violations.append("runs never dispatched though everything is open: \(left.keys.sorted { $0.uuidString < $1.uuidString })")
        }
    }

    // MARK: Carrying out actions, and checking them

    /// Applies actions to the model in order, checking each dispatch against the rules as
    /// they stood at that moment; lost runs are then decided as the coordinator would:
    /// removed, and half of them added again (requeued).
    mutating func apply(_ actions: [DispatchAction], event: String = "decision") {
        var decisions: [UUID] = []
        for action in actions {
            switch action {
            case .dispatch(let id, let key):
                check(dispatchOf: id, to: key, during: event)
                runs[id]?.phase = .inFlight(worker: key)
                dispatchCount += 1
            case .workerLost(let key, let lost):
                let held = runs.filter { $0.value.phase == .inFlight(worker: key) }.keys
                if Set(lost) != Set(held) || lost.count != Set(lost).count {
                    violations.append("step \(step) \(event): \(key) lost with \(lost), but held \(Array(held))")
                }
                if workers.removeValue(forKey: key) == nil {
                    violations.append("step \(step) \(event): lost worker \(key) was not connected")
                }
                for id in lost { runs[id]?.phase = .inFlight(worker: nil) }
                decisions += lost
            case .orphaned(let orphans):
                violations.append("step \(step) \(event): orphaned \(orphans) though nothing was restored")
            }
        }
        for id in decisions {
            guard let run = runs.removeValue(forKey: id) else { continue }
            apply(dispatcher.removeRun(id), event: "removeRun after loss")
            if chance(50) {
                runs[id] = RunModel(pool: run.pool, queue: run.queue, start: run.start, phase: .waiting)
                apply(
                    dispatcher.addRun(id, pool: run.pool, queue: run.queue, expectedStart: run.start, now: now),
                    event: "requeue after loss")
            }
        }
    }

    func inFlight(where matches: (RunModel) -> Bool) -> Int {
        runs.values.filter { run in
            if case .inFlight = run.phase { matches(run) } else { false }
        }.count
    }

    func load(of key: String) -> Int { inFlight { $0.phase == .inFlight(worker: key) } }

    mutating func check(dispatchOf id: UUID, to key: String, during event: String) {
        let prefix = "step \(step) \(event): run \(id) to \(key)"
        guard let run = runs[id] else {
            violations.append("\(prefix): the run was removed or never added")
            return
        }
        if run.phase != .waiting { violations.append("\(prefix): the run was \(run.phase), not waiting") }
        guard let worker = workers[key] else {
            violations.append("\(prefix): no such worker")
            return
        }
        if worker.pool != run.pool { violations.append("\(prefix): worker of another pool") }
        if let queues = worker.queues, !queues.contains(run.queue) { violations.append("\(prefix): worker does not serve the queue") }
        if !worker.accepting { violations.append("\(prefix): worker is not accepting") }
        if let limit = worker.limit, load(of: key) >= Int(limit) {
            violations.append("\(prefix): worker already holds \(load(of: key)) of \(limit)")
        }
        let pool = pools[run.pool]!
        let queue = pool.queues.first { $0.id == run.queue }!
        if pool.isPaused { violations.append("\(prefix): pool paused") }
        if queue.isPaused { violations.append("\(prefix): queue paused") }
        let inPool = inFlight { $0.pool == run.pool }
        if let limit = pool.limit, inPool >= Int(limit) { violations.append("\(prefix): pool has \(inPool) of \(limit)") }
        let inQueue = inFlight { $0.queue == run.queue }
        if let limit = queue.limit, inQueue >= Int(limit) { violations.append("\(prefix): queue has \(inQueue) of \(limit)") }
    }

    /// Whether `run` could go to `key` under the rules now.
    func could(_ run: RunModel, goTo key: String) -> Bool {
        guard let worker = workers[key], worker.pool == run.pool, worker.accepting,
            worker.queues?.contains(run.queue) ?? true, worker.limit.map({ load(of: key) < Int($0) }) ?? true
        else { return false }
        let pool = pools[run.pool]!
        let queue = pool.queues.first { $0.id == run.queue }!
        return !pool.isPaused && !queue.isPaused
            && pool.limit.map { inFlight { $0.pool == run.pool } < Int($0) } ?? true
            && queue.limit.map { inFlight { $0.queue == run.queue } < Int($0) } ?? true
    }

    mutating func checkInvariants() {
        let prefix = "after step \(step)"
        for id in poolIDs {
            let pool = pools[id]!
            let count = inFlight { $0.pool == id }
            if dispatcher.activeRuns(inPool: id) != count {
                violations.append("\(prefix): dispatcher counts \(dispatcher.activeRuns(inPool: id)) in pool, model \(count)")
            }
            if let limit = pool.limit, count > Int(limit) { violations.append("\(prefix): pool has \(count) of \(limit)") }
            for queue in pool.queues {
                let inQueue = inFlight { $0.queue == queue.id }
                if let limit = queue.limit, inQueue > Int(limit) {
                    violations.append("\(prefix): queue \(queue.priority) has \(inQueue) of \(limit)")
                }
            }
            if dispatcher.connectedWorkers(inPool: id) != workers.values.filter({ $0.pool == id }).count {
                violations.append("\(prefix): connected workers differ")
            }
        }
        for key in Self.workerKeys + poolIDs.indices.map({ "final-\($0)" }) {
            if dispatcher.isConnected(key) != (workers[key] != nil) { violations.append("\(prefix): \(key) connected differs") }
            if dispatcher.activeRuns(of: key) != load(of: key) {
                violations.append("\(prefix): \(key) holds \(dispatcher.activeRuns(of: key)), model \(load(of: key))")
            }
            if let limit = workers[key]?.limit, load(of: key) > Int(limit) { violations.append("\(prefix): \(key) over its limit") }
        }
        for (id, run) in runs {
            let holder: String? = if case .inFlight(let worker) = run.phase { worker } else { nil }
            if dispatcher.worker(holding: id) != holder {
                violations.append("\(prefix): \(id) held by \(dispatcher.worker(holding: id) ?? "nobody"), model \(holder ?? "nobody")")
            }
            if run.phase == .waiting, let key = connectedKeys.first(where: { could(run, goTo: $0) }) {
                violations.append("\(prefix): \(id) waits though \(key) could take it")
            }
        }
        let earliest =
            (runs.values.filter { $0.phase == .notDue }.map(\.start)
            + workers.values.map { $0.lastSeen.addingTimeInterval(Self.timeout) }).min()
        if let earliest {
            if let deadline = dispatcher.nextDeadline() {
                if deadline > earliest { violations.append("\(prefix): next deadline \(deadline) after \(earliest)") }
            } else {
                violations.append("\(prefix): no next deadline, though \(earliest) is due")
            }
        }
    }
}
