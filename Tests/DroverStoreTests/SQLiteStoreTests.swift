import DroverCore
import DroverStore
import DroverTestSupport
import Foundation
import Testing

@Suite struct SQLiteStoreTests {
    /// Pools and queues that use every field, with limits nil, 0 and N, and dates that are not
    /// whole seconds but are whole microseconds exactly representable as `Double` seconds (so
    /// they compare equal after the trip through the store).
    private struct Sample {
        let pools: [WorkPool]
        let queues: [WorkQueue]
        var changes: [CatalogChange] { pools.map { .savePool($0) } + queues.map { .saveQueue($0) } }
        var catalog: WorkPoolCatalog { WorkPoolCatalog(pools: pools, queues: queues) }

        init() throws {
            let template = try BaseJobTemplate(
                parsing: """
                    {"job_configuration": {"command": "{{ cmd }}", "retries": 3, "flags": [true, null]},
                     "variables": {"properties": {"cmd": {"type": "string", "default": "echo \\"hi\\"\\n"}}}}
                    """)
            let unlimited = StoreFixtures.pool(
                name: "unlimited", created: TestDates.at(1.5), updated: TestDates.at(2.25))
            let held = StoreFixtures.pool(
                name: "held", description: "Zero means hold: “quotes” and 'apostrophes'\nsecond line",
                baseJobTemplate: template, concurrencyLimit: 0, isPaused: true, created: TestDates.at(3.125),
                updated: TestDates.at(4.0625))
            let capped = StoreFixtures.pool(
                name: "capped pool", concurrencyLimit: ConcurrencyLimit.maximum, created: TestDates.at(-0.5))
            pools = [unlimited, held, capped]
            queues =
                pools.map(StoreFixtures.defaultQueue(of:)) + [
                    StoreFixtures.queue(
                        "zero", of: held, description: "none at once", priority: 2, concurrencyLimit: 0, isPaused: true,
                        created: TestDates.at(5.5), updated: TestDates.at(6.75)),
                    StoreFixtures.queue("seven", of: held, priority: 7, concurrencyLimit: 7),
                    StoreFixtures.queue("last", of: capped, priority: QueuePriority.maximum, concurrencyLimit: 1_000_000),
                ]
        }
    }

    /// Runs the sqlite3 command-line tool on `file`, as an outside writer would.
    private func sqlite3(_ file: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [file, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sqlite3 failed on: \(sql)")
    }

    @Test func inMemoryStoreStartsEmpty() throws {
        let store = try SQLiteStore()
        #expect(store.path == ":memory:")
        #expect(try store.loadCatalog() == WorkPoolCatalog())
    }

    @Test func committedPoolsAndQueuesLoadBackExactly() throws {
        let store = try SQLiteStore()
        let sample = try Sample()
        try store.commit(sample.changes)

        let loaded = try store.loadCatalog()
        #expect(loaded == sample.catalog)
        #expect(loaded.pools == sample.catalog.pools)
        for pool in sample.pools {
            #expect(try loaded.queues(inPool: pool.name) == sample.catalog.queues(inPool: pool.name))
        }
        let held = try loaded.pool(named: "held")
        #expect(held.concurrencyLimit == 0)
        #expect(held.isPaused)
        #expect(held.updated == TestDates.at(4.0625))
        #expect(try loaded.pool(named: "unlimited").concurrencyLimit == nil)
        #expect(try loaded.queue(named: "last", inPool: "capped pool").priority == QueuePriority.maximum)
    }

    @Test func datesAreKeptToTheMicrosecond() throws {
        let store = try SQLiteStore()
        let created = TestDates.at(7.654321)
        let pool = StoreFixtures.pool(name: "p", created: created, updated: TestDates.at(8.25))
        try store.commit([.savePool(pool)])
        let loaded = try store.loadCatalog().pool(named: "p")
        // Double seconds since 1970 cannot hold every microsecond exactly; allow that rounding only.
        #expect(abs(loaded.created.timeIntervalSince(created)) < 0.5e-6)
        #expect(loaded.updated == TestDates.at(8.25))
    }

    @Test func emptyCommitChangesNothing() throws {
        let store = try SQLiteStore()
        try store.commit([])
        #expect(try store.loadCatalog() == WorkPoolCatalog())
    }

    @Test func catalogOperationsPersistThroughCommits() throws {
        let store = try SQLiteStore()
        var catalog = WorkPoolCatalog()
        try store.commit(catalog.createPool(NewWorkPool(name: "p", concurrencyLimit: 2), now: TestDates.at(1)))
        try store.commit(catalog.createQueue(NewWorkQueue(name: "a", poolName: "p"), now: TestDates.at(2)))
        try store.commit(catalog.createQueue(NewWorkQueue(name: "b", poolName: "p", priority: 1), now: TestDates.at(3)))
        try store.commit(
            catalog.updatePool(
                named: "p", WorkPoolUpdate(description: "changed", concurrencyLimit: .clear, isPaused: true),
                now: TestDates.at(4)
            ).1)
        try store.commit(
            catalog.updateQueue(
                named: "a", inPool: "p", WorkQueueUpdate(description: "moved", priority: 1, concurrencyLimit: .set(0)),
                now: TestDates.at(5)
            ).1)
        try store.commit(catalog.deleteQueue(named: "b", inPool: "p").1)

        #expect(try store.loadCatalog() == catalog)
        #expect(try store.loadCatalog().queues(inPool: "p").map(\.name) == ["a", "default"])
    }

    @Test func deletingAPoolDeletesItsQueues() throws {
        let store = try SQLiteStore()
        let pool = StoreFixtures.pool(name: "p")
        let queues = [StoreFixtures.defaultQueue(of: pool), StoreFixtures.queue("other", of: pool, priority: 2)]
        try store.commit([.savePool(pool)] + queues.map { .saveQueue($0) })

        // Only the pool's row is deleted; the database must remove the queues itself.
        try store.commit([.deletePool(id: pool.id)])
        #expect(try store.loadCatalog() == WorkPoolCatalog())

        // Saving the same pool again shows whether its old queues were left behind.
        try store.commit([.savePool(pool)])
        let reloaded = try store.loadCatalog()
        #expect(reloaded.pools == [pool])
        #expect(try reloaded.queues(inPool: "p") == [])
    }

    @Test func deleteQueueRemovesOnlyThatQueue() throws {
        let store = try SQLiteStore()
        let pool = StoreFixtures.pool(name: "p")
        let keep = StoreFixtures.defaultQueue(of: pool)
        let drop = StoreFixtures.queue("drop", of: pool, priority: 2)
        try store.commit([.savePool(pool), .saveQueue(keep), .saveQueue(drop)])
        try store.commit([.deleteQueue(id: drop.id)])
        #expect(try store.loadCatalog().queues(inPool: "p") == [keep])
    }

    @Test func failingCommitThrowsInternalAndCommitsNothing() throws {
        let store = try SQLiteStore()
        let existing = StoreFixtures.pool(name: "existing")
        try store.commit([.savePool(existing)])
        let before = try store.loadCatalog()

        let valid = StoreFixtures.pool(name: "valid")
        let orphan = StoreFixtures.queue("orphan", of: StoreFixtures.pool(name: "never-saved"))
        var renamed = existing
        renamed.description = "should not stick"
        let error = try #require(throws: DroverError.self) {
            try store.commit([.savePool(valid), .savePool(renamed), .saveQueue(orphan)])
        }
        #expect(error.code == .internal)
        #expect(error.message.hasPrefix("Store write failed: "))
        #expect(error.message.contains("FOREIGN KEY"))

        let after = try store.loadCatalog()
        #expect(after == before)
        #expect(throws: DroverError.self) { try after.pool(named: "valid") }
        #expect(try after.pool(named: "existing").description == "")
    }

    @Test func duplicatePoolNameIsAFailedCommit() throws {
        let store = try SQLiteStore()
        try store.commit([.savePool(StoreFixtures.pool(name: "p"))])
        let error = try #require(throws: DroverError.self) {
            try store.commit([.savePool(StoreFixtures.pool(name: "p"))])
        }
        #expect(error.code == .internal)
        #expect(try store.loadCatalog().pools.count == 1)
    }

    @Test func fileStoreSurvivesReopeningInWALMode() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("drover.sqlite").path
        let sample = try Sample()
        do {
            let store = try SQLiteStore(path: path)
            #expect(store.path == path)
            #expect(try store.journalMode() == "wal")
            try store.commit(sample.changes)
        }
        #expect(FileManager.default.fileExists(atPath: path))

        let reopened = try SQLiteStore(path: path)
        #expect(try reopened.journalMode() == "wal")
        #expect(try reopened.loadCatalog() == sample.catalog)
    }

    @Test(arguments: SQLiteStore.Durability.allCases)
    func fileStoreOpensWithEachDurability(_ durability: SQLiteStore.Durability) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("drover.sqlite").path
        let pool = StoreFixtures.pool(name: "p")
        do {
            let store = try SQLiteStore(path: path, durability: durability)
            try store.commit([.savePool(pool)])
            // In force on the writing connection: WAL mode must not have reset it.
            #expect(try store.synchronousSetting() == (durability == .full ? 2 : 1))
        }
        #expect(try SQLiteStore(path: path, durability: durability).loadCatalog().pools == [pool])
        let limits = try SQLiteLimitStore(path: directory.file("limits.sqlite").path, durability: durability)
        #expect(try limits.synchronousSetting() == (durability == .full ? 2 : 1))
    }

    @Test func unopenablePathIsAnInternalError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("missing-dir").appendingPathComponent("drover.sqlite").path
        let error = try #require(throws: DroverError.self) { try SQLiteStore(path: path) }
        #expect(error.code == .internal)
        #expect(error.message.contains(path))
    }

    @Test func storeWrittenByANewerDroverIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("drover.sqlite").path
        do {
            _ = try SQLiteStore(path: path)
        }
        try sqlite3(path, "INSERT INTO grdb_migrations VALUES ('v999-future')")

        let error = try #require(throws: DroverError.self) { try SQLiteStore(path: path) }
        #expect(error.code == .failedPrecondition)
        #expect(error.message.contains("newer Drover"))
        #expect(error.message.contains("v999-future"))
        #expect(error.message.contains(path))
    }

    @Test func storedPoolOfAnUnknownTypeIsAnInternalError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("drover.sqlite").path
        do {
            let store = try SQLiteStore(path: path)
            try store.commit([.savePool(StoreFixtures.pool(name: "p"))])
        }
        try sqlite3(path, "UPDATE work_pools SET type = 'kubernetes'")

        let error = try #require(throws: DroverError.self) { try SQLiteStore(path: path).loadCatalog() }
        #expect(error == DroverError(.internal, "Stored work pool 'p' has an unknown type 'kubernetes'."))
    }

    @Test func storedPoolWithADamagedTemplateIsAnInternalError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("drover.sqlite").path
        do {
            let store = try SQLiteStore(path: path)
            try store.commit([.savePool(StoreFixtures.pool(name: "p"))])
        }
        try sqlite3(path, "UPDATE work_pools SET base_job_template = '{\"variables\": {}}'")

        let error = try #require(throws: DroverError.self) { try SQLiteStore(path: path).loadCatalog() }
        #expect(error.code == .internal)
        #expect(error.message.hasPrefix("Stored work pool 'p' has a damaged base job template: "))
    }

    @Test func aNumberedLogLineSentTwiceIsStoredOnce() throws {
        let store = try SQLiteStore()
        let run = UUID()
        func line(_ number: UInt64?, _ text: String, attempt: UInt32 = 1) -> FlowRunLog {
            FlowRunLog(
                runID: run, attempt: attempt, timestamp: TestDates.at(Double(number ?? 0)), stream: .stdout, text: text, line: number)
        }
        try store.commit([.appendLogs([line(1, "one"), line(2, "two")])])
        // The worker resends both after a reconnection, with one new line; unnumbered lines
        // are always kept, and the same number in another attempt is another line.
        try store.commit([.appendLogs([line(1, "one"), line(2, "two"), line(3, "three")])])
        try store.commit([.appendLogs([line(nil, "plain"), line(nil, "plain"), line(1, "again", attempt: 2)])])
        let texts = try store.logs(of: run, after: 0, limit: 100).map(\.text)
        #expect(texts == ["one", "two", "three", "plain", "plain", "again"])
    }
}
