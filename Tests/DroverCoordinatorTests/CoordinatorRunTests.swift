import DroverCore
import DroverProto
import DroverStore
import DroverTestSupport
import Foundation
import SwiftProtobuf
import Testing

@testable import DroverCoordinator

/// A flow run's life through the coordinator, with fake workers and a hand-moved clock.
@Suite struct CoordinatorRunTests {
    // MARK: The happy path

    @Test func aRunGoesScheduledPendingRunningCompleted() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        let created = h.runDeployment()
        #expect(created.stateType == .scheduled)
        #expect(created.attempt == 0)
        #expect(try h.takeOutbox().isEmpty)

        h.clock.advance(by: 1)
        let welcomed = try h.hello("w1", limit: 1)
        #expect(kinds(welcomed) == ["w1:welcome", "w1:run"])
        let session = try #require(h.sessions["w1"])
        #expect(session != 0)
        #expect(welcomed[0].message.welcome.heartbeatIntervalMs == 2000)
        #expect(welcomed[0].message.welcome.staleRunIds.isEmpty)
        // Every later message to the worker carries its session.
        #expect(welcomed[1].message.session == session)
        let sent = try #require(assignments(welcomed).first)
        #expect(sent.run == created.id)
        #expect(sent.attempt == 1)
        #expect(welcomed[1].message.run.run.command == "true")

        let pending = h.flowRun(created.id)
        #expect(pending.stateType == .pending)
        #expect(pending.workerName == "w1")
        #expect(pending.attempt == 1)

        h.clock.advance(by: 1)
        #expect(try h.started("w1", created.id, attempt: 1).isEmpty)
        let running = h.flowRun(created.id)
        #expect(running.stateType == .running)
        #expect(running.startTime.date == TestDates.at(2))

        h.clock.advance(by: 3)
        #expect(try h.finished("w1", created.id, attempt: 1, .runCompleted, exitCode: 0).isEmpty)
        let done = h.flowRun(created.id)
        #expect(done.stateType == .completed)
        #expect(done.hasExitCode)
        #expect(done.exitCode == 0)
        #expect(done.startTime.date == TestDates.at(2))
        #expect(done.endTime.date == TestDates.at(5))
        #expect(done.historyTypes == [.scheduled, .pending, .running, .completed])
        // The store has it too, not just memory.
        #expect(try h.store.flowRun(id: UUID(uuidString: created.id)!)?.state.type == .completed)
        // The worker's credit came back: the next run goes to it at once.
        let next = h.runDeployment()
        #expect(next.stateType == .pending)
        #expect(assignments(try h.takeOutbox()).map(\.run) == [next.id])
    }

    @Test func aWorkerWithLimitOneGetsOneRunAtATime() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 1)
        let first = h.runDeployment()
        let second = h.runDeployment()
        #expect(first.stateType == .pending)
        #expect(second.stateType == .scheduled)
        #expect(assignments(try h.takeOutbox()).map(\.run) == [first.id])

        let outbox = try h.finished("w1", first.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(assignments(outbox).map(\.run) == [second.id])
        #expect(h.flowRun(second.id).stateType == .pending)
    }

    // MARK: Retries

    @Test func aFailedRunIsRetriedAfterItsDelayThenFails() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment(retries: 1, retryDelaySeconds: 5)
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).map(\.attempt) == [1])
        try h.started("w1", run.id, attempt: 1)

        h.clock.advance(by: 1)
        let failedOnce = try h.finished("w1", run.id, attempt: 1, .runFailed, exitCode: 2)
        #expect(assignments(failedOnce).isEmpty)
        let waiting = h.flowRun(run.id)
        #expect(waiting.stateType == .scheduled)
        #expect(waiting.stateName == "AwaitingRetry")
        #expect(waiting.expectedStartTime.date == TestDates.at(6))
        #expect(waiting.historyTypes == [.scheduled, .pending, .running, .failed, .scheduled])
        #expect(h.coordinator.nextDeadline() == TestDates.at(6))

        try h.heartbeat("w1")
        #expect(assignments(try h.advance(by: 4.9)).isEmpty)
        #expect(h.flowRun(run.id).stateType == .scheduled)

        let retried = try h.advance(by: 0.1)
        let again = try #require(assignments(retried).first)
        #expect(again.run == run.id)
        #expect(again.worker == "w1")
        #expect(again.attempt == 2)
        #expect(h.flowRun(run.id).stateType == .pending)

        try h.started("w1", run.id, attempt: 2)
        #expect(try h.finished("w1", run.id, attempt: 2, .runFailed, exitCode: 3).isEmpty)
        let failed = h.flowRun(run.id)
        #expect(failed.stateType == .failed)
        #expect(failed.exitCode == 3)
        #expect(failed.attempt == 2)
        #expect(failed.historyTypes == [.scheduled, .pending, .running, .failed, .scheduled, .pending, .running, .failed])
        // Nothing more is scheduled for it.
        #expect(assignments(try h.advance(by: 1)).isEmpty)
    }

    // MARK: Fencing

    @Test func aReportForAnOldAttemptIsToldToStopAndChangesNothing() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment(retries: 1, retryDelaySeconds: 0)
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        try h.started("w1", run.id, attempt: 1)
        // No delay: attempt 2 goes out in the same call.
        let retried = try h.finished("w1", run.id, attempt: 1, .runFailed, exitCode: 1)
        #expect(assignments(retried).map(\.attempt) == [2])
        let before = h.flowRun(run.id)
        #expect(before.stateType == .pending)

        let stale = try h.started("w1", run.id, attempt: 1)
        #expect(kinds(stale) == ["w1:stop"])
        #expect(stale.first?.message.stop.runID == run.id)
        #expect(stale.first?.message.stop.attempt == 1)
        let staleEnd = try h.finished("w1", run.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(kinds(staleEnd) == ["w1:stop"])
        #expect(h.flowRun(run.id) == before)
    }

    @Test func aReportFromAnotherWorkerIsToldToStopAndChangesNothing() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).map(\.worker) == ["w1"])
        try h.hello("w2", limit: 1)
        try h.started("w1", run.id, attempt: 1)
        let before = h.flowRun(run.id)

        let intruder = try h.finished("w2", run.id, attempt: 1, .runFailed, exitCode: 9)
        #expect(kinds(intruder) == ["w2:stop"])
        #expect(intruder.first?.message.stop.runID == run.id)
        #expect(h.flowRun(run.id) == before)
        #expect(h.flowRun(run.id).stateType == .running)
    }

    @Test func aReportOfAnUnknownRunIsToldToStop() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        try h.hello("w1", limit: 1)
        let unknown = UUID().uuidString.lowercased()
        #expect(kinds(try h.started("w1", unknown, attempt: 1)) == ["w1:stop"])
    }

    // MARK: Cancelling

    @Test func cancellingAScheduledRunEndsItAtOnce() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        let run = h.runDeployment()
        let reply = h.ok(.cancelFlowRun(.with { $0.id = run.id }))
        #expect(reply.flowRun.stateType == .cancelled)
        #expect(h.flowRun(run.id).historyTypes == [.scheduled, .cancelled])
        // It never goes to a worker afterwards.
        let welcomed = try h.hello("w1", limit: nil)
        #expect(assignments(welcomed).isEmpty)
        #expect(h.call(.cancelFlowRun(.with { $0.id = run.id })).errorCode == .failedPrecondition)
    }

    @Test func cancellingARunningRunAsksItsWorkerThenEndsCancelled() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        try h.started("w1", run.id, attempt: 1)

        let reply = h.ok(.cancelFlowRun(.with { $0.id = run.id }))
        #expect(reply.flowRun.stateType == .cancelling)
        let outbox = try h.takeOutbox()
        #expect(kinds(outbox) == ["w1:cancel"])
        #expect(outbox.first?.message.cancel.runID == run.id)
        #expect(outbox.first?.message.cancel.attempt == 1)
        #expect(outbox.first?.message.cancel.gracePeriodMs == 10_000)
        #expect(h.flowRun(run.id).stateType == .cancelling)

        try h.finished("w1", run.id, attempt: 1, .runCancelled, exitCode: -15)
        let done = h.flowRun(run.id)
        #expect(done.stateType == .cancelled)
        #expect(done.historyTypes == [.scheduled, .pending, .running, .cancelling, .cancelled])
        #expect(done.hasEndTime)
    }

    @Test func aRunStoppedWhileCancellingEndsCancelledWhateverItsExit() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment(retries: 3)
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        try h.started("w1", run.id, attempt: 1)
        h.ok(.cancelFlowRun(.with { $0.id = run.id }))
        _ = try h.takeOutbox()
        let outbox = try h.finished("w1", run.id, attempt: 1, .runFailed, exitCode: 143)
        #expect(assignments(outbox).isEmpty)
        #expect(h.flowRun(run.id).stateType == .cancelled)
    }

    // MARK: Pausing

    @Test func runsOfAPausedPoolWaitAndGoInTheUnpausingCall() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: nil)
        h.ok(
            .updateWorkPool(
                .with {
                    $0.name = "pool"; $0.paused = true
                }))
        let runs = [h.runDeployment(), h.runDeployment()]
        #expect(try h.takeOutbox().isEmpty)
        try h.heartbeat("w1")
        _ = try h.advance(by: 1)
        for run in runs { #expect(h.flowRun(run.id).stateType == .scheduled) }

        h.ok(
            .updateWorkPool(
                .with {
                    $0.name = "pool"; $0.paused = false
                }))
        let outbox = try h.takeOutbox()
        #expect(Set(assignments(outbox).map(\.run)) == Set(runs.map(\.id)))
        for run in runs { #expect(h.flowRun(run.id).stateType == .pending) }
    }

    @Test func runsOfAPausedQueueWaitAndGoWhenItResumes() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.ok(
            .createWorkQueue(
                .with {
                    $0.name = "slow"; $0.workPoolName = "pool"; $0.paused = true
                }))
        h.createDeployment(queue: "slow")
        try h.hello("w1", limit: nil)
        let run = h.runDeployment()
        #expect(run.stateType == .scheduled)
        #expect(try h.takeOutbox().isEmpty)
        h.ok(
            .updateWorkQueue(
                .with {
                    $0.name = "slow"; $0.workPoolName = "pool"; $0.paused = false
                }))
        #expect(assignments(try h.takeOutbox()).map(\.run) == [run.id])
    }

    @Test func aPoolLimitHoldsRunsAcrossWorkers() throws {
        var h = try CoordinatorHarness()
        h.createPool(limit: 1)
        h.createDeployment()
        try h.hello("w1", limit: nil)
        try h.hello("w2", limit: nil)
        let first = h.runDeployment()
        let second = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).map(\.run) == [first.id])
        #expect(second.stateType == .scheduled)
        let worker = h.flowRun(first.id).workerName
        #expect(["w1", "w2"].contains(worker))
        let outbox = try h.finished(worker, first.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(assignments(outbox).map(\.run) == [second.id])
    }

    // MARK: Deleting

    @Test func deletingAPoolOrDeploymentWithUnfinishedRunsIsRefused() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        let run = h.runDeployment()

        let deployment = h.call(.deleteDeployment(.with { $0.name = "deploy" }))
        #expect(deployment.errorCode == .failedPrecondition)
        #expect(deployment.error.message.contains("unfinished"))
        let pool = h.call(.deleteWorkPool(.with { $0.name = "pool" }))
        #expect(pool.errorCode == .failedPrecondition)
        let flowRun = try h.hello("w1", limit: 1)
        #expect(assignments(flowRun).map(\.run) == [run.id])
        // Nothing was deleted.
        #expect(h.call(.getDeployment(.with { $0.name = "deploy" })).errorCode == nil)
        #expect(h.call(.getWorkPool(.with { $0.name = "pool" })).errorCode == nil)

        // Once the run is over, both can go.
        try h.finished("w1", run.id, attempt: 1, .runCompleted, exitCode: 0)
        h.ok(.deleteDeployment(.with { $0.name = "deploy" }))
        try h.send("w1", .bye(.init()))
        h.ok(.deleteWorkPool(.with { $0.name = "pool" }))
    }

    // MARK: Preview

    @Test func previewListsScheduledRunsWithinTheWindowByExpectedStart() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 1)
        let now = h.clock.now
        let busy = h.runDeployment()
        #expect(busy.stateType == .pending)
        _ = try h.takeOutbox()
        let in30 = h.runDeployment(expectedStart: now.addingTimeInterval(30 * 60))
        let dueNow = h.runDeployment()
        let in90 = h.runDeployment(expectedStart: now.addingTimeInterval(90 * 60))
        let in10 = h.runDeployment(expectedStart: now.addingTimeInterval(10 * 60))
        let in3h = h.runDeployment(expectedStart: now.addingTimeInterval(3 * 3600))
        #expect(in3h.stateType == .scheduled)

        let oneHour = h.ok(.previewWorkPool(.with { $0.name = "pool" })).flowRuns.flowRuns
        #expect(oneHour.map(\.id) == [dueNow.id, in10.id, in30.id])
        let twoHours = h.ok(
            .previewWorkPool(
                .with {
                    $0.name = "pool"; $0.hours = 2
                })
        ).flowRuns.flowRuns
        #expect(twoHours.map(\.id) == [dueNow.id, in10.id, in30.id, in90.id])
        #expect(twoHours.allSatisfy { $0.stateType == .scheduled })
        #expect(h.call(.previewWorkPool(.with { $0.name = "nope" })).errorCode == .notFound)
    }

    // MARK: Logs

    @Test func logLinesReadBackInOrderWithIncreasingSequence() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        try h.started("w1", run.id, attempt: 1)
        let texts = ["one", "two", "three"]
        try h.send(
            "w1",
            .logBatch(
                .with {
                    $0.runID = run.id
                    $0.attempt = 1
                    $0.lines = texts.enumerated().map { index, text in
                        .with {
                            $0.text = text
                            $0.stream = "stdout"
                            $0.timestamp = Google_Protobuf_Timestamp(date: TestDates.at(Double(index)))
                        }
                    }
                }))
        try h.send(
            "w1",
            .logBatch(
                .with {
                    $0.runID = run.id; $0.attempt = 1;
                    $0.lines = [
                        .with {
                            $0.text = "four"; $0.stream = "stderr"
                        }
                    ]
                }))

        let logs = h.ok(.readFlowRunLogs(.with { $0.id = run.id })).logs
        #expect(logs.lines.map(\.text) == texts + ["four"])
        #expect(logs.lines.map(\.stream) == ["stdout", "stdout", "stdout", "stderr"])
        let sequences = logs.lines.map(\.sequence)
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 }, "\(sequences)")
        #expect(logs.flowRun.id == run.id)

        let after = h.ok(
            .readFlowRunLogs(
                .with {
                    $0.id = run.id; $0.afterSequence = sequences[1]
                })
        ).logs
        #expect(after.lines.map(\.text) == ["three", "four"])
    }
}
