import DroverCore
import DroverTestSupport
import Foundation
import GRDB
import Testing

@testable import DroverStore

/// What schedules add to the store: a deployment's schedules and its pause, catch-up and
/// concurrency settings; the slug and time of a run a schedule made, one run per
/// (deployment, slug, time); and the times already made.
///
/// Dates are whole microseconds exactly representable as `Double` seconds, so they compare
/// equal after the trip through the store.
@Suite struct SQLiteStoreScheduleTests {
    private let pool = StoreFixtures.pool(name: "p")
    private var catalogChanges: [StoreChange] {
        [.catalog(.savePool(pool)), .catalog(.saveQueue(StoreFixtures.defaultQueue(of: pool)))]
    }

    /// One schedule of each kind, each field away from its default somewhere.
    private func schedules() throws -> [DeploymentSchedule] {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        return [
            DeploymentSchedule(
                id: UUID(uuidString: "00000000-0000-0000-0000-0000000005c1")!, slug: "interval-5400",
                kind: .interval(try IntervalSchedule(seconds: 5400, anchor: TestDates.at(0.5), timeZone: newYork)),
                parameters: ["n": .number(1.5), "who": "“quoted” \"x\"\n", "flags": [true, nil]],
                scheduledThrough: TestDates.at(10_800.25), madeThrough: TestDates.at(90_000)),
            DeploymentSchedule(
                slug: "cron-0-9-x-x-1-5", kind: .cron(try CronExpression("0 9 1-7 * MON-FRI", dayOr: false), timeZone: paris),
                active: false),
            DeploymentSchedule(
                slug: "rrule",
                kind: .rrule(
                    try RecurrenceRule(
                        "DTSTART;TZID=America/New_York:20260105T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=4",
                        defaultStart: TestDates.epoch, timeZone: paris)),
                scheduledThrough: TestDates.at(-86_400)),
        ]
    }

    /// Opens the file at `path` as an outside writer would, without migrating it.
    private func rawWrite(_ path: String, _ sql: String) throws {
        try DatabaseQueue(path: path).write { db in try db.execute(sql: sql) }
    }

    @Test func deploymentsLoadBackWithTheirSchedulesAndSettings() throws {
        let store = try SQLiteStore()
        let scheduled = StoreFixtures.deployment(
            "scheduled", in: pool, schedules: try schedules(), paused: true, catchUp: .latest, concurrencyLimit: 3,
            collisionStrategy: .cancelNew, created: TestDates.at(1))
        let held = StoreFixtures.deployment("held", in: pool, catchUp: .none, concurrencyLimit: 0, created: TestDates.at(2))
        let plain = StoreFixtures.deployment("plain", in: pool, created: TestDates.at(3))
        try store.commit(catalogChanges + [scheduled, held, plain].map(StoreChange.saveDeployment))

        let loaded = try store.loadDeployments()
        #expect(loaded == [scheduled, held, plain])
        #expect(loaded[0].schedules.map(\.slug) == ["interval-5400", "cron-0-9-x-x-1-5", "rrule"], "in the order added")
        #expect(loaded[0].schedules[0].scheduledThrough == TestDates.at(10_800.25))
        #expect(loaded[0].schedules[1].scheduledThrough == nil)
        #expect(loaded[0].schedules[0].madeThrough == TestDates.at(90_000))
        #expect(loaded[0].schedules[1].madeThrough == nil)
        guard case .cron(let expression, let zone) = loaded[0].schedules[1].kind else {
            Issue.record("the cron schedule came back as \(loaded[0].schedules[1].kind)")
            return
        }
        #expect(!expression.dayOr)
        #expect(zone.identifier == "Europe/Paris")
        #expect(loaded[1].concurrencyLimit == 0, "zero holds every run; it is not unlimited")
        #expect(loaded[2].concurrencyLimit == nil)
    }

    @Test func savingADeploymentAgainReplacesItsSchedules() throws {
        let store = try SQLiteStore()
        var deployment = StoreFixtures.deployment("d", in: pool, schedules: try schedules())
        try store.commit(catalogChanges + [.saveDeployment(deployment)])
        deployment.schedules.remove(at: 1)
        deployment.schedules[0].scheduledThrough = TestDates.at(16_200.25)
        deployment.paused = false
        deployment.collisionStrategy = .cancelNew
        try store.commit([.saveDeployment(deployment)])
        #expect(try store.loadDeployments() == [deployment])
    }

    @Test func runsLoadBackWithTheScheduleThatMadeThem() throws {
        let store = try SQLiteStore()
        let deployment = StoreFixtures.deployment(in: pool)
        var scheduled = StoreFixtures.run(
            of: deployment, name: "scheduled", scheduleSlug: "interval-5400", scheduledTime: TestDates.at(5400.125))
        let byHand = StoreFixtures.run(of: deployment, name: "by-hand", created: TestDates.at(1))
        try store.commit(catalogChanges + [.saveDeployment(deployment), .saveRun(scheduled), .saveRun(byHand)])

        #expect(try store.flowRun(id: scheduled.id) == scheduled)
        #expect(try store.flowRun(id: scheduled.id)?.scheduledTime == TestDates.at(5400.125))
        #expect(try store.flowRun(id: byHand.id) == byHand)
        #expect(try store.loadUnfinishedRuns() == [scheduled, byHand])
        #expect(
            try store.flowRuns(matching: FlowRunFilter(deploymentID: deployment.id)).map(\.scheduleSlug)
                == [nil, "interval-5400"])

        // An update writes what changes over the run's life and keeps where it came from.
        try scheduled.transition(to: .pending, at: TestDates.at(5401))
        try store.commit([.updateRun(scheduled)])
        #expect(try store.flowRun(id: scheduled.id) == scheduled)
        #expect(try store.flowRun(id: scheduled.id)?.scheduleSlug == "interval-5400")
    }

    @Test func aScheduleMakesOneRunPerTime() throws {
        let store = try SQLiteStore()
        let deployment = StoreFixtures.deployment(in: pool)
        let first = StoreFixtures.run(of: deployment, name: "first", scheduleSlug: "hourly", scheduledTime: TestDates.at(3600))
        try store.commit(catalogChanges + [.saveDeployment(deployment), .saveRun(first)])

        let again = StoreFixtures.run(of: deployment, name: "again", scheduleSlug: "hourly", scheduledTime: TestDates.at(3600))
        let error = try #require(throws: DroverError.self) { try store.commit([.saveRun(again)]) }
        #expect(error.code == .internal)
        #expect(error.message.contains("UNIQUE"))
        #expect(try store.flowRun(id: first.id) == first, "the first run is kept, not replaced")
        #expect(try store.flowRun(id: again.id) == nil)

        // Saving the same run again is no second run; another slug, deployment or time is
        // another run; runs made by hand have no slug and never clash.
        var saved = first
        try saved.transition(to: .pending, at: TestDates.at(3601))
        let others = [
            StoreFixtures.run(of: deployment, name: "other-slug", scheduleSlug: "daily", scheduledTime: TestDates.at(3600)),
            StoreFixtures.run(
                of: StoreFixtures.deployment("other", in: pool), name: "other-deployment", scheduleSlug: "hourly",
                scheduledTime: TestDates.at(3600)),
            StoreFixtures.run(of: deployment, name: "later", scheduleSlug: "hourly", scheduledTime: TestDates.at(7200)),
            StoreFixtures.run(of: deployment, name: "by-hand-1", created: TestDates.at(3600)),
            StoreFixtures.run(of: deployment, name: "by-hand-2", created: TestDates.at(3600)),
            StoreFixtures.run(of: deployment, name: "by-hand-3", scheduledTime: TestDates.at(3600)),
            StoreFixtures.run(of: deployment, name: "by-hand-4", scheduledTime: TestDates.at(3600)),
        ]
        try store.commit([.saveRun(saved)] + others.map(StoreChange.saveRun))
        #expect(try store.flowRun(id: first.id) == saved)
        #expect(try store.loadUnfinishedRuns().count == 1 + others.count)
    }

    @Test func scheduledTimesAreTheLaterTimesOfEveryRunTheScheduleMade() throws {
        let store = try SQLiteStore()
        let deployment = StoreFixtures.deployment(in: pool)
        func run(_ slug: String?, at seconds: Double, of owner: Deployment? = nil) -> FlowRun {
            StoreFixtures.run(
                of: owner ?? deployment, name: "run-\(seconds)", scheduleSlug: slug, scheduledTime: TestDates.at(seconds))
        }
        var finished = run("hourly", at: 3600)
        try finished.transition(to: .pending, at: TestDates.at(3600))
        try finished.transition(to: .running, at: TestDates.at(3601))
        try finished.transition(to: .completed, at: TestDates.at(3602))
        var cancelled = run("hourly", at: 10_800)
        try cancelled.transition(to: .cancelled, at: TestDates.at(100))
        let runs = [
            run("hourly", at: 14_400), finished, run("hourly", at: 0), cancelled, run("hourly", at: 7200.5),
            run("daily", at: 86_400), run(nil, at: 18_000), run("hourly", at: 21_600, of: StoreFixtures.deployment("other", in: pool)),
        ]
        try store.commit(catalogChanges + [.saveDeployment(deployment)] + runs.map(StoreChange.saveRun))

        func times(after seconds: Double, slug: String = "hourly") throws -> [Double] {
            try store.scheduledTimes(ofDeployment: deployment.id, slug: slug, after: TestDates.at(seconds))
                .map { $0.timeIntervalSince(TestDates.epoch) }
        }
        #expect(try times(after: -1) == [0, 3600, 7200.5, 10_800, 14_400], "finished runs too, earliest first")
        #expect(try times(after: 0) == [3600, 7200.5, 10_800, 14_400], "strictly after")
        #expect(try times(after: 7200.5) == [10_800, 14_400])
        #expect(try times(after: 14_400).isEmpty)
        #expect(try times(after: 0, slug: "daily") == [86_400])
        #expect(try times(after: 0, slug: "nightly").isEmpty)
        #expect(
            try store.scheduledTimes(ofDeployment: deployment.id, slug: "hourly", after: TestDates.at(7200))
                == [TestDates.at(7200.5), TestDates.at(10_800), TestDates.at(14_400)],
            "the same dates a loaded run holds")
    }

    @Test func aStoreWrittenBeforeSchedulesMigrates() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("drover.sqlite").path
        let deployment = StoreFixtures.deployment("old", in: pool)
        let run = StoreFixtures.run(of: deployment, name: "old-run")
        let created = SQLiteStore.microseconds(TestDates.epoch)
        do {
            let queue = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(queue, upTo: "v3-log-line-numbers")
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO work_pools VALUES (?, ?, 'process', '', ?, NULL, 0, ?, ?, ?);
                        INSERT INTO work_queues VALUES (?, ?, 'default', ?, 1, NULL, 0, ?, ?);
                        INSERT INTO deployments VALUES (?, 'old', ?, ?, 'true', '{}', '{}', '[]', 0, 0, '', ?, ?);
                        INSERT INTO flow_runs VALUES
                          (?, 'old-run', ?, ?, ?, '[]', '{}', '{}', 'true', ?, 'SCHEDULED', 'Scheduled',
                           '[{"type":"SCHEDULED","name":"Scheduled","timestamp":\(created),"message":""}]',
                           0, 0, 0, NULL, NULL, NULL, NULL, NULL, ?);
                        """,
                    arguments: [
                        pool.id.uuidString, pool.name, pool.baseJobTemplate.json.render(), pool.defaultQueueID.uuidString,
                        created, created,
                        pool.defaultQueueID.uuidString, pool.id.uuidString, WorkQueue.defaultDescription, created, created,
                        deployment.id.uuidString, pool.id.uuidString, pool.defaultQueueID.uuidString, created, created,
                        run.id.uuidString, deployment.id.uuidString, pool.id.uuidString, pool.defaultQueueID.uuidString,
                        created, created,
                    ])
            }
        }

        let store = try SQLiteStore(path: path)
        #expect(try store.loadCatalog() == WorkPoolCatalog(pools: [pool], queues: [StoreFixtures.defaultQueue(of: pool)]))
        #expect(try store.loadDeployments() == [deployment], "no schedules, not paused, catch up all, no limit, ENQUEUE")
        #expect(try store.loadUnfinishedRuns() == [run], "made by hand")

        let scheduled = StoreFixtures.run(of: deployment, scheduleSlug: "hourly", scheduledTime: TestDates.at(3600))
        try store.commit([.saveRun(scheduled)])
        #expect(throws: DroverError.self) {
            try store.commit([.saveRun(StoreFixtures.run(of: deployment, scheduleSlug: "hourly", scheduledTime: TestDates.at(3600)))])
        }
        #expect(try store.scheduledTimes(ofDeployment: deployment.id, slug: "hourly", after: TestDates.epoch) == [TestDates.at(3600)])
    }

    @Test func aStoredDeploymentWithAnUnknownSettingIsAnInternalError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("drover.sqlite").path
        do {
            let store = try SQLiteStore(path: path)
            try store.commit(catalogChanges + [.saveDeployment(StoreFixtures.deployment("d", in: pool))])
        }
        try rawWrite(path, "UPDATE deployments SET catch_up = 'some'")
        var error = try #require(throws: DroverError.self) { try SQLiteStore(path: path).loadDeployments() }
        #expect(error == DroverError(.internal, "Stored deployment 'd' has an unknown catch-up policy 'some'."))

        try rawWrite(path, "UPDATE deployments SET catch_up = 'all', collision_strategy = 'CANCEL_OLD'")
        error = try #require(throws: DroverError.self) { try SQLiteStore(path: path).loadDeployments() }
        #expect(error == DroverError(.internal, "Stored deployment 'd' has an unknown collision strategy 'CANCEL_OLD'."))
    }

    @Test(arguments: [
        "not json", "{}", #"[{"slug": "s"}]"#,
        #"[{"id": "00000000-0000-0000-0000-000000000001", "slug": "s", "active": true, "parameters": {}, "kind": {"cron": "nope"}}]"#,
        #"[{"id": "00000000-0000-0000-0000-000000000001", "slug": "s", "active": true, "parameters": {}, "kind": {"cron": "@daily"}, "scheduled_through": "soon"}]"#,
    ])
    func aStoredDeploymentWithDamagedSchedulesIsAnInternalError(_ schedules: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("drover.sqlite").path
        do {
            let store = try SQLiteStore(path: path)
            try store.commit(catalogChanges + [.saveDeployment(StoreFixtures.deployment("d", in: pool))])
        }
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE deployments SET schedules = ?", arguments: [schedules])
        }
        let error = try #require(throws: DroverError.self) { try SQLiteStore(path: path).loadDeployments() }
        #expect(error.code == .internal)
        #expect(error.message.hasPrefix("Stored deployment 'd' has damaged schedules: "))
    }
}
