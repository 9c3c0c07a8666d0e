import DroverCore
import DroverTestSupport
import Foundation
import Testing

@Suite struct WorkPoolCatalogTests {
    /// A catalog with pool `p`, created at `TestDates.epoch`.
    private func catalogWithPool(_ name: String = "p") throws -> WorkPoolCatalog {
        var catalog = WorkPoolCatalog()
        _ = try catalog.createPool(NewWorkPool(name: name), now: TestDates.epoch)
        return catalog
    }

    /// Adds queues of the given names to pool `p`, each after the last.
    private func addQueues(_ names: [String], to catalog: inout WorkPoolCatalog) throws {
        for name in names {
            _ = try catalog.createQueue(NewWorkQueue(name: name, poolName: "p"), now: TestDates.epoch)
        }
    }

    private func priorities(_ catalog: WorkPoolCatalog, pool: String = "p") throws -> [String: UInt32] {
        Dictionary(uniqueKeysWithValues: try catalog.queues(inPool: pool).map { ($0.name, $0.priority) })
    }

    // MARK: Pools

    @Test func createPoolMakesThePoolAndItsDefaultQueue() throws {
        var catalog = WorkPoolCatalog()
        let request = NewWorkPool(name: "p", description: "Local runs", concurrencyLimit: 3, isPaused: true)
        let changes = try catalog.createPool(request, now: TestDates.at(5))

        let pool = try catalog.pool(named: "p")
        #expect(pool.name == "p")
        #expect(pool.type == .process)
        #expect(pool.description == "Local runs")
        #expect(pool.baseJobTemplate == .process)
        #expect(pool.concurrencyLimit == 3)
        #expect(pool.isPaused)
        #expect(pool.created == TestDates.at(5))
        #expect(pool.updated == TestDates.at(5))

        let queues = try catalog.queues(inPool: "p")
        let queue = try #require(queues.first)
        #expect(queues.count == 1)
        #expect(queue.id == pool.defaultQueueID)
        #expect(queue.poolID == pool.id)
        #expect(queue.name == "default")
        #expect(queue.isDefault)
        #expect(queue.priority == 1)
        #expect(queue.description == "The work pool's default queue.")
        #expect(queue.concurrencyLimit == nil)
        #expect(!queue.isPaused)
        #expect(queue.created == TestDates.at(5))

        #expect(changes == [.savePool(pool), .saveQueue(queue)])
    }

    @Test func createPoolKeepsAGivenTemplate() throws {
        var catalog = WorkPoolCatalog()
        let template = try BaseJobTemplate(parsing: #"{"job_configuration": {}, "variables": {}}"#)
        _ = try catalog.createPool(NewWorkPool(name: "p", baseJobTemplate: template), now: TestDates.epoch)
        #expect(try catalog.pool(named: "p").baseJobTemplate == template)
    }

    @Test func createPoolWithATakenNameIsAlreadyExists() throws {
        var catalog = try catalogWithPool("p")
        let before = catalog
        let error = try #require(throws: DroverError.self) {
            try catalog.createPool(NewWorkPool(name: "p"), now: TestDates.at(1))
        }
        #expect(error.code == .alreadyExists)
        #expect(error.message.hasPrefix("Work pool named 'p' already exists."))
        #expect(catalog == before)
    }

    @Test(arguments: ["", "a/b", "-x", " padded"])
    func createPoolWithAnInvalidNameChangesNothing(_ name: String) throws {
        var catalog = try catalogWithPool("p")
        let before = catalog
        let error = try #require(throws: DroverError.self) {
            try catalog.createPool(NewWorkPool(name: name), now: TestDates.at(1))
        }
        #expect(error.code == .invalidArgument)
        #expect(catalog == before)
    }

    @Test func createPoolWithALimitAboveTheMaximumChangesNothing() throws {
        var catalog = WorkPoolCatalog()
        let error = try #require(throws: DroverError.self) {
            try catalog.createPool(
                NewWorkPool(name: "p", concurrencyLimit: ConcurrencyLimit.maximum + 1), now: TestDates.epoch)
        }
        #expect(error.code == .invalidArgument)
        #expect(catalog == WorkPoolCatalog())
    }

    @Test func poolsAreListedNewestFirst() throws {
        var catalog = WorkPoolCatalog()
        _ = try catalog.createPool(NewWorkPool(name: "middle"), now: TestDates.at(2))
        _ = try catalog.createPool(NewWorkPool(name: "oldest"), now: TestDates.at(1))
        _ = try catalog.createPool(NewWorkPool(name: "newest"), now: TestDates.at(3))
        #expect(catalog.pools.map(\.name) == ["newest", "middle", "oldest"])
    }

    @Test func poolLookupByIDGivesItsName() throws {
        let catalog = try catalogWithPool("p")
        let pool = try catalog.pool(named: "p")
        #expect(catalog.poolName(id: pool.id) == "p")
        #expect(catalog.poolName(id: UUID()) == nil)
    }

    @Test func unknownPoolIsNotFound() throws {
        var catalog = try catalogWithPool("p")
        let expected = DroverError.notFound("Work pool 'x' does not exist.")
        #expect(throws: expected) { try catalog.pool(named: "x") }
        #expect(throws: expected) { try catalog.queues(inPool: "x") }
        #expect(throws: expected) { try catalog.updatePool(named: "x", WorkPoolUpdate(), now: TestDates.epoch) }
        #expect(throws: expected) { try catalog.deletePool(named: "x") }
    }

    @Test func updatePoolSetsAndClearsTheLimit() throws {
        var catalog = try catalogWithPool("p")
        let (limited, changes) = try catalog.updatePool(
            named: "p", WorkPoolUpdate(concurrencyLimit: .set(4)), now: TestDates.at(10))
        #expect(limited.concurrencyLimit == 4)
        #expect(limited.updated == TestDates.at(10))
        #expect(limited.created == TestDates.epoch)
        #expect(changes == [.savePool(limited)])
        #expect(try catalog.pool(named: "p") == limited)

        let (kept, _) = try catalog.updatePool(named: "p", WorkPoolUpdate(), now: TestDates.at(11))
        #expect(kept.concurrencyLimit == 4)

        let (zero, _) = try catalog.updatePool(
            named: "p", WorkPoolUpdate(concurrencyLimit: .set(0)), now: TestDates.at(12))
        #expect(zero.concurrencyLimit == 0)

        let (cleared, _) = try catalog.updatePool(
            named: "p", WorkPoolUpdate(concurrencyLimit: .clear), now: TestDates.at(13))
        #expect(cleared.concurrencyLimit == nil)
        #expect(try catalog.pool(named: "p").concurrencyLimit == nil)
    }

    @Test func updatePoolPausesResumesAndDescribes() throws {
        var catalog = try catalogWithPool("p")
        let (paused, _) = try catalog.updatePool(
            named: "p", WorkPoolUpdate(description: "new words", isPaused: true), now: TestDates.at(1))
        #expect(paused.isPaused)
        #expect(paused.description == "new words")
        #expect(try catalog.pool(named: "p").isPaused)

        let (resumed, _) = try catalog.updatePool(named: "p", WorkPoolUpdate(isPaused: false), now: TestDates.at(2))
        #expect(!resumed.isPaused)
        #expect(resumed.description == "new words")
        #expect(resumed.updated == TestDates.at(2))
    }

    @Test func updatePoolReplacesTheTemplate() throws {
        var catalog = try catalogWithPool("p")
        let template = try BaseJobTemplate(parsing: #"{"job_configuration": {"x": 1}, "variables": {}}"#)
        let (pool, _) = try catalog.updatePool(
            named: "p", WorkPoolUpdate(baseJobTemplate: template), now: TestDates.at(1))
        #expect(pool.baseJobTemplate == template)
        #expect(try catalog.pool(named: "p").baseJobTemplate == template)
    }

    @Test func updatePoolWithABadLimitChangesNothing() throws {
        var catalog = try catalogWithPool("p")
        let before = catalog
        let update = WorkPoolUpdate(
            description: "ignored", concurrencyLimit: .set(ConcurrencyLimit.maximum + 1), isPaused: true)
        let error = try #require(throws: DroverError.self) {
            try catalog.updatePool(named: "p", update, now: TestDates.at(1))
        }
        #expect(error.code == .invalidArgument)
        #expect(catalog == before)
    }

    @Test func deletePoolRemovesItsQueuesFirst() throws {
        var catalog = try catalogWithPool("p")
        try addQueues(["a", "b"], to: &catalog)
        _ = try catalog.createPool(NewWorkPool(name: "other"), now: TestDates.at(1))
        let queues = try catalog.queues(inPool: "p")
        let other = catalog

        let (pool, changes) = try catalog.deletePool(named: "p")
        #expect(pool.name == "p")
        #expect(changes == queues.map { .deleteQueue(id: $0.id) } + [.deletePool(id: pool.id)])
        #expect(changes.count == 4)
        #expect(throws: DroverError.notFound("Work pool 'p' does not exist.")) { try catalog.pool(named: "p") }
        #expect(catalog.pools.map(\.name) == ["other"])
        #expect(try catalog.queues(inPool: "other") == other.queues(inPool: "other"))

        // Recreating the name starts from a clean slate: only a default queue.
        _ = try catalog.createPool(NewWorkPool(name: "p"), now: TestDates.at(2))
        #expect(try catalog.queues(inPool: "p").map(\.name) == ["default"])
    }

    // MARK: Queues

    @Test func createQueueWithoutPriorityGoesAfterTheLast() throws {
        var catalog = try catalogWithPool()
        let changes = try catalog.createQueue(
            NewWorkQueue(name: "a", poolName: "p", description: "A", concurrencyLimit: 2, isPaused: true),
            now: TestDates.at(3))
        let queue = try catalog.queue(named: "a", inPool: "p")
        #expect(queue.priority == 2)
        #expect(queue.description == "A")
        #expect(queue.concurrencyLimit == 2)
        #expect(queue.isPaused)
        #expect(queue.poolID == (try catalog.pool(named: "p")).id)
        #expect(queue.created == TestDates.at(3))
        #expect(changes == [.saveQueue(queue)])

        _ = try catalog.createQueue(NewWorkQueue(name: "b", poolName: "p", priority: 10), now: TestDates.epoch)
        _ = try catalog.createQueue(NewWorkQueue(name: "c", poolName: "p"), now: TestDates.epoch)
        #expect(try priorities(catalog) == ["default": 1, "a": 2, "b": 10, "c": 11])
        #expect(try catalog.queues(inPool: "p").map(\.name) == ["default", "a", "b", "c"])
    }

    @Test func createQueueAtATakenPriorityShiftsAndCascades() throws {
        var catalog = try catalogWithPool()
        try addQueues(["a", "b"], to: &catalog)
        _ = try catalog.createQueue(NewWorkQueue(name: "far", poolName: "p", priority: 10), now: TestDates.epoch)
        #expect(try priorities(catalog) == ["default": 1, "a": 2, "b": 3, "far": 10])

        let changes = try catalog.createQueue(
            NewWorkQueue(name: "first", poolName: "p", priority: 1), now: TestDates.at(7))
        #expect(try priorities(catalog) == ["first": 1, "default": 2, "a": 3, "b": 4, "far": 10])
        #expect(try catalog.queues(inPool: "p").map(\.name) == ["first", "default", "a", "b", "far"])

        let saved = changes.compactMap { change -> WorkQueue? in
            if case .saveQueue(let queue) = change { return queue }
            return nil
        }
        #expect(saved.count == changes.count)
        #expect(saved.map(\.name) == ["first", "default", "a", "b"])
        #expect(saved.allSatisfy { $0.updated == TestDates.at(7) })
        #expect(try catalog.queue(named: "far", inPool: "p").updated == TestDates.epoch)
    }

    @Test func createQueueStopsShiftingAtAGap() throws {
        var catalog = try catalogWithPool()
        _ = try catalog.createQueue(NewWorkQueue(name: "three", poolName: "p", priority: 3), now: TestDates.epoch)
        _ = try catalog.createQueue(NewWorkQueue(name: "four", poolName: "p", priority: 4), now: TestDates.epoch)
        let changes = try catalog.createQueue(NewWorkQueue(name: "x", poolName: "p", priority: 1), now: TestDates.epoch)
        #expect(try priorities(catalog) == ["x": 1, "default": 2, "three": 3, "four": 4])
        #expect(changes.count == 2)
    }

    @Test func createQueueWithNoRoomLeftChangesNothing() throws {
        var catalog = try catalogWithPool()
        _ = try catalog.createQueue(
            NewWorkQueue(name: "last", poolName: "p", priority: QueuePriority.maximum), now: TestDates.epoch)
        let before = catalog
        let error = try #require(throws: DroverError.self) {
            try catalog.createQueue(
                NewWorkQueue(name: "x", poolName: "p", priority: QueuePriority.maximum), now: TestDates.epoch)
        }
        #expect(error.code == .invalidArgument)
        #expect(catalog == before)
    }

    @Test func createQueueWithATakenNameIsAlreadyExists() throws {
        var catalog = try catalogWithPool()
        try addQueues(["a"], to: &catalog)
        let before = catalog
        for name in ["a", "default"] {
            let error = try #require(throws: DroverError.self) {
                try catalog.createQueue(NewWorkQueue(name: name, poolName: "p", priority: 1), now: TestDates.epoch)
            }
            #expect(error == .alreadyExists("Work queue with name: '\(name)' already exists in work pool 'p'."))
        }
        #expect(catalog == before)
    }

    @Test func sameQueueNameMayBeUsedInAnotherPool() throws {
        var catalog = try catalogWithPool("p")
        _ = try catalog.createPool(NewWorkPool(name: "q"), now: TestDates.epoch)
        _ = try catalog.createQueue(NewWorkQueue(name: "shared", poolName: "p"), now: TestDates.epoch)
        _ = try catalog.createQueue(NewWorkQueue(name: "shared", poolName: "q"), now: TestDates.epoch)
        #expect(try catalog.queue(named: "shared", inPool: "p").poolID != catalog.queue(named: "shared", inPool: "q").poolID)
    }

    @Test func queueOfAnUnknownPoolIsNotFound() throws {
        var catalog = try catalogWithPool()
        let before = catalog
        let error = try #require(throws: DroverError.self) {
            try catalog.createQueue(NewWorkQueue(name: "a", poolName: "x"), now: TestDates.epoch)
        }
        #expect(error == .notFound("Work pool 'x' does not exist."))
        #expect(catalog == before)
        #expect(throws: DroverError.notFound("No work queue named 'a' found in work pool 'p'.")) {
            try catalog.queue(named: "a", inPool: "p")
        }
    }

    @Test(arguments: [
        NewWorkQueue(name: "bad/name", poolName: "p"),
        NewWorkQueue(name: "a", poolName: "p", priority: 0),
        NewWorkQueue(name: "a", poolName: "p", priority: QueuePriority.maximum + 1),
        NewWorkQueue(name: "a", poolName: "p", concurrencyLimit: ConcurrencyLimit.maximum + 1),
    ])
    func createQueueWithInvalidInputChangesNothing(_ request: NewWorkQueue) throws {
        var catalog = try catalogWithPool()
        let before = catalog
        let error = try #require(throws: DroverError.self) { try catalog.createQueue(request, now: TestDates.epoch) }
        #expect(error.code == .invalidArgument)
        #expect(catalog == before)
    }

    @Test func updateQueueMovesItsPriorityAndShiftsOthers() throws {
        var catalog = try catalogWithPool()
        try addQueues(["a", "b"], to: &catalog)
        let (moved, changes) = try catalog.updateQueue(
            named: "b", inPool: "p", WorkQueueUpdate(priority: 1), now: TestDates.at(4))
        #expect(moved.priority == 1)
        #expect(moved.updated == TestDates.at(4))
        #expect(try priorities(catalog) == ["b": 1, "default": 2, "a": 3])
        #expect(changes.count == 3)
        #expect(changes.first == .saveQueue(moved))
        #expect(try catalog.queue(named: "default", inPool: "p").updated == TestDates.at(4))
    }

    @Test func updateQueueToAFreePriorityMovesOnlyIt() throws {
        var catalog = try catalogWithPool()
        try addQueues(["a"], to: &catalog)
        let (moved, changes) = try catalog.updateQueue(
            named: "default", inPool: "p", WorkQueueUpdate(priority: 5), now: TestDates.at(1))
        #expect(changes == [.saveQueue(moved)])
        #expect(try priorities(catalog) == ["a": 2, "default": 5])
        #expect(try catalog.queues(inPool: "p").map(\.name) == ["a", "default"])
    }

    @Test func updateQueueChangesTheOtherFields() throws {
        var catalog = try catalogWithPool()
        try addQueues(["a"], to: &catalog)
        let (updated, changes) = try catalog.updateQueue(
            named: "a", inPool: "p",
            WorkQueueUpdate(description: "d", concurrencyLimit: .set(9), isPaused: true), now: TestDates.at(2))
        #expect(updated.description == "d")
        #expect(updated.concurrencyLimit == 9)
        #expect(updated.isPaused)
        #expect(updated.priority == 2)
        #expect(changes == [.saveQueue(updated)])
        #expect(try catalog.queue(named: "a", inPool: "p") == updated)

        let (cleared, _) = try catalog.updateQueue(
            named: "a", inPool: "p", WorkQueueUpdate(concurrencyLimit: .clear, isPaused: false), now: TestDates.at(3))
        #expect(cleared.concurrencyLimit == nil)
        #expect(!cleared.isPaused)
        #expect(cleared.description == "d")
    }

    @Test func updateQueueWithInvalidInputChangesNothing() throws {
        var catalog = try catalogWithPool()
        try addQueues(["a"], to: &catalog)
        let before = catalog
        for update in [
            WorkQueueUpdate(description: "x", priority: 0),
            WorkQueueUpdate(concurrencyLimit: .set(ConcurrencyLimit.maximum + 1), isPaused: true),
        ] {
            let error = try #require(throws: DroverError.self) {
                try catalog.updateQueue(named: "a", inPool: "p", update, now: TestDates.at(1))
            }
            #expect(error.code == .invalidArgument)
        }
        #expect(throws: DroverError.self) {
            try catalog.updateQueue(named: "zzz", inPool: "p", WorkQueueUpdate(), now: TestDates.at(1))
        }
        #expect(catalog == before)
    }

    @Test func deleteQueueRemovesIt() throws {
        var catalog = try catalogWithPool()
        try addQueues(["a"], to: &catalog)
        let queue = try catalog.queue(named: "a", inPool: "p")
        let (deleted, changes) = try catalog.deleteQueue(named: "a", inPool: "p")
        #expect(deleted == queue)
        #expect(changes == [.deleteQueue(id: queue.id)])
        #expect(try catalog.queues(inPool: "p").map(\.name) == ["default"])
    }

    @Test func deletingTheDefaultQueueIsRefused() throws {
        var catalog = try catalogWithPool()
        let before = catalog
        let error = try #require(throws: DroverError.self) { try catalog.deleteQueue(named: "default", inPool: "p") }
        #expect(error == .failedPrecondition("Can't delete a pool's default queue."))
        #expect(catalog == before)
    }

    // MARK: Loading

    @Test func initFromStoredValuesDropsQueuesOfUnknownPools() throws {
        let pool = StoreFixtures.pool(name: "p")
        let defaultQueue = StoreFixtures.defaultQueue(of: pool)
        let extra = StoreFixtures.queue("extra", of: pool, priority: 2)
        let orphan = StoreFixtures.queue("orphan", of: StoreFixtures.pool(name: "gone"))

        let catalog = WorkPoolCatalog(pools: [pool], queues: [extra, orphan, defaultQueue])
        #expect(catalog.pools == [pool])
        #expect(try catalog.queues(inPool: "p") == [defaultQueue, extra])
        #expect(catalog == WorkPoolCatalog(pools: [pool], queues: [defaultQueue, extra]))
        #expect(catalog != WorkPoolCatalog(pools: [pool], queues: [defaultQueue]))
    }

    @Test func catalogsWithDifferentContentsAreNotEqual() throws {
        let one = try catalogWithPool("p")
        let two = try catalogWithPool("p")
        #expect(one != two, "pools with the same name but different ids must differ")
        #expect(one != WorkPoolCatalog())
    }
}
