import Foundation

/// Decides which run goes to which worker, and when: the pure core of push dispatch.
///
/// Events go in (`addRun`, `workerConnected`, `removeRun`, `tick`, …) and each returns
/// the `DispatchAction`s to carry out; there is no I/O and no clock of its own, so it is
/// tested with plain dates. A run is sent only when all hold: it is due; its pool and
/// queue are not paused; the pool's and queue's limits have room; and a worker of the
/// pool that serves its queue has credit (its limit minus the runs it holds). Within a
/// pool, queues go by priority, then runs by expected start, then arrival; among workers
/// with credit, the least loaded goes first. A run that cannot go waits, and goes the
/// moment an event clears the way: there is no polling.
public struct Dispatcher: Sendable {
    /// A worker silent for this long is lost.
    public let workerTimeout: TimeInterval

    private var pools: [UUID: PoolState] = [:]
    /// Connected workers by slot; a slot is reused once its worker is gone.
    private var workers: [WorkerState?] = []
    /// The slot of each connected worker, by key.
    private var workerSlots: [String: Int] = [:]
    private var freeWorkerSlots: [Int] = []
    /// Connected workers' slots, the one seen longest ago first.
    private var bySilence = RecencyList()
    /// The last version handed to a candidate entry; never reused, so a reused slot cannot
    /// revive an old entry.
    private var lastOffer: UInt64 = 0
    private var runs: [UUID: RunState] = [:]
    private var notYetDue = MinHeap<RunTicket>()
    private var nextSequence: UInt64 = 0
    private var orphanDeadline: Date?

    public init(workerTimeout: TimeInterval) {
        self.workerTimeout = workerTimeout
    }

    // MARK: State

    private struct QueueState: Sendable {
        var rules: QueueRules
        var waiting = MinHeap<RunTicket>()
        var active = 0
    }

    private struct PoolState: Sendable {
        var id: UUID
        var isPaused: Bool
        var limit: UInt32?
        /// By priority, first first.
        var queues: [QueueState]
        var active = 0
        /// Slots of the pool's connected workers.
        var workers: Set<Int> = []
        /// Its workers with credit, least loaded first: an entry stands until its worker's
        /// load or credit changes, which offers the worker again with a new version.
        var candidates = MinHeap<Candidate>()
    }

    /// A worker with credit, as its pool's candidates hold it.
    private struct Candidate: Comparable, Sendable {
        let load: Int
        let key: String
        let slot: Int
        /// Matches the worker's `offered` while the entry stands.
        let version: UInt64

        static func < (lhs: Candidate, rhs: Candidate) -> Bool { (lhs.load, lhs.key) < (rhs.load, rhs.key) }
        static func == (lhs: Candidate, rhs: Candidate) -> Bool { lhs.slot == rhs.slot && lhs.version == rhs.version }
    }

    private struct WorkerState: Sendable {
        let key: String
        let poolID: UUID
        /// nil: every queue of the pool.
        let queueIDs: Set<UUID>?
        let limit: UInt32?
        var accepting = true
        var inFlight: Set<UUID> = []
        /// The version of its current candidate entry.
        var offered: UInt64 = 0
        var lastSeen: Date

        var credit: Int {
            guard accepting else { return 0 }
            guard let limit else { return Int.max }
            return max(0, Int(limit) - inFlight.count)
        }

        func serves(_ queue: UUID) -> Bool { queueIDs?.contains(queue) ?? true }
    }

    private enum Phase: Sendable, Equatable {
        case notDue
        case waiting
        /// Counted against its pool and queue; the worker is nil until one claims it after a restart.
        case inFlight(worker: String?)
    }

    private struct RunState: Sendable {
        let poolID: UUID
        let queueID: UUID
        let ticket: RunTicket
        var phase: Phase
        /// Restored at start and not yet claimed: reported orphaned at the deadline.
        var awaitingClaim = false
    }

    // MARK: Reading

    /// The earliest moment `tick` has work to do: a run falls due, a worker may have
    /// timed out, or unclaimed runs become orphans.
    public func nextDeadline() -> Date? {
        var deadline = notYetDue.first?.due
        if let slot = bySilence.oldest, let oldest = workers[slot]?.lastSeen {
            deadline = min(deadline ?? .distantFuture, oldest.addingTimeInterval(workerTimeout))
        }
        if let orphanDeadline { deadline = min(deadline ?? .distantFuture, orphanDeadline) }
        return deadline
    }

    /// How many runs `worker` holds now.
    public func activeRuns(of worker: String) -> Int { self.worker(worker)?.inFlight.count ?? 0 }

    /// How many runs of `pool` are in flight.
    public func activeRuns(inPool pool: UUID) -> Int { pools[pool]?.active ?? 0 }

    /// Whether the worker is known and connected.
    public func isConnected(_ worker: String) -> Bool { workerSlots[worker] != nil }

    /// How many connected workers serve `pool`.
    public func connectedWorkers(inPool pool: UUID) -> Int { pools[pool]?.workers.count ?? 0 }

    /// The worker holding `run`, if it is in flight on a known worker.
    public func worker(holding run: UUID) -> String? {
        if case .inFlight(let worker)? = runs[run]?.phase { return worker }
        return nil
    }

    // MARK: Pools and queues

    /// Sets or replaces a pool's rules; runs already waiting keep their places.
    public mutating func setPool(_ rules: PoolRules) -> [DispatchAction] {
        let isNew = pools[rules.id] == nil
        var state = pools[rules.id] ?? PoolState(id: rules.id, isPaused: rules.isPaused, limit: rules.limit, queues: [])
        if isNew {
            // Workers that said Hello before their pool was known belong to it now.
            state.workers = Set(workers.indices.filter { workers[$0]?.poolID == rules.id })
        }
        state.isPaused = rules.isPaused
        state.limit = rules.limit
        let old = Dictionary(uniqueKeysWithValues: state.queues.map { ($0.rules.id, $0) })
        state.queues = rules.queues.sorted { $0.priority < $1.priority }.map { queue in
            var existing = old[queue.id] ?? QueueState(rules: queue)
            existing.rules = queue
            return existing
        }
        pools[rules.id] = state
        if isNew {
            for slot in state.workers { offer(slot) }
        }
        return dispatch(pool: rules.id)
    }

    /// Forgets a pool; the caller makes sure it holds no runs.
    public mutating func removePool(_ id: UUID) {
        pools[id] = nil
    }

    // MARK: Runs

    /// A SCHEDULED run: it goes as soon as it is due and the rules allow.
    public mutating func addRun(
        _ id: UUID, pool: UUID, queue: UUID, expectedStart: Date, now: Date
    ) -> [DispatchAction] {
        nextSequence += 1
        let ticket = RunTicket(due: expectedStart, sequence: nextSequence, runID: id)
        let due = expectedStart <= now
        runs[id] = RunState(poolID: pool, queueID: queue, ticket: ticket, phase: due ? .waiting : .notDue)
        if due {
            enqueue(ticket, pool: pool, queue: queue)
            return dispatch(pool: pool)
        }
        notYetDue.insert(ticket)
        return []
    }

    /// A run that was in flight when the coordinator stopped: it holds its slots until a
    /// worker claims it in `workerConnected`, or it is reported orphaned after `grace`.
    public mutating func restoreInFlightRun(_ id: UUID, pool: UUID, queue: UUID, now: Date, grace: TimeInterval) {
        nextSequence += 1
        runs[id] = RunState(
            poolID: pool, queueID: queue, ticket: RunTicket(due: now, sequence: nextSequence, runID: id),
            phase: .inFlight(worker: nil), awaitingClaim: true)
        count(pool: pool, queue: queue, by: 1)
        orphanDeadline = orphanDeadline ?? now.addingTimeInterval(grace)
    }

    /// The run left the dispatcher's hands (finished, cancelled, deleted): frees its slots.
    public mutating func removeRun(_ id: UUID) -> [DispatchAction] {
        guard let run = runs.removeValue(forKey: id) else { return [] }
        if case .inFlight(let worker) = run.phase {
            count(pool: run.poolID, queue: run.queueID, by: -1)
            if let worker, let slot = workerSlots[worker] {
                workers[slot]?.inFlight.remove(id)
                offer(slot)
            }
        }
        // Waiting and not-yet-due tickets are skipped lazily when they reach the front.
        return dispatch(pool: run.poolID)
    }

    // MARK: Workers

    /// A worker said Hello. Runs it reports and that were in flight unclaimed (after a
    /// restart) become its own; returns the claimed runs and the resulting actions.
    public mutating func workerConnected(
        _ key: String, pool: UUID, queues: Set<UUID>?, limit: UInt32?, reportedRuns: [UUID], now: Date
    ) -> (claimed: [UUID], actions: [DispatchAction]) {
        // A worker saying Hello again (a new connection, or after a server hiccup) keeps
        // the runs it reports; the ones it no longer reports are lost.
        let previous = removeWorker(key)
        var worker = WorkerState(key: key, poolID: pool, queueIDs: queues, limit: limit, lastSeen: now)
        var claimed: [UUID] = []
        for id in reportedRuns {
            guard let run = runs[id], run.poolID == pool, case .inFlight(let holder) = run.phase,
                holder == key || (holder == nil && run.awaitingClaim)
            else { continue }
            runs[id]?.phase = .inFlight(worker: key)
            runs[id]?.awaitingClaim = false
            worker.inFlight.insert(id)
            claimed.append(id)
        }
        var actions: [DispatchAction] = []
        if let previous {
            let dropped = previous.inFlight.subtracting(claimed)
                .sorted { (runs[$0]?.ticket.sequence ?? 0) < (runs[$1]?.ticket.sequence ?? 0) }
            for id in dropped { runs[id]?.phase = .inFlight(worker: nil) }
            if !dropped.isEmpty { actions.append(.workerLost(worker: key, runs: dropped)) }
        }
        let slot = freeWorkerSlots.popLast() ?? workers.count
        if slot == workers.count { workers.append(nil) }
        workers[slot] = worker
        workerSlots[key] = slot
        bySilence.touch(slot)
        pools[pool]?.workers.insert(slot)
        offer(slot)
        return (claimed, actions + dispatch(pool: pool))
    }

    /// Any message from the worker proves it alive.
    public mutating func workerSeen(_ key: String, now: Date) {
        guard let slot = workerSlots[key] else { return }
        workers[slot]?.lastSeen = now
        bySilence.touch(slot)
    }

    /// The worker stopped (false) or resumed (true) taking new runs.
    public mutating func setAccepting(_ key: String, _ accepting: Bool) -> [DispatchAction] {
        guard let slot = workerSlots[key], let pool = workers[slot]?.poolID else { return [] }
        workers[slot]?.accepting = accepting
        offer(slot)
        return accepting ? dispatch(pool: pool) : []
    }

    /// The worker left or its connection failed: its runs need a decision.
    public mutating func workerDisconnected(_ key: String) -> [DispatchAction] {
        guard let pool = worker(key)?.poolID else { return [] }
        return workerLost(key) + dispatch(pool: pool)
    }

    private mutating func workerLost(_ key: String) -> [DispatchAction] {
        guard let worker = removeWorker(key) else { return [] }
        let held = worker.inFlight.sorted { (runs[$0]?.ticket.sequence ?? 0) < (runs[$1]?.ticket.sequence ?? 0) }
        for id in held { runs[id]?.phase = .inFlight(worker: nil) }
        return [.workerLost(worker: key, runs: held)]
    }

    // MARK: Time

    /// Moves due runs into their queues, and reports silent workers and orphaned runs.
    public mutating func tick(now: Date) -> [DispatchAction] {
        var actions: [DispatchAction] = []
        var poolsToDispatch: Set<UUID> = []
        while let ticket = notYetDue.first, ticket.due <= now {
            notYetDue.removeFirst()
            guard let run = runs[ticket.runID], run.phase == .notDue, run.ticket == ticket else { continue }
            runs[ticket.runID]?.phase = .waiting
            enqueue(ticket, pool: run.poolID, queue: run.queueID)
            poolsToDispatch.insert(run.poolID)
        }
        let silent = workers.compactMap { worker in
            worker.flatMap { now.timeIntervalSince($0.lastSeen) >= workerTimeout ? ($0.key, $0.poolID) : nil }
        }.sorted { $0.0 < $1.0 }
        for (key, pool) in silent {
            poolsToDispatch.insert(pool)
            actions += workerLost(key)
        }
        if let deadline = orphanDeadline, deadline <= now {
            orphanDeadline = nil
            let orphans = runs.filter { $0.value.awaitingClaim && $0.value.phase == .inFlight(worker: nil) }
                .sorted { $0.value.ticket.sequence < $1.value.ticket.sequence }.map(\.key)
            if !orphans.isEmpty { actions.append(.orphaned(runs: orphans)) }
        }
        for pool in poolsToDispatch.sorted(by: { $0.uuidString < $1.uuidString }) {
            actions += dispatch(pool: pool)
        }
        return actions
    }

    // MARK: Dispatching

    private mutating func enqueue(_ ticket: RunTicket, pool: UUID, queue: UUID) {
        guard let index = pools[pool]?.queues.firstIndex(where: { $0.rules.id == queue }) else { return }
        pools[pool]!.queues[index].waiting.insert(ticket)
    }

    private mutating func count(pool: UUID, queue: UUID, by delta: Int) {
        guard let index = pools[pool]?.queues.firstIndex(where: { $0.rules.id == queue }) else {
            pools[pool]?.active += delta
            return
        }
        pools[pool]!.active += delta
        pools[pool]!.queues[index].active += delta
    }

    /// Sends every run of `pool` that can go now.
    private mutating func dispatch(pool id: UUID) -> [DispatchAction] {
        // Taken out of the dictionary while it changes, so its queues are changed in place
        // rather than copied.
        guard var pool = pools.removeValue(forKey: id) else { return [] }
        defer { pools[id] = pool }
        var actions: [DispatchAction] = []
        while !pool.isPaused, pool.limit.map({ pool.active < Int($0) }) ?? true {
            var sent = false
            for index in pool.queues.indices {
                let rules = pool.queues[index].rules
                guard !rules.isPaused, rules.limit.map({ pool.queues[index].active < Int($0) }) ?? true else { continue }
                guard let ticket = nextWaiting(in: &pool.queues[index]) else { continue }
                guard let slot = leastLoadedWorker(in: &pool, serving: rules.id) else { continue }
                pool.queues[index].waiting.removeFirst()
                pool.queues[index].active += 1
                pool.active += 1
                let worker = workers[slot]!.key
                runs[ticket.runID]?.phase = .inFlight(worker: worker)
                workers[slot]!.inFlight.insert(ticket.runID)
                offer(slot, in: &pool)
                actions.append(.dispatch(run: ticket.runID, worker: worker))
                sent = true
                break
            }
            if !sent { break }
        }
        return actions
    }

    /// The first ticket of `queue` that still stands for a waiting run, dropping stale ones.
    private func nextWaiting(in queue: inout QueueState) -> RunTicket? {
        while let ticket = queue.waiting.first {
            if let run = runs[ticket.runID], run.phase == .waiting, run.ticket == ticket { return ticket }
            queue.waiting.removeFirst()
        }
        return nil
    }

    /// The slot of the worker with credit that holds the fewest runs, by key among equals,
    /// from the pool's candidates; stale entries are dropped on the way.
    private func leastLoadedWorker(in pool: inout PoolState, serving queue: UUID) -> Int? {
        var elsewhere: [Candidate] = []
        defer { for candidate in elsewhere { pool.candidates.insert(candidate) } }
        while let candidate = pool.candidates.first {
            guard let worker = workers[candidate.slot], worker.offered == candidate.version, worker.credit > 0 else {
                pool.candidates.removeFirst()
                continue
            }
            guard worker.serves(queue) else {
                elsewhere.append(pool.candidates.removeFirst()!)
                continue
            }
            // It stays on top: the assignment offers the worker again, which makes it stale.
            return candidate.slot
        }
        return nil
    }

    /// Offers a worker to its pool again after its load or credit changed: earlier entries
    /// go stale, and a worker with credit gets a new one.
    private mutating func offer(_ slot: Int) {
        guard let pool = workers[slot]?.poolID, var state = pools.removeValue(forKey: pool) else {
            workers[slot]?.offered = 0
            return
        }
        offer(slot, in: &state)
        pools[pool] = state
    }

    private mutating func offer(_ slot: Int, in pool: inout PoolState) {
        guard workers[slot] != nil else { return }
        lastOffer += 1
        workers[slot]!.offered = lastOffer
        let worker = workers[slot]!
        if worker.credit > 0 {
            pool.candidates.insert(
                Candidate(load: worker.inFlight.count, key: worker.key, slot: slot, version: lastOffer))
        }
        // Stale entries sink out of reach while loads stay low: rebuild now and then.
        if pool.candidates.count > 2 * pool.workers.count + 64 {
            var fresh = MinHeap<Candidate>()
            for slot in pool.workers {
                guard let worker = workers[slot], worker.credit > 0 else { continue }
                fresh.insert(Candidate(load: worker.inFlight.count, key: worker.key, slot: slot, version: worker.offered))
            }
            pool.candidates = fresh
        }
    }

    // MARK: Worker slots

    private func worker(_ key: String) -> WorkerState? {
        workerSlots[key].flatMap { workers[$0] }
    }

    /// Forgets a worker and frees its slot; returns what it was.
    private mutating func removeWorker(_ key: String) -> WorkerState? {
        guard let slot = workerSlots.removeValue(forKey: key), let worker = workers[slot] else { return nil }
        workers[slot] = nil
        bySilence.remove(slot)
        freeWorkerSlots.append(slot)
        pools[worker.poolID]?.workers.remove(slot)
        return worker
    }
}
