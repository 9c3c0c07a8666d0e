import DroverCore
import DroverTestSupport
import Foundation
import Testing

@testable import DroverStore

@Suite struct GroupCommitStoreTests {
    /// A pool, its default queue and a deployment in it, as the catalog would save them.
    private struct Setting {
        let pool = StoreFixtures.pool(name: "demo")
        var queue: WorkQueue { StoreFixtures.defaultQueue(of: pool) }
        var deployment: Deployment {
            Deployment(
                id: UUID(uuidString: "00000000-0000-0000-0000-00000000d001")!, name: "demo", poolID: pool.id,
                queueID: queue.id, command: "true", parameters: [:], jobVariables: [:], tags: [], retries: 0,
                retryDelaySeconds: 0, description: "", created: TestDates.epoch, updated: TestDates.epoch)
        }
        var changes: [StoreChange] {
            [.catalog(.savePool(pool)), .catalog(.saveQueue(queue)), .saveDeployment(deployment)]
        }

        func run(_ number: Int) -> FlowRun {
            FlowRun(
                id: UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", number))!, name: "run-\(number)",
                deploymentID: deployment.id, poolID: pool.id, queueID: queue.id, tags: [], parameters: [:],
                jobVariables: [:], command: "true", expectedStart: TestDates.epoch, retries: 0, retryDelaySeconds: 0,
                created: TestDates.at(Double(number)))
        }
    }

    /// A store that counts its transactions and can be told to fail.
    private final class CountingStore: Store, @unchecked Sendable {
        let base: SQLiteStore
        var transactions: [[StoreChange]] = []
        var failing = false

        init() throws { base = try SQLiteStore() }

        func loadCatalog() throws(DroverError) -> WorkPoolCatalog { try base.loadCatalog() }
        func loadDeployments() throws(DroverError) -> [Deployment] { try base.loadDeployments() }
        func loadUnfinishedRuns() throws(DroverError) -> [FlowRun] { try base.loadUnfinishedRuns() }
        func flowRun(id: UUID) throws(DroverError) -> FlowRun? { try base.flowRun(id: id) }
        func flowRuns(matching filter: FlowRunFilter) throws(DroverError) -> [FlowRun] {
            try base.flowRuns(matching: filter)
        }
        func logs(of run: UUID, after sequence: UInt64, limit: Int) throws(DroverError) -> [FlowRunLog] {
            try base.logs(of: run, after: sequence, limit: limit)
        }
        func scheduledTimes(ofDeployment deployment: UUID, slug: String, after date: Date) throws(DroverError) -> [Date] {
            try base.scheduledTimes(ofDeployment: deployment, slug: slug, after: date)
        }
        func commit(_ changes: [StoreChange]) throws(DroverError) {
            if failing { throw DroverError(.internal, "Store write failed: disk full") }
            transactions.append(changes)
            try base.commit(changes)
        }
    }

    @Test func commitsBecomeDurableTogetherAtSync() throws {
        let base = try CountingStore()
        let store = GroupCommitStore(base)
        let setting = Setting()
        try store.commit(setting.changes)
        try store.commit([.saveRun(setting.run(1))])
        try store.commit([.saveRun(setting.run(2))])
        #expect(store.hasUnsyncedChanges)
        #expect(try base.base.loadUnfinishedRuns().isEmpty)
        try store.sync()
        #expect(!store.hasUnsyncedChanges)
        #expect(base.transactions.count == 1)
        #expect(try base.base.loadUnfinishedRuns().map(\.name) == ["run-1", "run-2"])
        try store.sync()
        #expect(base.transactions.count == 1, "a sync with nothing recorded writes nothing")
    }

    @Test func readsSeeEveryChangeRecordedBeforeThem() throws {
        let base = try CountingStore()
        let store = GroupCommitStore(base)
        let setting = Setting()
        try store.commit(setting.changes + [.saveRun(setting.run(1))])
        #expect(try store.flowRun(id: setting.run(1).id)?.name == "run-1")
        #expect(try store.loadCatalog().pools.map(\.name) == ["demo"])
        #expect(!store.hasUnsyncedChanges)
    }

    @Test func scheduledTimesSeeRunsRecordedBeforeThem() throws {
        let base = try CountingStore()
        let store = GroupCommitStore(base)
        let setting = Setting()
        let run = StoreFixtures.run(of: setting.deployment, scheduleSlug: "hourly", scheduledTime: TestDates.at(3600))
        try store.commit(setting.changes + [.saveRun(run)])
        #expect(
            try store.scheduledTimes(ofDeployment: setting.deployment.id, slug: "hourly", after: TestDates.epoch)
                == [TestDates.at(3600)])
        #expect(!store.hasUnsyncedChanges)
    }

    @Test func aRunWrittenSeveralTimesIsWrittenOnceWithItsLastState() throws {
        let base = try CountingStore()
        let store = GroupCommitStore(base)
        let setting = Setting()
        var run = setting.run(1)
        try store.commit(setting.changes + [.saveRun(run)])
        try run.transition(to: .pending, at: TestDates.at(2), message: "Sent to “w” \"a\\b\"\n\tnext\u{1}")
        try store.commit([.updateRun(run)])
        try store.commit([.appendLogs([])])
        try run.transition(to: .running, at: TestDates.at(3))
        try store.commit([.updateRun(run)])
        try store.sync()
        let written = try #require(base.transactions.first)
        #expect(written.count == setting.changes.count + 2)
        #expect(written[setting.changes.count] == .saveRun(run), "a save with the last state, where the first save was")
        #expect(try base.base.flowRun(id: run.id) == run)

        try run.transition(to: .completed, at: TestDates.at(4))
        try store.commit([.updateRun(run)])
        run.exitCode = 0
        try store.commit([.updateRun(run)])
        try store.sync()
        #expect(base.transactions.last == [.updateRun(run)])
        #expect(try base.base.flowRun(id: run.id) == run)
    }

    @Test func aWriteAfterADeletionStaysAfterIt() {
        let setting = Setting()
        let first = setting.run(1)
        var again = first
        try? again.transition(to: .pending, at: TestDates.at(2))
        let other = setting.run(2)
        let changes: [StoreChange] = [.saveRun(first), .saveRun(other), .deleteRun(id: first.id), .saveRun(again)]
        #expect(changes.savingEachRunOnce() == changes)
        let twice: [StoreChange] = [.saveRun(first), .saveRun(other), .updateRun(again), .deleteRun(id: first.id)]
        #expect(twice.savingEachRunOnce() == [.saveRun(again), .saveRun(other), .deleteRun(id: first.id)])
    }

    @Test func updatingARunTheStoreDoesNotHaveFails() throws {
        let store = try SQLiteStore()
        let setting = Setting()
        try store.commit(setting.changes)
        #expect(throws: DroverError.self) { try store.commit([.updateRun(setting.run(1))]) }
    }

    @Test func aFailedSyncIsFinal() throws {
        let base = try CountingStore()
        let store = GroupCommitStore(base)
        let setting = Setting()
        try store.commit(setting.changes)
        base.failing = true
        #expect(throws: DroverError.self) { try store.sync() }
        base.failing = false
        // The changes were acted on in memory and are gone from disk: nothing may follow them.
        #expect(throws: DroverError.self) { try store.sync() }
        #expect(throws: DroverError.self) { try store.commit([.saveRun(setting.run(1))]) }
        #expect(throws: DroverError.self) { try store.loadCatalog() }
        #expect(base.transactions.isEmpty)
    }
}
