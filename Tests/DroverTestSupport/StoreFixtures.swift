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

    /// A deployment running `true` in `pool`'s default queue; every field can be overridden.
    public static func deployment(
        _ name: String = "deployment", in pool: WorkPool, id: UUID = UUID(), schedules: [DeploymentSchedule] = [],
        paused: Bool = false, catchUp: CatchUpPolicy = .all, concurrencyLimit: UInt32? = nil,
        collisionStrategy: CollisionStrategy = .enqueue, created: Date = TestDates.epoch
    ) -> Deployment {
        Deployment(
            id: id, name: name, poolID: pool.id, queueID: pool.defaultQueueID, command: "true", parameters: [:],
            jobVariables: [:], tags: [], retries: 0, retryDelaySeconds: 0, description: "", created: created,
            updated: created, schedules: schedules, paused: paused, catchUp: catchUp,
            concurrencyLimit: concurrencyLimit, collisionStrategy: collisionStrategy)
    }

    /// A SCHEDULED run of `deployment`, made by hand unless `scheduleSlug` and `scheduledTime`
    /// say which schedule made it for when; due at `scheduledTime` or `created`.
    public static func run(
        of deployment: Deployment, id: UUID = UUID(), name: String = "run", scheduleSlug: String? = nil,
        scheduledTime: Date? = nil, created: Date = TestDates.epoch
    ) -> FlowRun {
        FlowRun(
            id: id, name: name, deploymentID: deployment.id, poolID: deployment.poolID, queueID: deployment.queueID,
            tags: deployment.tags, parameters: deployment.parameters, jobVariables: deployment.jobVariables,
            command: deployment.command, expectedStart: scheduledTime ?? created, retries: deployment.retries,
            retryDelaySeconds: deployment.retryDelaySeconds, created: created, scheduleSlug: scheduleSlug,
            scheduledTime: scheduledTime)
    }

    /// `pool`'s `default` queue (priority 1), with the id the pool names.
    public static func defaultQueue(of pool: WorkPool) -> WorkQueue {
        queue(
            WorkQueue.defaultName, of: pool, id: pool.defaultQueueID, description: WorkQueue.defaultDescription,
            priority: 1, created: pool.created, updated: pool.updated)
    }
}
