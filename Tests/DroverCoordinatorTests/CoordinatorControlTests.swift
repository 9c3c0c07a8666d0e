import DroverCore
import DroverProto
import DroverStore
import DroverTestSupport
import Foundation
import Logging
import Testing

@testable import DroverCoordinator

/// The control handler without sockets: requests in, replies out, store behind.
@Suite struct CoordinatorControlTests {
    let store: SQLiteStore
    var handler: Coordinator

    init() throws {
        store = try SQLiteStore()
        handler = try Coordinator(
            store: store, serverInfo: .with { $0.version = "test" }, logger: quietLogger,
            now: { TestDates.at(1) })
    }

    private mutating func call(_ operation: Drover_V1_ControlRequest.OneOf_Operation) -> Drover_V1_ControlReply {
        handler.handle(
            .with {
                $0.requestID = 42; $0.operation = operation
            })
    }

    @Test mutating func createdPoolIsStoredAndEchoesTheRequestID() throws {
        let reply = call(
            .createWorkPool(
                .with {
                    $0.name = "demo"; $0.type = "process"
                }))
        #expect(reply.requestID == 42)
        guard case .workPool(let pool)? = reply.result else {
            Issue.record("expected a work pool, got \(reply)")
            return
        }
        #expect(pool.name == "demo")
        #expect(pool.status == .notReady)
        #expect(!pool.hasConcurrencyLimit)
        #expect(pool.baseJobTemplate.fields["variables"] != nil)
        let stored = try store.loadCatalog()
        #expect(try stored.pool(named: "demo").id.uuidString.lowercased() == pool.id)
        #expect(try stored.queues(inPool: "demo").map(\.name) == ["default"])
    }

    @Test mutating func failuresAreTypedRepliesAndChangeNothing() throws {
        _ = call(.createWorkPool(.with { $0.name = "demo" }))
        let before = try store.loadCatalog()

        let duplicate = call(.createWorkPool(.with { $0.name = "demo" }))
        #expect(duplicate.error.code == .alreadyExists)
        #expect(duplicate.requestID == 42)

        let badType = call(
            .createWorkPool(
                .with {
                    $0.name = "other"; $0.type = "kubernetes"
                }))
        #expect(badType.error.code == .invalidArgument)
        #expect(badType.error.message == "Unknown work pool type 'kubernetes'. Please choose from process.")

        let badTemplate = call(
            .createWorkPool(
                .with {
                    $0.name = "other"; $0.baseJobTemplateJson = "{"
                }))
        #expect(badTemplate.error.code == .invalidArgument)

        let both = call(
            .updateWorkPool(
                .with {
                    $0.name = "demo"; $0.concurrencyLimit = 1; $0.removeConcurrencyLimit = true
                }))
        #expect(both.error.code == .invalidArgument)

        let missing = call(.getWorkPool(.with { $0.name = "nope" }))
        #expect(missing.error.code == .notFound)
        #expect(missing.error.message == "Work pool 'nope' does not exist.")

        let defaultQueue = call(
            .deleteWorkQueue(
                .with {
                    $0.name = "default"; $0.workPoolName = "demo"
                }))
        #expect(defaultQueue.error.code == .failedPrecondition)

        #expect(try store.loadCatalog() == before)
    }

    @Test mutating func setAndRemoveConcurrencyLimit() throws {
        _ = call(.createWorkPool(.with { $0.name = "demo" }))
        let set = call(
            .updateWorkPool(
                .with {
                    $0.name = "demo"; $0.concurrencyLimit = 3
                }))
        #expect(set.workPool.concurrencyLimit == 3)
        #expect(try store.loadCatalog().pool(named: "demo").concurrencyLimit == 3)

        let removed = call(
            .updateWorkPool(
                .with {
                    $0.name = "demo"; $0.removeConcurrencyLimit = true
                }))
        #expect(!removed.workPool.hasConcurrencyLimit)
        #expect(try store.loadCatalog().pool(named: "demo").concurrencyLimit == nil)
    }

    @Test mutating func pauseShowsInStatus() {
        _ = call(.createWorkPool(.with { $0.name = "demo" }))
        let paused = call(
            .updateWorkPool(
                .with {
                    $0.name = "demo"; $0.paused = true
                }))
        #expect(paused.workPool.status == .paused)
        #expect(paused.workPool.isPaused)
    }

    @Test mutating func queuesListInPriorityOrderAcrossPools() {
        _ = call(.createWorkPool(.with { $0.name = "a" }))
        _ = call(.createWorkPool(.with { $0.name = "b" }))
        _ = call(
            .createWorkQueue(
                .with {
                    $0.name = "high"; $0.workPoolName = "a"; $0.priority = 1
                }))
        let one = call(.listWorkQueues(.with { $0.workPoolName = "a" }))
        #expect(one.workQueues.workQueues.map(\.name) == ["high", "default"])
        #expect(one.workQueues.workQueues.map(\.priority) == [1, 2])
        let all = call(.listWorkQueues(.init()))
        #expect(all.workQueues.workQueues.map(\.workPoolName).sorted() == ["a", "a", "b"])
    }

    @Test mutating func deleteRemovesPoolAndQueuesFromStore() throws {
        _ = call(.createWorkPool(.with { $0.name = "demo" }))
        _ = call(
            .createWorkQueue(
                .with {
                    $0.name = "low"; $0.workPoolName = "demo"
                }))
        let reply = call(.deleteWorkPool(.with { $0.name = "demo" }))
        #expect(reply.deleted.name == "demo")
        #expect(try store.loadCatalog().pools.isEmpty)
    }

    @Test mutating func unknownOperationSaysTheClientMayBeNewer() {
        let reply = handler.handle(.with { $0.requestID = 7 })
        #expect(reply.error.code == .invalidArgument)
        #expect(reply.error.message.contains("newer than the server"))
    }

    @Test mutating func serverInfoIsReturnedAsGiven() {
        #expect(call(.getServerInfo(.init())).serverInfo.version == "test")
    }
}

/// A store whose commits always fail, to show a refused change leaves no trace.
private final class FailingStore: Store, @unchecked Sendable {
    func loadCatalog() throws(DroverError) -> WorkPoolCatalog { WorkPoolCatalog() }
    func loadDeployments() throws(DroverError) -> [Deployment] { [] }
    func loadUnfinishedRuns() throws(DroverError) -> [FlowRun] { [] }
    func flowRun(id: UUID) throws(DroverError) -> FlowRun? { nil }
    func flowRuns(matching filter: FlowRunFilter) throws(DroverError) -> [FlowRun] { [] }
    func logs(of run: UUID, after sequence: UInt64, limit: Int) throws(DroverError) -> [FlowRunLog] { [] }
    func scheduledTimes(ofDeployment deployment: UUID, slug: String, after date: Date) throws(DroverError) -> [Date] { [] }
    func commit(_ changes: [StoreChange]) throws(DroverError) {
        throw DroverError(.internal, "Store write failed: disk full")
    }
}

@Test func aChangeTheStoreRefusesIsNotKeptInMemory() throws {
    var handler = try Coordinator(
        store: FailingStore(), serverInfo: .init(), logger: quietLogger, now: { TestDates.at(0) })
    let create = handler.handle(.with { $0.operation = .createWorkPool(.with { $0.name = "demo" }) })
    #expect(create.error.code == .internal)
    #expect(create.error.message.contains("disk full"))
    let get = handler.handle(.with { $0.operation = .getWorkPool(.with { $0.name = "demo" }) })
    #expect(get.error.code == .notFound)
}
