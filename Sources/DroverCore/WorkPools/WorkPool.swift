import Foundation

/// A work pool: a named place runs are sent to, served by the workers that join it.
public struct WorkPool: Sendable, Hashable, Identifiable {
    public let id: UUID
    /// Unique among pools; never changes.
    public let name: String
    public let type: WorkPoolType
    public var description: String
    public var baseJobTemplate: BaseJobTemplate
    /// Most runs of the pool in PENDING or RUNNING at once; nil is unlimited.
    public var concurrencyLimit: UInt32?
    /// A paused pool hands out no runs.
    public var isPaused: Bool
    /// The queue runs go to when none is named; it cannot be deleted.
    public let defaultQueueID: UUID
    public let created: Date
    public var updated: Date

    public init(
        id: UUID, name: String, type: WorkPoolType, description: String, baseJobTemplate: BaseJobTemplate,
        concurrencyLimit: UInt32?, isPaused: Bool, defaultQueueID: UUID, created: Date, updated: Date
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.description = description
        self.baseJobTemplate = baseJobTemplate
        self.concurrencyLimit = concurrencyLimit
        self.isPaused = isPaused
        self.defaultQueueID = defaultQueueID
        self.created = created
        self.updated = updated
    }

    /// The pool's status given how many of its workers are online.
    public func status(onlineWorkers: Int) -> WorkPoolStatus {
        if isPaused { return .paused }
        return onlineWorkers > 0 ? .ready : .notReady
    }
}

/// Whether a pool can take runs now.
public enum WorkPoolStatus: String, Sendable, CaseIterable {
    /// At least one of its workers is online.
    case ready = "READY"
    /// None of its workers is online.
    case notReady = "NOT_READY"
    /// Paused by a user: it hands out no runs until resumed.
    case paused = "PAUSED"
}
