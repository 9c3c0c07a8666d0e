import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Workers that go silent or leave, and runs restored after a coordinator restart.
@Suite struct DispatcherLivenessTests {
    let pool = poolRules()
    var queue: UUID { pool.queues[0].id }

    /// A dispatcher with one pool and worker "w1" (limit `limit`) connected at `TestDates.at(0)`.
    func dispatcherWithWorker(timeout: TimeInterval = 6, limit: UInt32? = nil) -> Dispatcher {
        var dispatcher = Dispatcher(workerTimeout: timeout)
        _ = dispatcher.setPool(pool)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: limit, reportedRuns: [], now: TestDates.at(0))
        return dispatcher
    }

    @Test func aWorkerThatSaidHelloBeforeItsPoolWasKnownGetsItsRuns() {
        var dispatcher = Dispatcher(workerTimeout: 6)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0))
        _ = dispatcher.setPool(pool)
        #expect(dispatcher.connectedWorkers(inPool: pool.id) == 1)
        let run = UUID()
        #expect(
            dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
                == [.dispatch(run: run, worker: "w1")])
    }

    // MARK: Silence

    @Test func aSilentWorkerIsLostAtLastSeenPlusTheTimeoutWithItsRuns() {
        var dispatcher = dispatcherWithWorker()
        let runs = runIDs(2)
        for run in runs {
            #expect(
                dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
                    == [.dispatch(run: run, worker: "w1")])
        }
        #expect(dispatcher.nextDeadline() == TestDates.at(6))
        #expect(dispatcher.tick(now: TestDates.at(5.999)).isEmpty)
        #expect(dispatcher.isConnected("w1"))

        #expect(dispatcher.tick(now: TestDates.at(6)) == [.workerLost(worker: "w1", runs: runs)])
        #expect(!dispatcher.isConnected("w1"))
        #expect(dispatcher.connectedWorkers(inPool: pool.id) == 0)
        #expect(dispatcher.activeRuns(of: "w1") == 0)
        #expect(dispatcher.worker(holding: runs[0]) == nil)
        // Reported once only.
        #expect(dispatcher.tick(now: TestDates.at(7)).isEmpty)
        #expect(dispatcher.nextDeadline() == nil)
    }

    @Test func anySignOfLifePushesTheDeadline() {
        var dispatcher = dispatcherWithWorker()
        dispatcher.workerSeen("w1", now: TestDates.at(4))
        #expect(dispatcher.nextDeadline() == TestDates.at(10))
        #expect(dispatcher.tick(now: TestDates.at(6)).isEmpty)
        #expect(dispatcher.tick(now: TestDates.at(9.5)).isEmpty)
        #expect(dispatcher.isConnected("w1"))
        #expect(dispatcher.tick(now: TestDates.at(10)) == [.workerLost(worker: "w1", runs: [])])
    }

    @Test func onlyTheSilentWorkerIsLost() {
        var dispatcher = dispatcherWithWorker(limit: 1)
        _ = dispatcher.workerConnected("w2", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0))
        let first = UUID()
        _ = dispatcher.addRun(first, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        let holder = dispatcher.worker(holding: first)
        #expect(holder == "w1")
        dispatcher.workerSeen("w2", now: TestDates.at(5))
        let waiting = UUID()
        _ = dispatcher.addRun(waiting, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(1))
        #expect(dispatcher.worker(holding: waiting) == "w2")
        #expect(dispatcher.tick(now: TestDates.at(6)) == [.workerLost(worker: "w1", runs: [first])])
        #expect(dispatcher.isConnected("w2"))
    }

    @Test func aLostWorkersRunsKeepTheirSlotsUntilRemoved() {
        var dispatcher = Dispatcher(workerTimeout: 60)
        let limited = pool.with(limit: .some(1))
        _ = dispatcher.setPool(limited)
        _ = dispatcher.workerConnected("w1", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0))
        _ = dispatcher.workerConnected("w2", pool: pool.id, queues: nil, limit: 1, reportedRuns: [], now: TestDates.at(0))
        let ids = runIDs(2)
        for run in ids {
            _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        }
        #expect(dispatcher.worker(holding: ids[0]) == "w1")
        #expect(dispatcher.workerDisconnected("w1") == [.workerLost(worker: "w1", runs: [ids[0]])])
        // Still counted against the pool's limit of 1 until the caller decides.
        #expect(dispatcher.activeRuns(inPool: pool.id) == 1)
        #expect(dispatcher.worker(holding: ids[1]) == nil)
        #expect(dispatcher.removeRun(ids[0]) == [.dispatch(run: ids[1], worker: "w2")])
    }

    // MARK: Leaving

    @Test func aDisconnectedWorkerIsLostAtOnceWithItsRuns() {
        var dispatcher = dispatcherWithWorker(timeout: 600)
        let run = UUID()
        _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        #expect(dispatcher.workerDisconnected("w1") == [.workerLost(worker: "w1", runs: [run])])
        #expect(!dispatcher.isConnected("w1"))
        #expect(dispatcher.workerDisconnected("w1").isEmpty)
        // Its timeout no longer matters.
        #expect(dispatcher.nextDeadline() == nil)
        #expect(dispatcher.tick(now: TestDates.at(1000)).isEmpty)
        // New runs wait for a worker.
        let next = UUID()
        #expect(dispatcher.addRun(next, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(1)).isEmpty)
    }

    // MARK: After a restart

    @Test func aReconnectingWorkerClaimsTheRunsItReportsAndTheyUseItsCredit() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        _ = dispatcher.setPool(pool)
        let restored = runIDs(3)
        for run in restored {
            dispatcher.restoreInFlightRun(run, pool: pool.id, queue: queue, now: TestDates.at(0), grace: 10)
        }
        #expect(dispatcher.activeRuns(inPool: pool.id) == 3)
        #expect(dispatcher.nextDeadline() == TestDates.at(10))
        let waiting = UUID()
        #expect(dispatcher.addRun(waiting, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0)).isEmpty)

        let unknown = UUID()
        let connected = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: 2, reportedRuns: [restored[0], unknown, restored[1]], now: TestDates.at(1))
        #expect(connected.claimed == [restored[0], restored[1]])
        // Both of its slots are taken by the claimed runs: the waiting run stays.
        #expect(connected.actions.isEmpty)
        #expect(dispatcher.activeRuns(of: "w1") == 2)
        #expect(dispatcher.worker(holding: restored[0]) == "w1")
        #expect(dispatcher.worker(holding: waiting) == nil)

        #expect(dispatcher.tick(now: TestDates.at(9.9)).isEmpty)
        // The run nobody claimed is an orphan at the grace deadline; the claimed ones are not.
        #expect(dispatcher.tick(now: TestDates.at(10)) == [.orphaned(runs: [restored[2]])])
        #expect(dispatcher.tick(now: TestDates.at(20)).isEmpty)

        // A claimed run that finishes returns its credit.
        #expect(dispatcher.removeRun(restored[0]) == [.dispatch(run: waiting, worker: "w1")])
    }

    @Test func restoredRunsHoldTheirPoolSlotsUntilClaimedOrRemoved() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        let limited = pool.with(limit: .some(1))
        _ = dispatcher.setPool(limited)
        let restored = UUID()
        dispatcher.restoreInFlightRun(restored, pool: pool.id, queue: queue, now: TestDates.at(0), grace: 10)
        let waiting = UUID()
        _ = dispatcher.addRun(waiting, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        let connected = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [], now: TestDates.at(1))
        #expect(connected.actions.isEmpty)
        #expect(dispatcher.tick(now: TestDates.at(10)) == [.orphaned(runs: [restored])])
        #expect(dispatcher.removeRun(restored) == [.dispatch(run: waiting, worker: "w1")])
    }

    @Test func aWorkerCannotClaimARunOfAnotherPoolOrOneAnotherWorkerHolds() {
        var dispatcher = Dispatcher(workerTimeout: 600)
        let other = poolRules()
        _ = dispatcher.setPool(pool)
        _ = dispatcher.setPool(other)
        let foreign = UUID()
        dispatcher.restoreInFlightRun(foreign, pool: other.id, queue: other.queues[0].id, now: TestDates.at(0), grace: 10)
        let mine = UUID()
        dispatcher.restoreInFlightRun(mine, pool: pool.id, queue: queue, now: TestDates.at(0), grace: 10)

        let first = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [foreign, mine], now: TestDates.at(1))
        #expect(first.claimed == [mine])
        let second = dispatcher.workerConnected(
            "w2", pool: pool.id, queues: nil, limit: nil, reportedRuns: [mine], now: TestDates.at(1))
        #expect(second.claimed.isEmpty)
        #expect(dispatcher.worker(holding: mine) == "w1")
        #expect(dispatcher.tick(now: TestDates.at(10)) == [.orphaned(runs: [foreign])])
    }

    // MARK: Fixed bugs, kept as regression tests

    @Test func aRunIsReportedForOneDecisionOnlyWhenItsWorkerIsLostAtTheOrphanDeadline() {
        // After a restart, w1 reconnects at once and claims a restored run, then goes silent.
        // Its timeout and the orphan deadline are the same instant.
        var dispatcher = Dispatcher(workerTimeout: 6)
        _ = dispatcher.setPool(pool)
        let claimed = UUID()
        let unclaimed = UUID()
        dispatcher.restoreInFlightRun(claimed, pool: pool.id, queue: queue, now: TestDates.at(0), grace: 6)
        dispatcher.restoreInFlightRun(unclaimed, pool: pool.id, queue: queue, now: TestDates.at(0), grace: 6)
        let connected = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [claimed], now: TestDates.at(0))
        #expect(connected.claimed == [claimed])

        let actions = dispatcher.tick(now: TestDates.at(6))
        #expect(actions.contains(.workerLost(worker: "w1", runs: [claimed])))
        let orphans = actions.flatMap { action -> [UUID] in if case .orphaned(let runs) = action { runs } else { [] } }
        #expect(orphans.contains(unclaimed))
        // Once in .workerLost is enough: reported twice, the coordinator recovered it twice.
        #expect(!orphans.contains(claimed), "run \(claimed) reported both lost and orphaned: \(actions)")
    }

    @Test func aWorkerSayingHelloAgainKeepsTheRunsItReportsAndLosesTheOthers() {
        // A worker that recreated its socket after its own liveness failure says Hello again
        // with the same routing id and reports the run it still runs.
        var dispatcher = dispatcherWithWorker(timeout: 600)
        let kept = UUID()
        let gone = UUID()
        for run in [kept, gone] {
            _ = dispatcher.addRun(run, pool: pool.id, queue: queue, expectedStart: TestDates.at(0), now: TestDates.at(0))
        }
        #expect(dispatcher.worker(holding: kept) == "w1")

        let again = dispatcher.workerConnected(
            "w1", pool: pool.id, queues: nil, limit: nil, reportedRuns: [kept], now: TestDates.at(1))
        #expect(again.claimed == [kept])
        #expect(dispatcher.worker(holding: kept) == "w1")
        // Only the run it no longer reports needs a decision; a claimed run is never reported lost.
        #expect(again.actions == [.workerLost(worker: "w1", runs: [gone])])
        #expect(dispatcher.worker(holding: gone) == nil)
        #expect(dispatcher.activeRuns(of: "w1") == 1)
        #expect(dispatcher.isConnected("w1"))
        #expect(dispatcher.connectedWorkers(inPool: pool.id) == 1)
        // Its deadline starts again from the new Hello.
        #expect(dispatcher.nextDeadline() == TestDates.at(601))
    }
}
