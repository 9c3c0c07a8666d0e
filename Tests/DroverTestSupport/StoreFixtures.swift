import DroverCore
import Foundation

/// Pools and queues built field by field, for tests that need values the catalog would
/// never make on its own (fixed ids, chosen dates, odd limits).
public enum StoreFixtures {
    /// A `process` pool with the default template; every field can be overridden.
    public static func pool(
        name: String = "pool", id: UUID = UUID(), description: String = "",
        baseJobTemplate: BaseJobTemplate = .process, concurrencyLimit: UInt32? = nil, isPaused: Bool = false,
        defaultQueueID: UUID = UUID(), created: Date = TestDates.epoch, updated: Date? = nil
    ) -> WorkPool {
        WorkPool(
            id: id, name: name, type: .process, description: description, baseJobTemplate: baseJobTemplate,
            concurrencyLimit: concurrencyLimit, isPaused: isPaused, defaultQueueID: defaultQueueID,
            created: created, updated: updated ?? created)
    }

    /// A queue of `pool`; every field can be overridden.
    public static func queue(
        _ name: String, of pool: WorkPool, id: UUID = UUID(), description: String = "", priority: UInt32 = 1,
        concurrencyLimit: UInt32? = nil, isPaused: Bool = false, created: Date = TestDates.epoch,
        updated: Date? = nil
    ) -> WorkQueue {
        WorkQueue(
            id: id, poolID: pool.id, name: name, description: description, priority: priority,
            concurrencyLimit: concurrencyLimit, isPaused: isPaused, created: created, updated: updated ?? created)
    }

    /// `pool`'s `default` queue (priority 1), with the id the pool names.
    public static func defaultQueue(of pool: WorkPool) -> WorkQueue {
        queue(
            WorkQueue.defaultName, of: pool, id: pool.defaultQueueID, description: WorkQueue.defaultDescription,
            priority: 1, created: pool.created, updated: pool.updated)
    }
}
