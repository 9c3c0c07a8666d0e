import Foundation

/// What the dispatcher needs to know of a pool: pause, limit, and its queues.
public struct PoolRules: Sendable, Equatable {
    public let id: UUID
    public let isPaused: Bool
    /// Most runs of the pool in flight (PENDING, RUNNING, CANCELLING); nil: unlimited.
    public let limit: UInt32?
    public let queues: [QueueRules]

    public init(id: UUID, isPaused: Bool, limit: UInt32?, queues: [QueueRules]) {
        self.id = id
        self.isPaused = isPaused
        self.limit = limit
        self.queues = queues
    }

    /// The rules of `pool` with `queues`.
    public init(_ pool: WorkPool, queues: [WorkQueue]) {
        self.init(
            id: pool.id, isPaused: pool.isPaused, limit: pool.concurrencyLimit,
            queues: queues.map {
                QueueRules(id: $0.id, priority: $0.priority, isPaused: $0.isPaused, limit: $0.concurrencyLimit)
            })
    }
}

/// What the dispatcher needs to know of a queue.
public struct QueueRules: Sendable, Equatable {
    public let id: UUID
    /// 1 goes first.
    public let priority: UInt32
    public let isPaused: Bool
    public let limit: UInt32?

    public init(id: UUID, priority: UInt32, isPaused: Bool, limit: UInt32?) {
        self.id = id
        self.priority = priority
        self.isPaused = isPaused
        self.limit = limit
    }
}

/// What the dispatcher decided; the event loop carries it out.
public enum DispatchAction: Sendable, Equatable {
    /// Send the run to the worker. The dispatcher already counts it in flight there.
    case dispatch(run: UUID, worker: String)
    /// The worker is gone (silent too long, or its connection failed); these of its runs
    /// were in flight and need a decision (requeue if never started, else crash).
    case workerLost(worker: String, runs: [UUID])
    /// Runs in flight when the coordinator restarted that no worker claimed in time.
    case orphaned(runs: [UUID])
}
