import Foundation

/// Every work pool and work queue, and the rules for changing them.
///
/// A value type with no I/O: each operation validates its input against the current
/// state, applies the change to `self`, and returns the `CatalogChange`s the store must
/// persist. An operation that throws leaves `self` untouched, so a caller can work on a
/// copy, commit the changes, and only then keep the copy.
public struct WorkPoolCatalog: Sendable, Equatable {
    private var poolsByName: [String: WorkPool] = [:]
    private var queuesByPool: [UUID: [String: WorkQueue]] = [:]

    public init() {}

    /// A catalog holding stored pools and queues (queues of unknown pools are ignored).
    public init(pools: [WorkPool], queues: [WorkQueue]) {
        for pool in pools { poolsByName[pool.name] = pool }
        let poolIDs = Set(pools.map(\.id))
        for queue in queues where poolIDs.contains(queue.poolID) {
            queuesByPool[queue.poolID, default: [:]][queue.name] = queue
        }
    }

    // MARK: Reading

    /// Every pool, newest first (as `prefect work-pool ls` orders them).
    public var pools: [WorkPool] {
        poolsByName.values.sorted { ($0.created, $0.name) > ($1.created, $1.name) }
    }

    /// The pool named `name`, or throws `notFound`.
    public func pool(named name: String) throws(DroverError) -> WorkPool {
        guard let pool = poolsByName[name] else {
            throw .notFound("Work pool '\(ResourceName.printable(name))' does not exist.")
        }
        return pool
    }

    /// A pool's queues by priority, first first.
    public func queues(inPool name: String) throws(DroverError) -> [WorkQueue] {
        let pool = try pool(named: name)
        return sortedQueues(of: pool.id)
    }

    /// The queue `name` of pool `poolName`, or throws `notFound`.
    public func queue(named name: String, inPool poolName: String) throws(DroverError) -> WorkQueue {
        let pool = try pool(named: poolName)
        guard let queue = queuesByPool[pool.id]?[name] else {
            throw .notFound(
                "No work queue named '\(ResourceName.printable(name))' found in work pool '\(pool.name)'.")
        }
        return queue
    }

    /// The name of the pool with `id`, if it exists.
    public func poolName(id: UUID) -> String? {
        poolsByName.values.first { $0.id == id }?.name
    }

    private func sortedQueues(of poolID: UUID) -> [WorkQueue] {
        (queuesByPool[poolID] ?? [:]).values.sorted { ($0.priority, $0.name) < ($1.priority, $1.name) }
    }

    // MARK: Pools

    /// Creates a pool and its `default` queue (priority 1).
    public mutating func createPool(_ request: NewWorkPool, now: Date) throws(DroverError) -> [CatalogChange] {
        try ResourceName.validate(request.name, kind: "work pool")
        if let limit = request.concurrencyLimit {
            try ConcurrencyLimit.validate(limit, of: "work pool '\(request.name)'")
        }
        guard poolsByName[request.name] == nil else {
            throw .alreadyExists(
                "Work pool named '\(request.name)' already exists. "
                    + "Use `drover work-pool update` to change it.")
        }
        let pool = WorkPool(
            id: UUID(), name: request.name, type: request.type, description: request.description,
            baseJobTemplate: request.baseJobTemplate ?? request.type.defaultBaseJobTemplate,
            concurrencyLimit: request.concurrencyLimit, isPaused: request.isPaused,
            defaultQueueID: UUID(), created: now, updated: now)
        let queue = WorkQueue(
            id: pool.defaultQueueID, poolID: pool.id, name: WorkQueue.defaultName,
            description: WorkQueue.defaultDescription, priority: 1, concurrencyLimit: nil, isPaused: false,
            created: now, updated: now)
        poolsByName[pool.name] = pool
        queuesByPool[pool.id] = [queue.name: queue]
        return [.savePool(pool), .saveQueue(queue)]
    }

    /// Changes the fields of `update` that are set.
    public mutating func updatePool(
        named name: String, _ update: WorkPoolUpdate, now: Date
    ) throws(DroverError) -> (WorkPool, [CatalogChange]) {
        var pool = try pool(named: name)
        if let description = update.description { pool.description = description }
        if let template = update.baseJobTemplate { pool.baseJobTemplate = template }
        switch update.concurrencyLimit {
        case .keep: break
        case .set(let limit):
            try ConcurrencyLimit.validate(limit, of: "work pool '\(name)'")
            pool.concurrencyLimit = limit
        case .clear: pool.concurrencyLimit = nil
        }
        if let paused = update.isPaused { pool.isPaused = paused }
        pool.updated = now
        poolsByName[name] = pool
        return (pool, [.savePool(pool)])
    }

    /// Deletes a pool and all its queues.
    public mutating func deletePool(named name: String) throws(DroverError) -> (WorkPool, [CatalogChange]) {
        let pool = try pool(named: name)
        let queues = sortedQueues(of: pool.id)
        poolsByName[name] = nil
        queuesByPool[pool.id] = nil
        return (pool, queues.map { .deleteQueue(id: $0.id) } + [.deletePool(id: pool.id)])
    }

    // MARK: Queues

    /// Creates a queue. A priority already taken pushes that queue (and any it then
    /// collides with) one step down; no priority puts the queue after the last.
    public mutating func createQueue(_ request: NewWorkQueue, now: Date) throws(DroverError) -> [CatalogChange] {
        let pool = try pool(named: request.poolName)
        try ResourceName.validate(request.name, kind: "work queue")
        if let limit = request.concurrencyLimit {
            try ConcurrencyLimit.validate(limit, of: "work queue '\(request.name)'")
        }
        if let priority = request.priority { try QueuePriority.validate(priority) }
        let existing = sortedQueues(of: pool.id)
        guard !existing.contains(where: { $0.name == request.name }) else {
            throw .alreadyExists("Work queue with name: '\(request.name)' already exists in work pool '\(pool.name)'.")
        }
        let priority = request.priority ?? min((existing.last?.priority ?? 0) + 1, QueuePriority.maximum)
        let queue = WorkQueue(
            id: UUID(), poolID: pool.id, name: request.name, description: request.description,
            priority: priority, concurrencyLimit: request.concurrencyLimit, isPaused: request.isPaused,
            created: now, updated: now)
        let shifted = try Self.makeRoom(at: priority, among: existing, now: now)
        for moved in shifted { queuesByPool[pool.id]![moved.name] = moved }
        queuesByPool[pool.id]![queue.name] = queue
        return [.saveQueue(queue)] + shifted.map { .saveQueue($0) }
    }

    /// Changes the fields of `update` that are set.
    public mutating func updateQueue(
        named name: String, inPool poolName: String, _ update: WorkQueueUpdate, now: Date
    ) throws(DroverError) -> (WorkQueue, [CatalogChange]) {
        var queue = try queue(named: name, inPool: poolName)
        if let description = update.description { queue.description = description }
        switch update.concurrencyLimit {
        case .keep: break
        case .set(let limit):
            try ConcurrencyLimit.validate(limit, of: "work queue '\(name)'")
            queue.concurrencyLimit = limit
        case .clear: queue.concurrencyLimit = nil
        }
        if let paused = update.isPaused { queue.isPaused = paused }
        var shifted: [WorkQueue] = []
        if let priority = update.priority, priority != queue.priority {
            try QueuePriority.validate(priority)
            let others = sortedQueues(of: queue.poolID).filter { $0.id != queue.id }
            shifted = try Self.makeRoom(at: priority, among: others, now: now)
            queue.priority = priority
        }
        queue.updated = now
        for moved in shifted { queuesByPool[queue.poolID]![moved.name] = moved }
        queuesByPool[queue.poolID]![queue.name] = queue
        return (queue, [.saveQueue(queue)] + shifted.map { .saveQueue($0) })
    }

    /// Deletes a queue; a pool's default queue cannot be deleted.
    public mutating func deleteQueue(
        named name: String, inPool poolName: String
    ) throws(DroverError) -> (WorkQueue, [CatalogChange]) {
        let queue = try queue(named: name, inPool: poolName)
        guard !queue.isDefault else {
            throw .failedPrecondition("Can't delete a pool's default queue.")
        }
        queuesByPool[queue.poolID]![name] = nil
        return (queue, [.deleteQueue(id: queue.id)])
    }

    /// The queues that must move one step down so `priority` is free: the one holding it,
    /// then each one the move collides with.
    static func makeRoom(
        at priority: UInt32, among queues: [WorkQueue], now: Date
    ) throws(DroverError) -> [WorkQueue] {
        var next = priority
        var moved: [WorkQueue] = []
        for var queue in queues.sorted(by: { $0.priority < $1.priority }) where queue.priority >= priority {
            guard queue.priority == next else { break }
            guard next < QueuePriority.maximum else {
                throw .invalidArgument("No room below priority \(priority): priorities go up to \(QueuePriority.maximum).")
            }
            next += 1
            queue.priority = next
            queue.updated = now
            moved.append(queue)
        }
        return moved
    }
}
