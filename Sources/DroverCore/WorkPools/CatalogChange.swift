import Foundation

/// One change to the pools and queues, as the store must persist it.
///
/// The catalog returns the changes an operation made; the coordinator commits them to
/// the store, all in one transaction, before it acknowledges the request.
public enum CatalogChange: Sendable, Hashable {
    case savePool(WorkPool)
    case deletePool(id: UUID)
    case saveQueue(WorkQueue)
    case deleteQueue(id: UUID)
}

/// What a user asked for when creating a pool.
public struct NewWorkPool: Sendable, Hashable {
    public var name: String
    public var type: WorkPoolType
    public var description: String
    /// nil: the type's default template.
    public var baseJobTemplate: BaseJobTemplate?
    public var concurrencyLimit: UInt32?
    public var isPaused: Bool

    public init(
        name: String, type: WorkPoolType = .process, description: String = "",
        baseJobTemplate: BaseJobTemplate? = nil, concurrencyLimit: UInt32? = nil, isPaused: Bool = false
    ) {
        self.name = name
        self.type = type
        self.description = description
        self.baseJobTemplate = baseJobTemplate
        self.concurrencyLimit = concurrencyLimit
        self.isPaused = isPaused
    }
}

/// How to change a limit: leave it, set it, or remove it (unlimited).
public enum LimitChange: Sendable, Hashable {
    case keep
    case set(UInt32)
    case clear
}

/// The fields of a pool to change; nil fields stay as they are.
public struct WorkPoolUpdate: Sendable, Hashable {
    public var description: String?
    public var baseJobTemplate: BaseJobTemplate?
    public var concurrencyLimit: LimitChange
    public var isPaused: Bool?

    public init(
        description: String? = nil, baseJobTemplate: BaseJobTemplate? = nil,
        concurrencyLimit: LimitChange = .keep, isPaused: Bool? = nil
    ) {
        self.description = description
        self.baseJobTemplate = baseJobTemplate
        self.concurrencyLimit = concurrencyLimit
        self.isPaused = isPaused
    }
}

/// What a user asked for when creating a queue.
public struct NewWorkQueue: Sendable, Hashable {
    public var name: String
    public var poolName: String
    public var description: String
    /// nil: after the pool's last queue.
    public var priority: UInt32?
    public var concurrencyLimit: UInt32?
    public var isPaused: Bool

    public init(
        name: String, poolName: String, description: String = "", priority: UInt32? = nil,
        concurrencyLimit: UInt32? = nil, isPaused: Bool = false
    ) {
        self.name = name
        self.poolName = poolName
        self.description = description
        self.priority = priority
        self.concurrencyLimit = concurrencyLimit
        self.isPaused = isPaused
    }
}

/// The fields of a queue to change; nil fields stay as they are.
public struct WorkQueueUpdate: Sendable, Hashable {
    public var description: String?
    public var priority: UInt32?
    public var concurrencyLimit: LimitChange
    public var isPaused: Bool?

    public init(
        description: String? = nil, priority: UInt32? = nil, concurrencyLimit: LimitChange = .keep,
        isPaused: Bool? = nil
    ) {
        self.description = description
        self.priority = priority
        self.concurrencyLimit = concurrencyLimit
        self.isPaused = isPaused
    }
}
