import Foundation

/// A work queue: a priority lane inside a work pool.
public struct WorkQueue: Sendable, Hashable, Identifiable {
    /// Every pool has a queue of this name, created with it.
    public static let defaultName = "default"
    /// The default queue's description, as Prefect words it.
    public static let defaultDescription = "The work pool's default queue."

    public let id: UUID
    public let poolID: UUID
    /// Unique within its pool; never changes.
    public let name: String
    public var description: String
    /// 1 goes first; unique within the pool.
    public var priority: UInt32
    /// Most runs of the queue in PENDING or RUNNING at once; nil is unlimited.
    public var concurrencyLimit: UInt32?
    /// A paused queue hands out no runs.
    public var isPaused: Bool
    public let created: Date
    public var updated: Date

    public init(
        id: UUID, poolID: UUID, name: String, description: String, priority: UInt32,
        concurrencyLimit: UInt32?, isPaused: Bool, created: Date, updated: Date
    ) {
        self.id = id
        self.poolID = poolID
        self.name = name
        self.description = description
        self.priority = priority
        self.concurrencyLimit = concurrencyLimit
        self.isPaused = isPaused
        self.created = created
        self.updated = updated
    }

    /// Whether this is its pool's undeletable default queue.
    public var isDefault: Bool { name == Self.defaultName }
}
