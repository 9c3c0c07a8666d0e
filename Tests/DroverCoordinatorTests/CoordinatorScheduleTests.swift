import DroverCore
import DroverProto
import DroverStore
import DroverTestSupport
import Foundation
import SwiftProtobuf
import Testing

@testable import DroverCoordinator

/// The scheduler: runs made ahead from schedules, never twice, replaced on change,
/// caught up by policy, and deployment concurrency limits.
@Suite struct CoordinatorScheduleTests {
    // MARK: Making runs ahead

    @Test func anHourlyScheduleKeepsAHundredRunsAheadAndThePreviewShowsTwelveHours() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        let created = h.createScheduled(interval: 3600)
        #expect(created.schedules.map(\.slug) == ["interval-3600"])
        #expect(created.schedules.first?.nextRuns.first?.date == TestDates.at(3600))

        let runs = h.runs()
        #expect(runs.count == 100, "Prefect's horizon: at most 100 runs")
        #expect(runs.map(\.expectedStartTime.date) == (1...100).map { TestDates.at(Double($0) * 3600) })
        #expect(runs.allSatisfy { $0.scheduleSlug == "interval-3600" && $0.scheduledTime == $0.expectedStartTime })

        let preview = h.ok(
            .previewWorkPool(
                .with {
                    $0.name = "pool"; $0.hours = 12
                })
        ).flowRuns.flowRuns
        #expect(preview.map(\.expectedStartTime.date) == (1...12).map { TestDates.at(Double($0) * 3600) })
    }

    @Test func toppingUpNeverMakesATimeTwiceAndKeepsTheHorizonFull() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 3600)
        for _ in 0..<5 { try h.advance(by: 60) }
        #expect(h.runs().count == 100, "five top-ups inside the first hour add nothing")

        // Two hours on, with no worker: two runs are due (Late), and two more were made.
        try h.advance(by: 2 * 3600)
        let runs = h.runs()
        #expect(Set(runs.map(\.scheduledTime.date)).count == runs.count, "one run per time")
        #expect(runs.count == 102)
        #expect(runs.filter { $0.stateName == "Late" }.count == 2)
    }

    @Test func aRestartMakesNoRunTwiceAndLosesNone() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600)
        let before = h.runs()
        h.clock.advance(by: 30)
        var again = try h.restarted()
        #expect(again.runs().map(\.id) == before.map(\.id), "the same runs, none made again")

        // Down for 25 minutes: the two runs due meanwhile are there (catch-up all), the
        // horizon is full again, and no time has two runs.
        again.clock.advance(by: 25 * 60)
        var later = try again.restarted()
        let runs = later.runs()
        #expect(Set(runs.map(\.scheduledTime.date)).count == runs.count)
        #expect(runs.filter { $0.expectedStartTime.date <= later.clock.now }.count == 2)
        #expect(runs.filter { $0.expectedStartTime.date > later.clock.now }.count == 100)
    }

    @Test func aDueRunGoesToAnIdleWorkerAtItsTime() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 60)
        #expect(assignments(try h.hello("w1")).isEmpty)
        for _ in 0..<59 {
            #expect(assignments(try h.advance(by: 1)).isEmpty)
            try h.heartbeat("w1")
        }
        let sent = assignments(try h.advance(by: 1))
        #expect(sent.count == 1)
        #expect(h.flowRun(try #require(sent.first).run).scheduledTime.date == TestDates.at(60))
    }

    @Test func aRunPastTheGraceIsLateUntilItStarts() throws {
        var settings = CoordinatorHarness.settings
        settings.lateAfter = 30
        var h = try CoordinatorHarness(settings: settings)
        h.createPool()
        h.createScheduled(interval: 3600)
        try h.advance(by: 3600 + 30)
        #expect(h.runs().first?.stateName == "Scheduled", "30 s late is within a 30 s grace")
        try h.advance(by: 1)
        let late = try #require(h.runs().first)
        #expect(late.stateName == "Late")
        #expect(late.stateType == .scheduled)
        let sent = assignments(try h.hello("w1"))
        #expect(sent.map(\.run) == [late.id])
        #expect(h.flowRun(late.id).stateName == "Pending")
    }

    // MARK: Changes replace future runs, never Late or started ones

    @Test func updatingTheDeploymentReplacesItsFutureRunsAndKeepsLateAndStartedOnes() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600)
        try h.advance(by: 600 + 60)  // the first run is Late
        try h.advance(by: 600)  // the second is due too
        #expect(try h.hello("w1", limit: 1).count == 2, "welcome, and the oldest due run")
        let started = try #require(h.runs().first { $0.stateType == .pending })
        try h.started("w1", started.id, attempt: 1)
        let late = try #require(h.runs().first { $0.stateName == "Late" })
        let future = h.runs().filter { $0.expectedStartTime.date > h.clock.now }

        h.ok(
            .updateDeployment(
                .with {
                    $0.name = "deploy"; $0.command = "echo new"
                }))
        let after = h.runs()
        #expect(Set(after.map(\.scheduledTime.date)).count == after.count, "no time twice")
        #expect(h.flowRun(started.id).stateType == .running)
        #expect(h.flowRun(late.id).command == "true", "the Late run stays as it was")
        let replaced = after.filter { $0.expectedStartTime.date > h.clock.now }
        #expect(replaced.map(\.expectedStartTime) == future.map(\.expectedStartTime))
        #expect(Set(replaced.map(\.id)).isDisjoint(with: future.map(\.id)))
        #expect(replaced.allSatisfy { $0.command == "echo new" })
    }

    @Test func changingAScheduleReplacesItsFutureRunsAndKeepsItsLateOnes() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600)
        try h.advance(by: 660)
        let late = try #require(h.runs().first)
        let changed = h.ok(
            .updateDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"
                    $0.schedule = "interval-600"
                    $0.definition = .with {
                        $0.interval = .with {
                            $0.seconds = 900; $0.anchorDate = Google_Protobuf_Timestamp(date: TestDates.epoch)
                        }
                        $0.parametersJson = #"{"speed":"slower"}"#
                    }
                })
        ).deploymentSchedule
        #expect(changed.slug == "interval-600", "the slug stays")
        #expect(changed.interval.seconds == 900)
        let runs = h.runs()
        #expect(runs.first?.id == late.id, "the Late run stays")
        let future = runs.dropFirst()
        #expect(future.first?.expectedStartTime.date == TestDates.at(900))
        #expect(future.allSatisfy { Int($0.expectedStartTime.date.timeIntervalSince(TestDates.epoch)) % 900 == 0 })
        #expect(future.allSatisfy { $0.parameters.fields["speed"]?.stringValue == "slower" })
        #expect(Set(runs.map(\.scheduledTime.date)).count == runs.count)
        let missing = h.call(
            .updateDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"; $0.schedule = "nope"; $0.active = false
                }))
        #expect(missing.errorCode == .notFound)
    }

    @Test func aCancelledFutureRunIsNotMadeAgainWhenItsScheduleIsReplaced() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600)
        let third = h.runs()[2]
        h.ok(.cancelFlowRun(.with { $0.id = third.id }))
        h.ok(
            .updateDeployment(
                .with {
                    $0.name = "deploy"; $0.command = "echo new"
                }))
        let atThatTime = h.runs(limit: 1000).filter { $0.scheduledTime == third.scheduledTime }
        #expect(atThatTime.map(\.id) == [third.id])
    }

    @Test func aScheduleMadeAgainUnderADeletedOnesSlugSkipsTimesThatHadRuns() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600)
        let third = h.runs()[2]
        h.ok(.cancelFlowRun(.with { $0.id = third.id }))
        h.ok(
            .deleteDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"; $0.schedule = "interval-600"
                }))
        #expect(h.runs().isEmpty)
        h.ok(
            .createDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"
                    $0.schedule = .with {
                        $0.interval = .with {
                            $0.seconds = 600; $0.anchorDate = Google_Protobuf_Timestamp(date: TestDates.epoch)
                        }
                    }
                }))
        let runs = h.runs(limit: 1000)
        #expect(runs.filter { $0.scheduledTime == third.scheduledTime }.map(\.id) == [third.id])
        #expect(runs.filter { $0.stateType == .scheduled }.count == 99)
    }

    @Test func aCancelledFutureRunIsNotMadeAgainWhenItsDeploymentResumes() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600)
        let third = h.runs()[2]
        h.ok(.cancelFlowRun(.with { $0.id = third.id }))
        h.ok(
            .updateDeployment(
                .with {
                    $0.name = "deploy"; $0.paused = true
                }))
        h.ok(
            .updateDeployment(
                .with {
                    $0.name = "deploy"; $0.paused = false
                }))
        let runs = h.runs(limit: 1000)
        #expect(runs.filter { $0.scheduledTime == third.scheduledTime }.map(\.id) == [third.id])
        #expect(runs.filter { $0.stateType == .scheduled }.count == 99)
    }

    @Test func pausingTheDeploymentWithdrawsItsFutureRunsAndResumingStartsFromNow() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600)
        try h.advance(by: 660)
        let late = try #require(h.runs().first)
        h.ok(
            .updateDeployment(
                .with {
                    $0.name = "deploy"; $0.paused = true
                }))
        #expect(h.runs().map(\.id) == [late.id], "only the Late run is left")
        #expect(h.ok(.getDeployment(.with { $0.name = "deploy" })).deployment.paused)

        try h.advance(by: 3 * 600)
        #expect(h.runs().count == 1, "a paused deployment makes no runs")
        h.ok(
            .updateDeployment(
                .with {
                    $0.name = "deploy"; $0.paused = false
                }))
        let resumed = h.runs().filter { $0.id != late.id }
        #expect(resumed.count == 100)
        #expect(resumed.allSatisfy { $0.expectedStartTime.date > h.clock.now }, "the paused time is not caught up")
    }

    @Test func schedulesAreCreatedListedPausedResumedAndDeleted() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 3600)
        let cron = h.ok(
            .createDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"
                    $0.schedule = .with {
                        $0.cron = .with {
                            $0.cron = "30 9 * * *"; $0.timezone = "Europe/Paris"
                        }
                        $0.parametersJson = #"{"who":"cron"}"#
                    }
                })
        ).deploymentSchedule
        #expect(cron.slug == "cron-30-9-x-x-x")
        #expect(cron.cron.timezone == "Europe/Paris")
        #expect(cron.cron.dayOr)
        let cronRuns = h.runs(limit: 1000).filter { $0.scheduleSlug == cron.slug }
        #expect(cronRuns.count == 100)
        #expect(cronRuns.first?.expectedStartTime.date == TestDates.at(8.5 * 3600), "09:30 in Paris is 08:30 UTC in January")
        #expect(cronRuns.first?.parameters.fields["who"]?.stringValue == "cron")

        let listed = h.ok(.listDeploymentSchedules(.with { $0.deploymentName = "deploy" })).deploymentSchedules.schedules
        #expect(listed.map(\.slug) == ["interval-3600", cron.slug])

        let paused = h.ok(
            .updateDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"; $0.schedule = cron.slug; $0.active = false
                })
        ).deploymentSchedule
        #expect(!paused.active)
        #expect(paused.nextRuns.isEmpty)
        #expect(h.runs(limit: 1000).allSatisfy { $0.scheduleSlug == "interval-3600" })

        h.ok(
            .updateDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"; $0.schedule = cron.id; $0.active = true
                }))
        #expect(h.runs(limit: 1000).filter { $0.scheduleSlug == cron.slug }.count == 100)

        h.ok(
            .deleteDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"; $0.schedule = "interval-3600"
                }))
        #expect(h.runs(limit: 1000).allSatisfy { $0.scheduleSlug == cron.slug })
        let missing = h.call(
            .deleteDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy"; $0.schedule = "interval-3600"
                }))
        #expect(missing.errorCode == .notFound)
        #expect(missing.error.message.contains("drover deployment schedule ls deploy"))
    }

    @Test func badSchedulesAreRefusedWithWhatToFix() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        let zone = h.call(
            .createDeployment(
                .scheduled(
                    .with {
                        $0.cron = .with {
                            $0.cron = "@daily"; $0.timezone = "Mars/Olympus"
                        }
                    })))
        #expect(zone.errorCode == .invalidArgument)
        #expect(zone.error.message.contains("IANA"))
        let cron = h.call(.createDeployment(.scheduled(.with { $0.cron = .with { $0.cron = "61 * * * *" } })))
        #expect(cron.errorCode == .invalidArgument)
        let none = h.call(.createDeployment(.scheduled(Drover_V1_ScheduleSpec())))
        #expect(none.error.message.contains("--interval, --cron or --rrule"))
        #expect(h.call(.getDeployment(.with { $0.name = "deploy" })).errorCode == .notFound, "nothing was created")

        h.createScheduled(interval: 60)
        let clash = h.call(
            .createDeploymentSchedule(
                .with {
                    $0.deploymentName = "deploy";
                    $0.schedule = .with {
                        $0.slug = "interval-60"; $0.interval.seconds = 120
                    }
                }))
        #expect(clash.errorCode == .alreadyExists)
    }

    @Test func deletingAScheduledDeploymentTakesItsUntriedRunsWithIt() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600)
        try h.advance(by: 700)
        #expect(!h.runs().isEmpty)
        h.ok(.deleteDeployment(.with { $0.name = "deploy" }))
        #expect(try h.store.loadUnfinishedRuns().isEmpty)
        #expect(assignments(try h.hello("w1")).isEmpty)
    }

    // MARK: Catch-up

    @Test(arguments: [(Drover_V1_CatchUp.all, 5), (.latest, 1), (.none, 0)])
    func runsMissedWhileTheServerWasDownFollowTheCatchUpPolicy(policy: Drover_V1_CatchUp, kept: Int) throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600, catchUp: policy)
        h.clock.advance(by: 5 * 600 + 60)  // down while five runs fell due
        var again = try h.restarted()
        let due = again.runs(limit: 1000).filter { $0.expectedStartTime.date <= again.clock.now }
        #expect(due.count == 5)
        let waiting = due.filter { $0.stateType == .scheduled }
        #expect(waiting.count == kept)
        if policy == .latest { #expect(waiting.first?.expectedStartTime.date == TestDates.at(3000), "the newest") }
        let skipped = due.filter { $0.stateType == .cancelled }
        #expect(skipped.count == 5 - kept)
        #expect(skipped.allSatisfy { $0.stateHistory.last?.message.contains("catch-up policy") == true })
        #expect(assignments(try again.hello("w1", limit: 10)).count == kept)
    }

    @Test func anOutageLongerThanTheHorizonIsCaughtUpFromTheSchedule() throws {
        var settings = CoordinatorHarness.settings
        settings.horizon = ScheduleHorizon(maxRuns: 2, maxTime: 7200, minRuns: 1, minTime: 600)
        var h = try CoordinatorHarness(settings: settings)
        h.createPool()
        h.createScheduled(interval: 600, catchUp: .latest)
        #expect(h.runs().count == 2)
        h.clock.advance(by: 3600 + 60)  // six times passed; two had runs
        var again = try h.restarted()
        let runs = again.runs(limit: 1000)
        #expect(Set(runs.map(\.scheduledTime.date)).count == runs.count)
        let waiting = runs.filter { $0.stateType == .scheduled && $0.expectedStartTime.date <= again.clock.now }
        #expect(waiting.map(\.expectedStartTime.date) == [TestDates.at(3600)], "only the newest missed time runs")
        #expect(runs.filter { $0.stateType == .cancelled }.count == 2, "the two made before the outage")
    }

    @Test func runsMissedWhileThePoolWasPausedFollowThePolicyOnResume() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 600, catchUp: .none)
        try h.hello("w1")
        h.ok(
            .updateWorkPool(
                .with {
                    $0.name = "pool"; $0.paused = true
                }))
        try h.advance(by: 3 * 600 + 60)
        #expect(h.runs().filter { $0.stateName == "Late" }.count == 3)
        let resumed = try {
            h.ok(
                .updateWorkPool(
                    .with {
                        $0.name = "pool"; $0.paused = false
                    }))
            return try h.takeOutbox()
        }()
        #expect(assignments(resumed).isEmpty, "none of the missed runs goes")
        #expect(h.runs(limit: 1000).filter { $0.stateType == .cancelled }.count == 3)
    }

    // MARK: Deployment concurrency

    @Test func enqueueHoldsADueRunUntilARunOfTheDeploymentEnds() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.ok(.createDeployment(.scheduled(nil, concurrencyLimit: 1, strategy: .enqueue)))
        let first = h.runDeployment()
        let second = h.runDeployment()
        let sent = assignments(try h.hello("w1", limit: 2))
        #expect(sent.map(\.run) == [first.id])
        #expect(h.flowRun(second.id).stateName == "AwaitingConcurrencySlot")
        // Another worker with credit does not take it either, and runs of other deployments
        // are not held up behind it.
        #expect(assignments(try h.hello("w2")).isEmpty)
        h.createDeployment("other")
        let other = h.runDeployment("other")
        #expect(assignments(try h.takeOutbox()).map(\.run) == [other.id])

        try h.started("w1", first.id, attempt: 1)
        let next = assignments(try h.finished("w1", first.id, attempt: 1, .runCompleted, exitCode: 0))
        #expect(next.map(\.run) == [second.id], "it goes the moment the first ends")
    }

    @Test func cancelNewCancelsADueRunOfAFullDeployment() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.ok(.createDeployment(.scheduled(nil, concurrencyLimit: 1, strategy: .cancelNew)))
        let first = h.runDeployment()
        let second = h.runDeployment()
        let sent = assignments(try h.hello("w1", limit: 2))
        #expect(sent.map(\.run) == [first.id])
        let cancelled = h.flowRun(second.id)
        #expect(cancelled.stateType == .cancelled)
        #expect(cancelled.stateHistory.last?.message.contains("CANCEL_NEW") == true)
        // The worker kept its credit: a run of another deployment goes to it.
        h.createDeployment("other")
        let other = h.runDeployment("other")
        #expect(assignments(try h.takeOutbox()).map(\.run) == [other.id])
    }

    @Test func cancelNewCancelsAtTheDueTimeEvenWhenNoWorkerIsFree() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.ok(.createDeployment(.scheduled(nil, concurrencyLimit: 1, strategy: .cancelNew)))
        let first = h.runDeployment()
        try h.hello("w1", limit: 1)
        try h.started("w1", first.id, attempt: 1)
        // Due in 2 s; the only worker is busy, so the dispatcher would keep it in line.
        let second = h.runDeployment(expectedStart: h.clock.now.addingTimeInterval(2))
        let manual = h.runDeployment("deploy", expectedStart: h.clock.now.addingTimeInterval(10))
        try h.advance(by: 1)
        #expect(h.flowRun(second.id).stateType == .scheduled)
        try h.heartbeat("w1")
        try h.advance(by: 1)
        let cancelled = h.flowRun(second.id)
        #expect(cancelled.stateType == .cancelled)
        #expect(cancelled.stateHistory.last?.message.contains("CANCEL_NEW") == true)

        // Once the deployment has room, a run due then goes.
        try h.finished("w1", first.id, attempt: 1, .runCompleted, exitCode: 0)
        try h.heartbeat("w1")
        for _ in 0..<4 {
            try h.advance(by: 2)
            try h.heartbeat("w1")
        }
        #expect(h.flowRun(manual.id).stateType == .pending)
    }

    @Test func aRetryWaitsForItsSlotRatherThanBeCancelled() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.ok(
            .createDeployment(
                .with {
                    $0.name = "deploy"
                    $0.workPoolName = "pool"
                    $0.command = "true"
                    $0.retries = 1
                    $0.retryDelaySeconds = 5
                    $0.concurrencyLimit = 1
                    $0.collisionStrategy = .cancelNew
                }))
        let first = h.runDeployment()
        try h.hello("w1", limit: 2)
        try h.started("w1", first.id, attempt: 1)
        try h.finished("w1", first.id, attempt: 1, .runFailed, exitCode: 1)
        #expect(h.flowRun(first.id).stateName == "AwaitingRetry")

        // A new run takes the freed slot; when the retry falls due, it waits for it.
        let second = h.runDeployment()
        #expect(h.flowRun(second.id).stateType == .pending)
        try h.started("w1", second.id, attempt: 1)
        try h.advance(by: 5)
        #expect(h.flowRun(first.id).stateName == "AwaitingConcurrencySlot")
        let next = assignments(try h.finished("w1", second.id, attempt: 1, .runCompleted, exitCode: 0))
        #expect(next.map(\.run) == [first.id])
        #expect(next.first?.attempt == 2)
    }

    @Test func raisingTheLimitLetsWaitingRunsGo() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.ok(.createDeployment(.scheduled(nil, concurrencyLimit: 1, strategy: .enqueue)))
        _ = h.runDeployment()
        let second = h.runDeployment()
        try h.hello("w1", limit: 2)
        h.ok(
            .updateDeployment(
                .with {
                    $0.name = "deploy"; $0.concurrencyLimit = 2
                }))
        #expect(assignments(try h.takeOutbox()).map(\.run) == [second.id])
    }
}

extension Drover_V1_CreateDeployment {
    /// A deployment "deploy" in "pool" with one schedule (or none).
    static func scheduled(
        _ schedule: Drover_V1_ScheduleSpec?, catchUp: Drover_V1_CatchUp = .unspecified, concurrencyLimit: UInt32? = nil,
        strategy: Drover_V1_CollisionStrategy = .unspecified
    ) -> Drover_V1_CreateDeployment {
        .with {
            $0.name = "deploy"
            $0.workPoolName = "pool"
            $0.command = "true"
            if let schedule { $0.schedules = [schedule] }
            $0.catchUp = catchUp
            if let concurrencyLimit { $0.concurrencyLimit = concurrencyLimit }
            $0.collisionStrategy = strategy
        }
    }
}

extension CoordinatorHarness {
    /// Creates "deploy" with an interval schedule anchored at the test epoch.
    @discardableResult
    mutating func createScheduled(
        interval seconds: UInt32, catchUp: Drover_V1_CatchUp = .unspecified, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Drover_V1_Deployment {
        ok(
            .createDeployment(
                .scheduled(
                    .with {
                        $0.interval = .with {
                            $0.seconds = seconds
                            $0.anchorDate = Google_Protobuf_Timestamp(date: TestDates.epoch)
                        }
                    }, catchUp: catchUp)), sourceLocation: sourceLocation
        ).deployment
    }

    /// The deployment's unfinished runs by expected start (with `limit`, also finished ones).
    mutating func runs(limit: UInt32? = nil) -> [Drover_V1_FlowRun] {
        let all = ok(
            .listFlowRuns(
                .with {
                    $0.deploymentName = "deploy"; $0.limit = 10_000
                })
        ).flowRuns.flowRuns
        let kept = limit == nil ? all.filter { ![.completed, .failed, .crashed, .cancelled].contains($0.stateType) } : all
        return kept.sorted { ($0.expectedStartTime.date, $0.created.date) < ($1.expectedStartTime.date, $1.created.date) }
    }
}
