import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Rules of a queue, for dispatcher tests.
func queueRules(priority: UInt32 = 1, paused: Bool = false, limit: UInt32? = nil, id: UUID = UUID()) -> QueueRules {
    QueueRules(id: id, priority: priority, isPaused: paused, limit: limit)
}

/// Rules of a pool with the given queues (one unlimited queue when none are given).
func poolRules(
    id: UUID = UUID(), paused: Bool = false, limit: UInt32? = nil, queues: [QueueRules] = [queueRules()]
) -> PoolRules {
    PoolRules(id: id, isPaused: paused, limit: limit, queues: queues)
}

extension PoolRules {
    /// The same pool with some rules changed.
    func with(paused: Bool? = nil, limit: UInt32?? = nil, queues: [QueueRules]? = nil) -> PoolRules {
        PoolRules(id: id, isPaused: paused ?? isPaused, limit: limit ?? self.limit, queues: queues ?? self.queues)
    }
}

extension QueueRules {
    /// The same queue with some rules changed.
    func with(paused: Bool? = nil, limit: UInt32?? = nil) -> QueueRules {
        QueueRules(id: id, priority: priority, isPaused: paused ?? isPaused, limit: limit ?? self.limit)
    }
}

/// The runs sent, in order.
func dispatchedRuns(_ actions: [DispatchAction]) -> [UUID] {
    actions.compactMap { if case .dispatch(let run, _) = $0 { run } else { nil } }
}

/// Run ids that sort in creation order, for readable failures.
func runIDs(_ count: Int) -> [UUID] {
    (0..<count).map { UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", $0 + 1))! }
}

/// The dispatcher's decisions with plain dates: no I/O, no clock of its own.
@Suite struct DispatcherTests {
    let pool = poolRules()
    var queue: UUID { pool.queues[0].id }

    // MARK: Due runs

    @Test func aDueRunGoesToAWorkerWithCreditExactlyOnce() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        #expect(dispatcher.setPool(pool).isEmpty)
        let connected = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0))
        #expect(connected.claimed.isEmpty)
        #expect(connected.actions.isEmpty)

        let run = UUID()
        let actions = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(1))
        #expect(actions == [.dispatch(run: run, worker: "w1")])
        #expect(dispatcher.worker(holding: run) == "w1")
        #expect(dispatcher.activeRuns(of: "w1") == 1)
        #expect(dispatcher.activeRuns(inPool: pool.id) == 1)

        // Nothing sends it a second time.
        #expect(dispatcher.tick(now: TestDates.at(2)).isEmpty)
        #expect(dispatcher.setPool(pool).isEmpty)
        #expect(dispatcher.setAccepting("w1", true).isEmpty)
    }

    @Test func aRunThatIsNotYetDueWaitsForTheTickThatPassesItsTime() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        let run = UUID()
        #expect(dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(10), now: TestDates.at(0)).isEmpty)
        #expect(dispatcher.nextDeadline() == TestDates.at(10))

        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(1))
        #expect(dispatcher.worker(holding: run) == nil)
        // The worker's timeout (at 601) comes later than the run.
        #expect(dispatcher.nextDeadline() == TestDates.at(10))
        #expect(dispatcher.tick(now: TestDates.at(9.999)).isEmpty)
        #expect(dispatcher.worker(holding: run) == nil)

        #expect(dispatcher.tick(now: TestDates.at(10)) == [.dispatch(run: run, worker: "w1")])
        #expect(dispatcher.nextDeadline() == TestDates.at(601))
        #expect(dispatcher.tick(now: TestDates.at(11)).isEmpty)
    }

    @Test func aDueRunWithoutAWorkerWaitsForOne() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        _ = dispatcher.setPool(pool)
        let run = UUID()
        #expect(dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0)).isEmpty)
        #expect(dispatcher.nextDeadline() == nil)
        let connected = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(5))
        #expect(connected.actions == [.dispatch(run: run, worker: "w1")])
    }

    // MARK: Credit

    @Test func aWorkerNeverHoldsMoreRunsThanItsLimit() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0))
        let runs = runIDs(3)
        var sent: [UUID] = []
        for run in runs {
            sent += dispatchedRuns(
                dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0)))
        }
        #expect(sent == [runs[0]])
        #expect(dispatcher.activeRuns(of: "w1") == 1)

        // A finished run returns its credit: exactly one more goes.
        #expect(dispatcher.removeRun(runs[0]) == [.dispatch(run: runs[1], worker: "w1")])
        #expect(dispatcher.activeRuns(of: "w1") == 1)
        #expect(dispatcher.removeRun(runs[1]) == [.dispatch(run: runs[2], worker: "w1")])
        #expect(dispatcher.removeRun(runs[2]).isEmpty)
        #expect(dispatcher.activeRuns(of: "w1") == 0)
    }

    @Test func aWorkerWithLimitThreeTakesThree() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        _ = dispatcher.setPool(pool)
        let runs = runIDs(5)
        for run in runs {
            _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        }
        let connected = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: 3, reportedRuns: [], now: TestDates.at(0))
        #expect(dispatchedRuns(connected.actions) == Array(runs[0..<3]))
        #expect(dispatcher.activeRuns(of: "w1") == 3)
    }

    @Test func anUnlimitedWorkerTakesEveryRun() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        let runs = runIDs(50)
        var sent: [UUID] = []
        for run in runs {
            sent += dispatchedRuns(
                dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0)))
        }
        #expect(sent == runs)
        #expect(dispatcher.activeRuns(of: "w1") == 50)
    }

    @Test func aWorkerThatStopsAcceptingGetsNothingUntilItResumes() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        #expect(dispatcher.setAccepting("w1", false).isEmpty)
        let run = UUID()
        #expect(dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0)).isEmpty)
        #expect(dispatcher.tick(now: TestDates.at(1)).isEmpty)
        #expect(dispatcher.worker(holding: run) == nil)

        // Another worker of the pool still takes runs.
        _ = dispatcher.workerConnected("w2", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(1))
        #expect(dispatcher.worker(holding: run) == "w2")
        let second = UUID()
        #expect(dispatcher.addRun(second, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(2)).isEmpty)

        #expect(dispatcher.setAccepting("w1", true) == [.dispatch(run: second, worker: "w1")])
    }

    // MARK: Pause

    @Test func aPausedPoolHoldsItsRunsAndUnpausingSendsThemAtOnce() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        let paused = pool.with(paused: true)
        _ = dispatcher.setPool(paused)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        let runs = runIDs(3)
        for run in runs {
            #expect(dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0)).isEmpty)
        }
        #expect(dispatcher.tick(now: TestDates.at(1)).isEmpty)
        #expect(dispatcher.setAccepting("w1", true).isEmpty)
        #expect(dispatcher.activeRuns(inPool: pool.id) == 0)

        #expect(dispatchedRuns(dispatcher.setPool(paused.with(paused: false))) == runs)
        #expect(dispatcher.activeRuns(inPool: pool.id) == 3)
    }

    @Test func aPausedQueueHoldsItsRunsWhileOtherQueuesGo() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        let held = queueRules(priority: 1, paused: true)
        let open = queueRules(priority: 2)
        let rules = poolRules(queues: [held, open])
        _ = dispatcher.setPool(rules)
        _ = dispatcher.workerConnected("w1", pool: rules.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        let heldRun = UUID()
        let openRun = UUID()
        #expect(dispatcher.addRun(heldRun, pool: rules.id, queue: held.id, expectedStart: TestDates.at(0), now: TestDates.at(0)).isEmpty)
        #expect(
            dispatcher.addRun(openRun, pool: rules.id, queue: open.id, expectedStart: TestDates.at(0), now: TestDates.at(0))
                == [.dispatch(run: openRun, worker: "w1")])
        #expect(dispatcher.tick(now: TestDates.at(1)).isEmpty)

        let unpaused = rules.with(queues: [held.with(paused: false), open])
        #expect(dispatcher.setPool(unpaused) == [.dispatch(run: heldRun, worker: "w1")])
    }

    // MARK: Limits

    @Test func aPoolLimitHoldsRunsEvenWhenWorkersHaveCredit() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        let limited = pool.with(limit: .some(2))
        _ = dispatcher.setPool(limited)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        _ = dispatcher.workerConnected("w2", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        let runs = runIDs(4)
        var sent: [UUID] = []
        for run in runs {
            sent += dispatchedRuns(
                dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0)))
        }
        #expect(sent == Array(runs[0..<2]))
        #expect(dispatcher.activeRuns(inPool: pool.id) == 2)
        // Raising the limit lets one more go.
        #expect(dispatchedRuns(dispatcher.setPool(limited.with(limit: .some(3)))) == [runs[2]])
        // Removing it lets the rest go.
        #expect(dispatchedRuns(dispatcher.setPool(limited.with(limit: .some(nil)))) == [runs[3]])
    }

    @Test func aQueueLimitHoldsOnlyThatQueue() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        let narrow = queueRules(priority: 1, limit: 1)
        let wide = queueRules(priority: 2)
        let rules = poolRules(queues: [narrow, wide])
        _ = dispatcher.setPool(rules)
        _ = dispatcher.workerConnected("w1", pool: rules.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        let narrowRuns = runIDs(2)
        let wideRun = UUID()
        #expect(
            dispatchedRuns(
                dispatcher.addRun(narrowRuns[0], pool: rules.id, queue: narrow.id, expectedStart: TestDates.at(0), now: TestDates.at(0)))
                == [narrowRuns[0]])
        #expect(
            dispatcher.addRun(narrowRuns[1], pool: rules.id, queue: narrow.id, expectedStart: TestDates.at(0), now: TestDates.at(0))
                .isEmpty)
        #expect(
            dispatchedRuns(
                dispatcher.addRun(wideRun, pool: rules.id, queue: wide.id, expectedStart: TestDates.at(0), now: TestDates.at(0)))
                == [wideRun])
        #expect(dispatcher.removeRun(narrowRuns[0]) == [.dispatch(run: narrowRuns[1], worker: "w1")])
    }

    // MARK: Order

    @Test func theHigherPriorityQueueGoesFirstWhateverTheArrivalOrder() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        let second = queueRules(priority: 2)
        let first = queueRules(priority: 1)
        // Listed in the wrong order on purpose: the dispatcher sorts by priority.
        let rules = poolRules(queues: [second, first])
        _ = dispatcher.setPool(rules)
        let low = runIDs(2)
        let high = UUID()
        for run in low {
            _ = dispatcher.addRun(run, pool: rules.id, queue: second.id, expectedStart: TestDates.at(0), now: TestDates.at(1))
        }
        // Added later, and due later, but in the priority-1 queue.
        _ = dispatcher.addRun(high, pool: rules.id, queue: first.id, expectedStart: TestDates.at(1), now: TestDates.at(1))

        let connected = dispatcher.workerConnected(
            "w1", pool: rules.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(2))
        #expect(connected.actions == [.dispatch(run: high, worker: "w1")])
        #expect(dispatcher.removeRun(high) == [.dispatch(run: low[0], worker: "w1")])
        #expect(dispatcher.removeRun(low[0]) == [.dispatch(run: low[1], worker: "w1")])
    }

    @Test func withinAQueueEarlierExpectedStartGoesFirstThenArrival() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        let ids = runIDs(5)
        // (run, expected start) in arrival order.
        let arrivals: [(UUID, Double)] = [(ids[0], 5), (ids[1], 3), (ids[2], 3), (ids[3], 1), (ids[4], 3)]
        for (run, start) in arrivals {
            _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(start), now: TestDates.at(10))
        }
        var order = dispatchedRuns(
            dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(10))
                .actions)
        while let last = order.last, order.count < ids.count {
            let next = dispatchedRuns(dispatcher.removeRun(last))
            #expect(next.count == 1)
            if next.isEmpty { break }
            order += next
        }
        #expect(order == [ids[3], ids[1], ids[2], ids[4], ids[0]])
    }

    @Test func runsThatFallDueTogetherGoByExpectedStart() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0))
        let ids = runIDs(3)
        _ = dispatcher.addRun(ids[0], pool: pool.id, queue: queue, expectedStart: TestDates.at(30), now: TestDates.at(0))
        _ = dispatcher.addRun(ids[1], pool: pool.id, queue: queue, expectedStart: TestDates.at(10), now: TestDates.at(0))
        _ = dispatcher.addRun(ids[2], pool: pool.id, queue: queue, expectedStart: TestDates.at(20), now: TestDates.at(0))
        #expect(dispatcher.nextDeadline() == TestDates.at(10))
        #expect(dispatcher.tick(now: TestDates.at(40)) == [.dispatch(run: ids[1], worker: "w1")])
        #expect(dispatcher.removeRun(ids[1]) == [.dispatch(run: ids[2], worker: "w1")])
        #expect(dispatcher.removeRun(ids[2]) == [.dispatch(run: ids[0], worker: "w1")])
    }

    // MARK: Choosing a worker

    @Test func theLeastLoadedWorkerIsChosen() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: 5, reportedRuns: [], now: TestDates.at(0))
        let first = runIDs(2)
        for run in first {
            _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        }
        #expect(dispatcher.activeRuns(of: "w1") == 2)

        // "w2" sorts after "w1": only its lower load can make it the choice.
        _ = dispatcher.workerConnected("w2", pool: pool.id, queues: nil, limit: 5, reportedRuns: [], now: TestDates.at(0))
        let more = (0..<2).map { _ in UUID() }
        for run in more {
            #expect(
                dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
                    == [.dispatch(run: run, worker: "w2")])
        }
        #expect(dispatcher.activeRuns(of: "w1") == 2)
        #expect(dispatcher.activeRuns(of: "w2") == 2)

        // w1 finishes both: it is now the least loaded.
        _ = dispatcher.removeRun(first[0])
        _ = dispatcher.removeRun(first[1])
        let last = UUID()
        #expect(
            dispatcher.addRun(last, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
                == [.dispatch(run: last, worker: "w1")])
    }

    @Test func aWorkerServingOnlyQueueANeverGetsQueueBRuns() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        let a = queueRules(priority: 1)
        let b = queueRules(priority: 2)
        let rules = poolRules(queues: [a, b])
        _ = dispatcher.setPool(rules)
        _ = dispatcher.workerConnected("onlyA", pool: rules.id, queues: [a.id], limit: nil, reportedRuns: [], now: TestDates.at(0))

        let bRuns = runIDs(3)
        for run in bRuns {
            #expect(dispatcher.addRun(run, pool: rules.id, queue: b.id, expectedStart: TestDates.at(0), now: TestDates.at(0)).isEmpty)
        }
        #expect(dispatcher.tick(now: TestDates.at(1)).isEmpty)
        let aRun = UUID()
        #expect(
            dispatcher.addRun(aRun, pool: rules.id, queue: a.id, expectedStart: TestDates.at(0), now: TestDates.at(1))
                == [.dispatch(run: aRun, worker: "onlyA")])

        // A worker of every queue takes the B runs; "onlyA" never does.
        let everything = dispatcher.workerConnected(
            "all", pool: rules.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(2))
        #expect(everything.actions == bRuns.map { .dispatch(run: $0, worker: "all") })
        #expect(dispatcher.activeRuns(of: "onlyA") == 1)
    }

    @Test func aWorkerOfAnotherPoolNeverGetsThisPoolsRuns() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        let other = poolRules()
        _ = dispatcher.setPool(pool)
        _ = dispatcher.setPool(other)
        _ = dispatcher.workerConnected("w1", pool: other.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        let run = UUID()
        #expect(dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0)).isEmpty)
        #expect(dispatcher.connectedWorkers(inPool: pool.id) == 0)
        #expect(dispatcher.connectedWorkers(inPool: other.id) == 1)
    }

    // MARK: Removal

    @Test func aRemovedWaitingRunNeverGoesLater() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        let ids = runIDs(3)
        for run in ids {
            _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        }
        #expect(dispatcher.removeRun(ids[0]).isEmpty)
        #expect(dispatcher.removeRun(ids[0]).isEmpty)
        let connected = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(1))
        #expect(dispatchedRuns(connected.actions) == [ids[1], ids[2]])
        #expect(dispatcher.tick(now: TestDates.at(2)).isEmpty)
        #expect(dispatcher.activeRuns(of: "w1") == 2)
    }

    @Test func aRemovedRunAtTheFrontDoesNotBlockTheOnesBehindIt() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0))
        let ids = runIDs(4)
        for run in ids {
            _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        }
        #expect(dispatcher.worker(holding: ids[0]) == "w1")
        // ids[1] and ids[2] are next in line; take them away while they wait.
        #expect(dispatcher.removeRun(ids[1]).isEmpty)
        #expect(dispatcher.removeRun(ids[2]).isEmpty)
        #expect(dispatcher.removeRun(ids[0]) == [.dispatch(run: ids[3], worker: "w1")])
    }

    @Test func aRemovedRunThatWasNotYetDueNeverGoes() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        let run = UUID()
        _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(10), now: TestDates.at(0))
        #expect(dispatcher.removeRun(run).isEmpty)
        #expect(dispatcher.tick(now: TestDates.at(11)).isEmpty)
        #expect(dispatcher.worker(holding: run) == nil)
    }

    @Test func aRunAddedAgainWithALaterStartGoesOnlyAtTheLaterStart() {
        // The retry path: remove, then add with a new expected start.
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(0))
        let run = UUID()
        _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(10), now: TestDates.at(0))
        _ = dispatcher.removeRun(run)
        _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(20), now: TestDates.at(0))
        #expect(dispatcher.tick(now: TestDates.at(15)).isEmpty)
        #expect(dispatcher.tick(now: TestDates.at(20)) == [.dispatch(run: run, worker: "w1")])
    }

    @Test func aWaitingRunAddedAgainGoesOnceAndOnlyWhenItsNewStartComes() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        // The blocker stays at the front, so the old tickets behind it are not cleaned up at once.
        let blocker = UUID()
        let later = UUID()
        let now = UUID()
        for run in [blocker, later, now] {
            _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        }
        _ = dispatcher.removeRun(later)
        _ = dispatcher.removeRun(now)
        _ = dispatcher.addRun(later, pool: pool.id, queue: queue, expectedStart: TestDates.at(10), now: TestDates.at(1))
        _ = dispatcher.addRun(now, pool: pool.id, queue: queue, expectedStart: TestDates.at(1), now: TestDates.at(1))
        let connected = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(2))
        #expect(connected.actions == [.dispatch(run: blocker, worker: "w1"), .dispatch(run: now, worker: "w1")])
        #expect(dispatcher.tick(now: TestDates.at(10)) == [.dispatch(run: later, worker: "w1")])
        // None goes a second time.
        #expect(dispatcher.setAccepting("w1", true).isEmpty)
        #expect(dispatcher.tick(now: TestDates.at(20)).isEmpty)
        #expect(dispatcher.activeRuns(of: "w1") == 3)
    }

    // MARK: Many pools

    @Test func fortyRunsAcrossFourPoolsNeverTwoInFlightInAPool() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        let pools = (0..<4).map { _ in poolRules(limit: 1) }
        for pool in pools { _ = dispatcher.setPool(pool) }
        var poolOfRun: [UUID: Int] = [:]
        var inFlight: [Int: UUID] = [:]
        var dispatchedCount = 0
        var violations: [String] = []

        func record(_ actions: [DispatchAction]) {
            for action in actions {
                guard case .dispatch(let run, let worker) = action, let index = poolOfRun[run] else {
                    violations.append("unexpected action \(action)")
                    continue
                }
                if worker != "worker-\(index)" { violations.append("run of pool \(index) sent to \(worker)") }
                if let holder = inFlight[index] { violations.append("pool \(index) already runs \(holder)") }
                inFlight[index] = run
                dispatchedCount += 1
            }
            for (index, pool) in pools.enumerated() where dispatcher.activeRuns(inPool: pool.id) > 1 {
                violations.append("pool \(index) has \(dispatcher.activeRuns(inPool: pool.id)) in flight")
            }
        }

        for (index, pool) in pools.enumerated() {
            record(
                dispatcher.workerConnected(
                    "worker-\(index)", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0)
                ).actions)
        }
        for number in 0..<40 {
            let index = number % 4
            let run = UUID()
            poolOfRun[run] = index
            record(
                dispatcher.addRun(
                    run, pool: pools[index].id, queue: pools[index].queues[0].id, expectedStart: TestDates.at(0),
                    now: TestDates.at(0)))
        }
        // Finish runs one at a time, round robin over the pools, until all went.
        var rounds = 0
        while !inFlight.isEmpty && rounds < 1000 {
            rounds += 1
            for index in inFlight.keys.sorted() {
                guard let run = inFlight.removeValue(forKey: index) else { continue }
                record(dispatcher.removeRun(run))
            }
        }
        #expect(violations.isEmpty, "\(violations)")
        #expect(dispatchedCount == 40)
        for pool in pools { #expect(dispatcher.activeRuns(inPool: pool.id) == 0) }
    }
}
