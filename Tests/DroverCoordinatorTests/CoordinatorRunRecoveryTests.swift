import DroverCore
import DroverProto
import DroverStore
import DroverTestSupport
import Foundation
import Testing

@testable import DroverCoordinator

/// Workers that go silent, that clash, that speak out of turn, and a coordinator restart.
@Suite struct CoordinatorRunRecoveryTests {
    // MARK: Silent workers

    @Test func aSilentWorkersRunsAreRequeuedOrCrashedAndItShowsOffline() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 2)
        let started = h.runDeployment()
        let notStarted = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).map(\.worker) == ["w1", "w1"])
        try h.started("w1", started.id, attempt: 1)
        try h.hello("w2", limit: 1)

        // w1 last spoke at 0; w2 keeps talking.
        try h.advance(by: 5)
        try h.heartbeat("w2")
        let early = try h.advance(by: 0.9)
        #expect(early.isEmpty)
        #expect(h.flowRun(started.id).stateType == .running)
        #expect(h.workers().first { $0.name == "w1" }?.status == .online)

        // Three heartbeat intervals (3 × 2 s) after its last message, w1 is lost.
        let lost = try h.advance(by: 0.1)
        let resent = assignments(lost)
        #expect(resent.count == 1)
        #expect(resent.first?.worker == "w2")
        #expect(resent.first?.run == notStarted.id)
        #expect(resent.first?.attempt == 2)

        let crashed = h.flowRun(started.id)
        #expect(crashed.stateType == .crashed)
        #expect(crashed.hasEndTime)
        let requeued = h.flowRun(notStarted.id)
        #expect(requeued.stateType == .pending)
        #expect(requeued.workerName == "w2")
        #expect(requeued.attempt == 2)
        #expect(requeued.historyTypes == [.scheduled, .pending, .scheduled, .pending])

        let workers = h.workers()
        #expect(workers.map(\.name) == ["w1", "w2"])
        #expect(workers.map(\.status) == [.offline, .online])
        #expect(workers.first?.activeRuns == 0)
        #expect(!h.coordinator.isConnected("w1"))

        // A late message from w1 must say Hello again.
        let late = try h.finished("w1", started.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(rejects(late).first?.reject.helloAgain == true)
        #expect(h.flowRun(started.id).stateType == .crashed)
    }

    @Test func aWorkerThatSaysByeHasItsRunsRecoveredAtOnce() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        try h.started("w1", run.id, attempt: 1)
        try h.send("w1", .bye(.with { $0.reason = "test" }))
        #expect(h.flowRun(run.id).stateType == .crashed)
        #expect(h.workers().map(\.status) == [.offline])
    }

    // MARK: Admission

    @Test func aSecondWorkerWithTheSameNameInThePoolIsRejected() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        let first = try h.hello("routing-1", name: "alpha")
        #expect(kinds(first) == ["routing-1:welcome"])

        let second = try h.hello("routing-2", name: "alpha")
        let rejected = rejects(second)
        #expect(rejected.count == 1)
        #expect(rejected.first?.worker == "routing-2")
        #expect(rejected.first?.reject.error.code == .alreadyExists)
        #expect(rejected.first?.reject.error.message.contains("'alpha'") == true)
        #expect(h.sessions["routing-2"] == nil)
        #expect(!h.coordinator.isConnected("routing-2"))
        #expect(h.coordinator.isConnected("routing-1"))

        // The same name in another pool is fine.
        h.createPool("other")
        #expect(kinds(try h.hello("routing-3", pool: "other", name: "alpha")) == ["routing-3:welcome"])
    }

    @Test func anUnknownPoolIsRejectedUnlessTheWorkerMayCreateIt() throws {
        var h = try CoordinatorHarness()
        let refused = rejects(try h.hello("w1", pool: "nowhere"))
        #expect(refused.count == 1)
        #expect(refused.first?.reject.error.code == .notFound)
        #expect(refused.first?.reject.error.message.contains("does not exist") == true)
        #expect(h.call(.getWorkPool(.with { $0.name = "nowhere" })).errorCode == .notFound)

        let created = try h.hello("w1", pool: "nowhere", createPool: true)
        #expect(kinds(created) == ["w1:welcome"])
        #expect(h.call(.getWorkPool(.with { $0.name = "nowhere" })).errorCode == nil)
        #expect(h.workers(in: "nowhere").map(\.name) == ["w1"])
    }

    @Test func aMessageFromAnUnknownSessionIsToldToSayHelloAgain() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        let stranger = try h.heartbeat("stranger")
        #expect(rejects(stranger).map(\.worker) == ["stranger"])
        #expect(rejects(stranger).first?.reject.helloAgain == true)

        // A known worker with the wrong session, as after replayed messages, is told the same.
        try h.hello("w1")
        let real = try #require(h.sessions["w1"])
        h.sessions["w1"] = real &+ 1
        let wrong = try h.heartbeat("w1")
        #expect(rejects(wrong).first?.reject.helloAgain == true)
        h.sessions["w1"] = real
        #expect(kinds(try h.heartbeat("w1")) == ["w1:ack"])
    }

    // MARK: Restart

    @Test func afterARestartReconnectingWorkersClaimTheirRunsAndFinishThem() throws {
        var before = try CoordinatorHarness()
        before.createPool()
        before.createDeployment()
        try before.hello("w1", limit: 3)
        let running = before.runDeployment()
        let pending = before.runDeployment()
        _ = try before.takeOutbox()
        try before.started("w1", running.id, attempt: 1)

        var h = try before.restarted()
        // Nothing is dispatched again while its worker may still come back.
        #expect(try h.takeOutbox().isEmpty)
        #expect(h.flowRun(running.id).stateType == .running)
        #expect(h.flowRun(pending.id).stateType == .pending)

        h.clock.advance(by: 1)
        let welcomed = try h.hello(
            "w1", limit: 3,
            activeRuns: [
                .with {
                    $0.runID = running.id; $0.attempt = 1; $0.started = true
                },
                .with {
                    $0.runID = pending.id; $0.attempt = 1; $0.started = false
                },
            ])
        #expect(kinds(welcomed) == ["w1:welcome"])
        #expect(welcomed.first?.message.welcome.staleRunIds == [])

        // Past the grace, nothing is orphaned: both were claimed.
        try h.heartbeat("w1")
        #expect(try h.advance(by: 5.5).isEmpty)
        #expect(h.flowRun(running.id).stateType == .running)
        #expect(h.flowRun(pending.id).stateType == .pending)

        try h.finished("w1", running.id, attempt: 1, .runCompleted, exitCode: 0)
        try h.started("w1", pending.id, attempt: 1)
        try h.finished("w1", pending.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(h.flowRun(running.id).stateType == .completed)
        #expect(h.flowRun(pending.id).stateType == .completed)
        #expect(h.flowRun(pending.id).attempt == 1)
    }

    @Test func afterARestartTheClaimedRunsUseTheWorkersCredit() throws {
        var before = try CoordinatorHarness()
        before.createPool()
        before.createDeployment()
        try before.hello("w1", limit: 1)
        let held = before.runDeployment()
        _ = try before.takeOutbox()

        var h = try before.restarted()
        let waiting = h.runDeployment()
        #expect(waiting.stateType == .scheduled)
        let welcomed = try h.hello(
            "w1", limit: 1,
            activeRuns: [
                .with {
                    $0.runID = held.id; $0.attempt = 1
                }
            ])
        #expect(assignments(welcomed).isEmpty)
        #expect(h.workers().first?.activeRuns == 1)
        let outbox = try h.finished("w1", held.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(assignments(outbox).map(\.run) == [waiting.id])
    }

    @Test func afterARestartUnclaimedRunsAreRequeuedOrCrashedAfterTheGrace() throws {
        var before = try CoordinatorHarness()
        before.createPool()
        before.createDeployment()
        try before.hello("w1", limit: 2)
        try before.hello("w2", limit: 1)
        let running = before.runDeployment()
        let reported = before.runDeployment()
        let pending = before.runDeployment()
        #expect(
            assignments(try before.takeOutbox()).map { "\($0.worker) \($0.run)" }
                == ["w1 \(running.id)", "w2 \(reported.id)", "w1 \(pending.id)"])
        try before.started("w1", running.id, attempt: 1)
        try before.started("w2", reported.id, attempt: 1)

        var h = try before.restarted()
        // w2 comes back at once and claims its run; w1 never comes back.
        let welcomed = try h.hello(
            "w2", limit: 1,
            activeRuns: [
                .with {
                    $0.runID = reported.id; $0.attempt = 1; $0.started = true
                }
            ])
        #expect(kinds(welcomed) == ["w2:welcome"])
        #expect(welcomed.first?.message.welcome.staleRunIds == [])

        try h.advance(by: 5)
        try h.heartbeat("w2")
        #expect(try h.advance(by: 0.9).isEmpty)
        #expect(h.flowRun(running.id).stateType == .running)
        #expect(h.flowRun(pending.id).stateType == .pending)

        // Grace over (the liveness timeout, 6 s): nobody claimed w1's two runs.
        let outbox = try h.advance(by: 0.1)
        let crashed = h.flowRun(running.id)
        #expect(crashed.stateType == .crashed)
        #expect(crashed.historyTypes == [.scheduled, .pending, .running, .crashed])
        let requeued = h.flowRun(pending.id)
        #expect(requeued.historyTypes == [.scheduled, .pending, .scheduled])
        // w2 is full with the run it claimed, so the requeued run waits for its credit.
        #expect(assignments(outbox).isEmpty)
        #expect(h.flowRun(reported.id).stateType == .running)

        let freed = try h.finished("w2", reported.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(h.flowRun(reported.id).stateType == .completed)
        #expect(assignments(freed).map(\.run) == [pending.id])
        #expect(assignments(freed).map(\.attempt) == [2])
    }

    @Test func afterARestartNobodyWaitingMeansRequeuedRunsWaitForAWorker() throws {
        var before = try CoordinatorHarness()
        before.createPool()
        before.createDeployment()
        try before.hello("w1", limit: 2)
        let running = before.runDeployment()
        let pending = before.runDeployment()
        _ = try before.takeOutbox()
        try before.started("w1", running.id, attempt: 1)

        var h = try before.restarted()
        #expect(h.coordinator.nextDeadline() == TestDates.at(6))
        #expect(try h.advance(by: 6).isEmpty)
        #expect(h.flowRun(running.id).stateType == .crashed)
        #expect(h.flowRun(pending.id).stateType == .scheduled)
        let welcomed = try h.hello("w3", limit: 5)
        #expect(assignments(welcomed).map(\.run) == [pending.id])
        #expect(assignments(welcomed).map(\.attempt) == [2])
    }

    @Test func afterARestartAReportedRunTheServerNoLongerAssignsIsStale() throws {
        var before = try CoordinatorHarness()
        before.createPool()
        before.createDeployment()
        try before.hello("w1", limit: 1)
        let run = before.runDeployment()
        _ = try before.takeOutbox()
        try before.finished("w1", run.id, attempt: 1, .runCompleted, exitCode: 0)

        var h = try before.restarted()
        let ghost = UUID().uuidString.lowercased()
        let welcomed = try h.hello(
            "w1",
            activeRuns: [
                .with {
                    $0.runID = run.id; $0.attempt = 1
                },
                .with {
                    $0.runID = ghost; $0.attempt = 1
                },
            ])
        #expect(welcomed.first?.message.welcome.staleRunIds == [run.id, ghost].sorted())
        #expect(h.flowRun(run.id).stateType == .completed)
    }

    // MARK: Fixed bugs, kept as regression tests

    @Test func aWorkerSayingHelloAgainOnTheSameRoutingIDKeepsItsSessionAndRuns() throws {
        // A worker recreates its socket after its own liveness failure (DESIGN, ZeroMQ rules)
        // and says Hello again with the same routing id, reporting the run it still runs.
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        try h.started("w1", run.id, attempt: 1)

        h.clock.advance(by: 1)
        let again = try h.hello(
            "w1", limit: 1,
            activeRuns: [
                .with {
                    $0.runID = run.id; $0.attempt = 1; $0.started = true
                }
            ])
        #expect(kinds(again).first == "w1:welcome")
        #expect(again.first?.message.welcome.staleRunIds == [])

        #expect(h.coordinator.isConnected("w1"))
        #expect(h.flowRun(run.id).stateType == .running)
        #expect(kinds(try h.heartbeat("w1")) == ["w1:ack"])
        #expect(h.workers().map(\.status) == [.online])
        try h.finished("w1", run.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(h.flowRun(run.id).stateType == .completed)
    }

    @Test func aRunningRunReportedCancelledWithoutACancelRequestEndsCancelled() throws {
        // DESIGN, worker signals: a second SIGINT terminates the children and reports them CANCELLED.
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        try h.started("w1", run.id, attempt: 1)

        // Before the fix this threw (RUNNING → CANCELLED was refused), which stopped the event loop.
        try h.finished("w1", run.id, attempt: 1, .runCancelled, exitCode: -2)
        let done = h.flowRun(run.id)
        #expect(done.stateType == .cancelled)
        #expect(done.exitCode == -2)
        #expect(done.historyTypes == [.scheduled, .pending, .running, .cancelled])
    }

    @Test func aRunRequeuedWhenItsWorkerIsLostAtTheOrphanDeadlineIsNotForgotten() throws {
        var before = try CoordinatorHarness()
        before.createPool()
        before.createDeployment()
        try before.hello("w1", limit: 1)
        let run = before.runDeployment()
        _ = try before.takeOutbox()

        // After the restart w1 claims its PENDING run at once, then goes silent: its timeout
        // and the orphan deadline fall on the same tick.
        var h = try before.restarted()
        let welcomed = try h.hello(
            "w1", limit: 1,
            activeRuns: [
                .with {
                    $0.runID = run.id; $0.attempt = 1
                }
            ])
        #expect(kinds(welcomed) == ["w1:welcome"])
        _ = try h.advance(by: 6)
        #expect(!h.coordinator.isConnected("w1"))
        #expect(h.flowRun(run.id).stateType == .scheduled)

        // A new worker must get the requeued run.
        let rescued = try h.hello("w2", limit: 1)
        #expect(assignments(rescued).map(\.run) == [run.id])
        #expect(assignments(rescued).map(\.attempt) == [2])
        #expect(h.flowRun(run.id).stateType == .pending)
    }

    @Test func afterARestartAWorkerCannotClaimARunAnotherWorkerHeld() throws {
        var before = try CoordinatorHarness()
        before.createPool()
        before.createDeployment()
        try before.hello("w1", limit: 1)
        let run = before.runDeployment()
        #expect(assignments(try before.takeOutbox()).map(\.worker) == ["w1"])

        var h = try before.restarted()
        // w2 reports w1's run (a confused worker, or a replayed Hello).
        let welcomed = try h.hello(
            "w2", limit: 1,
            activeRuns: [
                .with {
                    $0.runID = run.id; $0.attempt = 1
                }
            ])
        #expect(welcomed.first?.message.welcome.staleRunIds == [run.id])
        #expect(kinds(try h.finished("w2", run.id, attempt: 1, .runCompleted, exitCode: 0)) == ["w2:stop"])
        #expect(h.flowRun(run.id).stateType == .pending)

        // Nobody claimed it: after the grace it is requeued, and w2 (with its credit intact) gets attempt 2.
        try h.advance(by: 5)
        try h.heartbeat("w2")
        let afterGrace = try h.advance(by: 1)
        #expect(assignments(afterGrace).map { "\($0.worker) \($0.run) \($0.attempt)" } == ["w2 \(run.id) 2"])
    }

    @Test func afterARestartAWorkerCannotClaimAnAttemptItDoesNotHold() throws {
        var before = try CoordinatorHarness()
        before.createPool()
        before.createDeployment(retries: 1)
        try before.hello("w1", limit: 1)
        let run = before.runDeployment()
        _ = try before.takeOutbox()
        try before.started("w1", run.id, attempt: 1)
        // No retry delay: attempt 2 goes to w1 at once.
        let retried = try before.finished("w1", run.id, attempt: 1, .runFailed, exitCode: 1)
        #expect(assignments(retried).map(\.attempt) == [2])

        var h = try before.restarted()
        // w1 reports the old attempt, not the one the store says it holds.
        let welcomed = try h.hello(
            "w1", limit: 1,
            activeRuns: [
                .with {
                    $0.runID = run.id; $0.attempt = 1
                }
            ])
        #expect(welcomed.first?.message.welcome.staleRunIds == [run.id])
        #expect(h.workers().first?.activeRuns == 0)

        try h.advance(by: 5)
        try h.heartbeat("w1")
        let afterGrace = try h.advance(by: 1)
        #expect(assignments(afterGrace).map { "\($0.worker) \($0.attempt)" } == ["w1 3"])
    }
}
