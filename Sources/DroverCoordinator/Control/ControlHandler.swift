import DroverCore
import DroverProto
import DroverStore
import Foundation
import Logging
import SwiftProtobuf

/// Answers control requests: reads and changes work pools and work queues.
///
/// Holds the working copy of the catalog and writes every change through the store
/// before answering, so an acknowledged change survives a crash, and a change the
/// store refused leaves nothing behind. No sockets here: the event loop feeds it
/// decoded requests and sends back what it returns, and tests call it directly.
public struct ControlHandler {
    private var catalog: WorkPoolCatalog
    private let store: any Store
    private let now: @Sendable () -> Date
    private let serverInfo: Drover_V1_ServerInfo
    private let logger: Logger

    /// Loads the catalog from `store`.
    public init(
        store: any Store, serverInfo: Drover_V1_ServerInfo, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(DroverError) {
        self.catalog = try store.loadCatalog()
        self.store = store
        self.serverInfo = serverInfo
        self.logger = logger
        self.now = now
    }

    /// The reply to `request`; failures become error replies, never thrown.
    public mutating func handle(_ request: Drover_V1_ControlRequest) -> Drover_V1_ControlReply {
        do {
            var reply = try answer(request)
            reply.requestID = request.requestID
            return reply
        } catch {
            if error.code == .internal {
                logger.error("control request failed", metadata: ["error": "\(error.message)"])
            }
            return .failure(requestID: request.requestID, code: .init(error.code), message: error.message)
        }
    }

    private mutating func answer(_ request: Drover_V1_ControlRequest) throws(DroverError) -> Drover_V1_ControlReply {
        let now = self.now()
        switch request.operation {
        case .getServerInfo:
            return .with { $0.serverInfo = serverInfo }

        case .createWorkPool(let create):
            let new = try Self.newWorkPool(create)
            let pool = try mutate { catalog throws(DroverError) in
                let changes = try catalog.createPool(new, now: now)
                return (try catalog.pool(named: new.name), changes)
            }
            logger.info("created work pool", metadata: ["pool.name": "\(pool.name)"])
            return reply(pool)

        case .getWorkPool(let get):
            return reply(try catalog.pool(named: get.name))

        case .listWorkPools:
            return .with { $0.workPools.workPools = catalog.pools.map { Drover_V1_WorkPool($0, onlineWorkers: 0) } }

        case .updateWorkPool(let update):
            let change = try Self.workPoolUpdate(update)
            let pool = try mutate { catalog throws(DroverError) in
                try catalog.updatePool(named: update.name, change, now: now)
            }
            logger.info("updated work pool", metadata: ["pool.name": "\(pool.name)"])
            return reply(pool)

        case .deleteWorkPool(let delete):
            let pool = try mutate { catalog throws(DroverError) in try catalog.deletePool(named: delete.name) }
            logger.info("deleted work pool", metadata: ["pool.name": "\(pool.name)"])
            return .with { $0.deleted = .with { $0.id = pool.id.uuidString.lowercased(); $0.name = pool.name } }

        case .createWorkQueue(let create):
            let new = NewWorkQueue(
                name: create.name, poolName: create.workPoolName, description: create.description_p,
                priority: create.hasPriority ? create.priority : nil,
                concurrencyLimit: create.hasConcurrencyLimit ? create.concurrencyLimit : nil,
                isPaused: create.paused)
            let queue = try mutate { catalog throws(DroverError) in
                let changes = try catalog.createQueue(new, now: now)
                return (try catalog.queue(named: new.name, inPool: new.poolName), changes)
            }
            logger.info("created work queue", metadata: ["pool.name": "\(create.workPoolName)", "queue.name": "\(queue.name)"])
            return reply(queue, poolName: create.workPoolName)

        case .getWorkQueue(let get):
            return reply(try catalog.queue(named: get.name, inPool: get.workPoolName), poolName: get.workPoolName)

        case .listWorkQueues(let list):
            let pools = list.workPoolName.isEmpty ? catalog.pools.reversed() : [try catalog.pool(named: list.workPoolName)]
            var queues: [Drover_V1_WorkQueue] = []
            for pool in pools {
                for queue in try catalog.queues(inPool: pool.name) {
                    queues.append(Drover_V1_WorkQueue(queue, poolName: pool.name, onlineWorkers: 0))
                }
            }
            return .with { $0.workQueues.workQueues = queues }

        case .updateWorkQueue(let update):
            let change = try Self.workQueueUpdate(update)
            let queue = try mutate { catalog throws(DroverError) in
                try catalog.updateQueue(named: update.name, inPool: update.workPoolName, change, now: now)
            }
            logger.info("updated work queue", metadata: ["pool.name": "\(update.workPoolName)", "queue.name": "\(queue.name)"])
            return reply(queue, poolName: update.workPoolName)

        case .deleteWorkQueue(let delete):
            let queue = try mutate { catalog throws(DroverError) in
                try catalog.deleteQueue(named: delete.name, inPool: delete.workPoolName)
            }
            logger.info("deleted work queue", metadata: ["pool.name": "\(delete.workPoolName)", "queue.name": "\(queue.name)"])
            return .with { $0.deleted = .with { $0.id = queue.id.uuidString.lowercased(); $0.name = queue.name } }

        case nil:
            throw .invalidArgument(
                "The server (Drover \(DroverVersion.current)) does not know the requested operation. "
                    + "Is the client newer than the server?")
        }
    }

    /// Applies `body` to a copy of the catalog, commits its changes, and only then keeps the copy.
    private mutating func mutate<T>(
        _ body: (inout WorkPoolCatalog) throws(DroverError) -> (T, [CatalogChange])
    ) throws(DroverError) -> T {
        var next = catalog
        let (result, changes) = try body(&next)
        try store.commit(changes)
        catalog = next
        return result
    }

    private func reply(_ pool: WorkPool) -> Drover_V1_ControlReply {
        .with { $0.workPool = Drover_V1_WorkPool(pool, onlineWorkers: 0) }
    }

    private func reply(_ queue: WorkQueue, poolName: String) -> Drover_V1_ControlReply {
        .with { $0.workQueue = Drover_V1_WorkQueue(queue, poolName: poolName, onlineWorkers: 0) }
    }

    // MARK: Requests to domain values

    static func newWorkPool(_ create: Drover_V1_CreateWorkPool) throws(DroverError) -> NewWorkPool {
        // proto3 cannot tell an empty type from an absent one: absent means the default type.
        let type = try WorkPoolType.parse(create.type.isEmpty ? WorkPoolType.process.rawValue : create.type)
        return NewWorkPool(
            name: create.name, type: type, description: create.description_p,
            baseJobTemplate: create.hasBaseJobTemplateJson
                ? try BaseJobTemplate(parsing: create.baseJobTemplateJson) : nil,
            concurrencyLimit: create.hasConcurrencyLimit ? create.concurrencyLimit : nil,
            isPaused: create.paused)
    }

    static func workPoolUpdate(_ update: Drover_V1_UpdateWorkPool) throws(DroverError) -> WorkPoolUpdate {
        WorkPoolUpdate(
            description: update.hasDescription_p ? update.description_p : nil,
            baseJobTemplate: update.hasBaseJobTemplateJson
                ? try BaseJobTemplate(parsing: update.baseJobTemplateJson) : nil,
            concurrencyLimit: try limitChange(
                set: update.hasConcurrencyLimit ? update.concurrencyLimit : nil, clear: update.removeConcurrencyLimit),
            isPaused: update.hasPaused ? update.paused : nil)
    }

    static func workQueueUpdate(_ update: Drover_V1_UpdateWorkQueue) throws(DroverError) -> WorkQueueUpdate {
        WorkQueueUpdate(
            description: update.hasDescription_p ? update.description_p : nil,
            priority: update.hasPriority ? update.priority : nil,
            concurrencyLimit: try limitChange(
                set: update.hasConcurrencyLimit ? update.concurrencyLimit : nil, clear: update.removeConcurrencyLimit),
            isPaused: update.hasPaused ? update.paused : nil)
    }

    private static func limitChange(set: UInt32?, clear: Bool) throws(DroverError) -> LimitChange {
        switch (set, clear) {
        case (nil, false): return .keep
        case (let limit?, false): return .set(limit)
        case (nil, true): return .clear
        case (_?, true): throw .invalidArgument("Give a concurrency limit or clear it, not both.")
        }
    }
}
