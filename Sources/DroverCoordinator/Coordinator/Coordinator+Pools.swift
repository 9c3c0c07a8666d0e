import DroverCore
import DroverProto
import Foundation

// Work pools and work queues.
extension Coordinator {
    mutating func createPool(_ create: Drover_V1_CreateWorkPool) throws(DroverError) -> Drover_V1_WorkPool {
        // proto3 cannot tell an empty type from an absent one: absent means the default type.
        let type = try WorkPoolType.parse(create.type.isEmpty ? WorkPoolType.process.rawValue : create.type)
        let new = NewWorkPool(
            name: create.name, type: type, description: create.description_p,
            baseJobTemplate: create.hasBaseJobTemplateJson
                ? try BaseJobTemplate(parsing: create.baseJobTemplateJson) : nil,
            concurrencyLimit: create.hasConcurrencyLimit ? create.concurrencyLimit : nil,
            isPaused: create.paused)
        let now = clock()
        let pool = try mutateCatalog { catalog throws(DroverError) in
            let changes = try catalog.createPool(new, now: now)
            return (try catalog.pool(named: new.name), changes)
        }
        try refreshDispatchRules(poolNamed: pool.name)
        logger.info("created work pool", metadata: ["pool.name": "\(pool.name)"])
        return wire(pool)
    }

    mutating func updatePool(_ update: Drover_V1_UpdateWorkPool) throws(DroverError) -> Drover_V1_WorkPool {
        let change = WorkPoolUpdate(
            description: update.hasDescription_p ? update.description_p : nil,
            baseJobTemplate: update.hasBaseJobTemplateJson
                ? try BaseJobTemplate(parsing: update.baseJobTemplateJson) : nil,
            concurrencyLimit: try Self.limitChange(
                set: update.hasConcurrencyLimit ? update.concurrencyLimit : nil, remove: update.removeConcurrencyLimit),
            isPaused: update.hasPaused ? update.paused : nil)
        let now = clock()
        let wasPaused = try catalog.pool(named: update.name).isPaused
        let pool = try mutateCatalog { catalog throws(DroverError) in
            try catalog.updatePool(named: update.name, change, now: now)
        }
        if wasPaused && !pool.isPaused {
            try catchUp(now: now, reason: "missed while the work pool was paused") { $0.poolID == pool.id }
        }
        try refreshDispatchRules(poolNamed: pool.name)
        logger.info("updated work pool", metadata: ["pool.name": "\(pool.name)"])
        return wire(pool)
    }

    mutating func deletePool(_ delete: Drover_V1_DeleteWorkPool) throws(DroverError) -> Drover_V1_Deleted {
        let pool = try catalog.pool(named: delete.name)
        let users = deployments.values.filter { $0.poolID == pool.id }.map(\.name).sorted()
        guard users.isEmpty else {
            throw .failedPrecondition(
                "Work pool '\(pool.name)' is used by deployments \(users.joined(separator: ", ")); delete them first.")
        }
        let unfinished = activeRuns.values.filter { $0.poolID == pool.id }.count
        guard unfinished == 0 else {
            throw .failedPrecondition(
                "Work pool '\(pool.name)' has \(unfinished) unfinished flow run\(unfinished == 1 ? "" : "s"); cancel or wait for them first."
            )
        }
        _ = try mutateCatalog { catalog throws(DroverError) in try catalog.deletePool(named: delete.name) }
        dispatcher.removePool(pool.id)
        logger.info("deleted work pool", metadata: ["pool.name": "\(pool.name)"])
        return .with {
            $0.id = pool.id.uuidString.lowercased(); $0.name = pool.name
        }
    }

    func previewPool(_ preview: Drover_V1_PreviewWorkPool) throws(DroverError) -> [Drover_V1_FlowRun] {
        let pool = try catalog.pool(named: preview.name)
        let horizon = clock().addingTimeInterval(Double(preview.hours == 0 ? 1 : preview.hours) * 3600)
        return activeRuns.values
            .filter { $0.poolID == pool.id && $0.state.type == .scheduled && $0.expectedStart <= horizon }
            .sorted { ($0.expectedStart, $0.created) < ($1.expectedStart, $1.created) }
            .map(wire)
    }

    mutating func createQueue(_ create: Drover_V1_CreateWorkQueue) throws(DroverError) -> Drover_V1_WorkQueue {
        let new = NewWorkQueue(
            name: create.name, poolName: create.workPoolName, description: create.description_p,
            priority: create.hasPriority ? create.priority : nil,
            concurrencyLimit: create.hasConcurrencyLimit ? create.concurrencyLimit : nil, isPaused: create.paused)
        let now = clock()
        let queue = try mutateCatalog { catalog throws(DroverError) in
            let changes = try catalog.createQueue(new, now: now)
            return (try catalog.queue(named: new.name, inPool: new.poolName), changes)
        }
        try refreshDispatchRules(poolNamed: create.workPoolName)
        logger.info("created work queue", metadata: ["pool.name": "\(create.workPoolName)", "queue.name": "\(queue.name)"])
        return wire(queue, poolName: create.workPoolName)
    }

    func listQueues(_ list: Drover_V1_ListWorkQueues) throws(DroverError) -> [Drover_V1_WorkQueue] {
        let pools = list.workPoolName.isEmpty ? catalog.pools.reversed() : [try catalog.pool(named: list.workPoolName)]
        var queues: [Drover_V1_WorkQueue] = []
        for pool in pools {
            for queue in try catalog.queues(inPool: pool.name) { queues.append(wire(queue, poolName: pool.name)) }
        }
        return queues
    }

    mutating func updateQueue(_ update: Drover_V1_UpdateWorkQueue) throws(DroverError) -> Drover_V1_WorkQueue {
        let change = WorkQueueUpdate(
            description: update.hasDescription_p ? update.description_p : nil,
            priority: update.hasPriority ? update.priority : nil,
            concurrencyLimit: try Self.limitChange(
                set: update.hasConcurrencyLimit ? update.concurrencyLimit : nil, remove: update.removeConcurrencyLimit),
            isPaused: update.hasPaused ? update.paused : nil)
        let now = clock()
        let wasPaused = try catalog.queue(named: update.name, inPool: update.workPoolName).isPaused
        let queue = try mutateCatalog { catalog throws(DroverError) in
            try catalog.updateQueue(named: update.name, inPool: update.workPoolName, change, now: now)
        }
        if wasPaused && !queue.isPaused {
            try catchUp(now: now, reason: "missed while the work queue was paused") { $0.queueID == queue.id }
        }
        try refreshDispatchRules(poolNamed: update.workPoolName)
        logger.info("updated work queue", metadata: ["pool.name": "\(update.workPoolName)", "queue.name": "\(queue.name)"])
        return wire(queue, poolName: update.workPoolName)
    }

    mutating func deleteQueue(_ delete: Drover_V1_DeleteWorkQueue) throws(DroverError) -> Drover_V1_Deleted {
        let queue = try catalog.queue(named: delete.name, inPool: delete.workPoolName)
        let users = deployments.values.filter { $0.queueID == queue.id }.map(\.name).sorted()
        guard users.isEmpty || queue.isDefault else {
            throw .failedPrecondition(
                "Work queue '\(queue.name)' is used by deployments \(users.joined(separator: ", ")); "
                    + "move or delete them first.")
        }
        let unfinished = activeRuns.values.filter { $0.queueID == queue.id }.count
        guard unfinished == 0 || queue.isDefault else {
            throw .failedPrecondition(
                "Work queue '\(queue.name)' has \(unfinished) unfinished flow run\(unfinished == 1 ? "" : "s"); cancel or wait for them first."
            )
        }
        _ = try mutateCatalog { catalog throws(DroverError) in
            try catalog.deleteQueue(named: delete.name, inPool: delete.workPoolName)
        }
        try refreshDispatchRules(poolNamed: delete.workPoolName)
        logger.info("deleted work queue", metadata: ["pool.name": "\(delete.workPoolName)", "queue.name": "\(queue.name)"])
        return .with {
            $0.id = queue.id.uuidString.lowercased(); $0.name = queue.name
        }
    }

    static func limitChange(set: UInt32?, remove: Bool) throws(DroverError) -> LimitChange {
        switch (set, remove) {
        case (nil, false): return .keep
        case (let limit?, false): return .set(limit)
        case (nil, true): return .clear
        case (_?, true): throw .invalidArgument("Give a concurrency limit or clear it, not both.")
        }
    }

    // MARK: Wire forms with live status

    func wire(_ pool: WorkPool) -> Drover_V1_WorkPool {
        Drover_V1_WorkPool(pool, onlineWorkers: dispatcher.connectedWorkers(inPool: pool.id))
    }

    func wire(_ queue: WorkQueue, poolName: String) -> Drover_V1_WorkQueue {
        let serving = sessions.values.contains { session in
            session.poolID == queue.poolID && (session.queueNames.isEmpty || session.queueNames.contains(queue.name))
        }
        return Drover_V1_WorkQueue(queue, poolName: poolName, onlineWorkers: serving ? 1 : 0)
    }
}
