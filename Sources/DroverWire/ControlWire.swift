import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// Conversions from Core's domain values to their wire form. The server is the only
// producer of these messages, so the mapping lives here, in one place.

extension Drover_V1_WorkPool {
    public init(_ pool: WorkPool, onlineWorkers: Int) {
        self.init()
        id = pool.id.uuidString.lowercased()
        name = pool.name
        type = pool.type.rawValue
        description_p = pool.description
        baseJobTemplate = Google_Protobuf_Struct(pool.baseJobTemplate.json)
        isPaused = pool.isPaused
        if let limit = pool.concurrencyLimit { concurrencyLimit = limit }
        status = Drover_V1_WorkPoolStatus(pool.status(onlineWorkers: onlineWorkers))
        defaultQueueID = pool.defaultQueueID.uuidString.lowercased()
        created = Google_Protobuf_Timestamp(microsecondsOf: pool.created)
        updated = Google_Protobuf_Timestamp(microsecondsOf: pool.updated)
    }
}

extension Drover_V1_WorkPoolStatus {
    public init(_ status: WorkPoolStatus) {
        switch status {
        case .ready: self = .ready
        case .notReady: self = .notReady
        case .paused: self = .paused
        }
    }
}

extension Drover_V1_WorkQueue {
    public init(_ queue: WorkQueue, poolName: String, onlineWorkers: Int) {
        self.init()
        id = queue.id.uuidString.lowercased()
        name = queue.name
        description_p = queue.description
        priority = queue.priority
        if let limit = queue.concurrencyLimit { concurrencyLimit = limit }
        isPaused = queue.isPaused
        workPoolID = queue.poolID.uuidString.lowercased()
        workPoolName = poolName
        status = queue.isPaused ? .workQueuePaused : (onlineWorkers > 0 ? .workQueueReady : .workQueueNotReady)
        created = Google_Protobuf_Timestamp(microsecondsOf: queue.created)
        updated = Google_Protobuf_Timestamp(microsecondsOf: queue.updated)
    }
}

extension Drover_V1_FlowRun {
    public init(_ run: FlowRun, deploymentName: String, poolName: String, queueName: String, stateName: String) {
        self.init()
        id = run.id.uuidString.lowercased()
        name = run.name
        deploymentID = run.deploymentID.uuidString.lowercased()
        self.deploymentName = deploymentName
        workPoolName = poolName
        workQueueName = queueName
        tags = run.tags
        parameters = Google_Protobuf_Struct(.object(run.parameters))
        jobVariables = Google_Protobuf_Struct(.object(run.jobVariables))
        expectedStartTime = Google_Protobuf_Timestamp(microsecondsOf: run.expectedStart)
        stateType = Drover_V1_StateType(run.state.type)
        self.stateName = stateName
        if let start = run.startTime { startTime = Google_Protobuf_Timestamp(microsecondsOf: start) }
        if let end = run.endTime { endTime = Google_Protobuf_Timestamp(microsecondsOf: end) }
        workerName = run.workerName ?? ""
        if let code = run.exitCode { exitCode = code }
        attempt = run.attempt
        retries = run.retries
        stateHistory = run.history.map { record in
            .with {
                $0.type = Drover_V1_StateType(record.type)
                $0.name = record.name
                $0.timestamp = Google_Protobuf_Timestamp(microsecondsOf: record.timestamp)
                $0.message = record.message
            }
        }
        created = Google_Protobuf_Timestamp(microsecondsOf: run.created)
        command = run.command
        scheduleSlug = run.scheduleSlug ?? ""
        if let time = run.scheduledTime { scheduledTime = Google_Protobuf_Timestamp(microsecondsOf: time) }
    }
}

extension Drover_V1_Deployment {
    /// Without its schedules: their next runs depend on the clock (see `Coordinator.wire`).
    public init(_ deployment: Deployment, poolName: String, queueName: String) {
        self.init()
        id = deployment.id.uuidString.lowercased()
        name = deployment.name
        workPoolName = poolName
        workQueueName = queueName
        command = deployment.command
        parameters = Google_Protobuf_Struct(.object(deployment.parameters))
        jobVariables = Google_Protobuf_Struct(.object(deployment.jobVariables))
        tags = deployment.tags
        retries = deployment.retries
        retryDelaySeconds = deployment.retryDelaySeconds
        description_p = deployment.description
        created = Google_Protobuf_Timestamp(microsecondsOf: deployment.created)
        updated = Google_Protobuf_Timestamp(microsecondsOf: deployment.updated)
        paused = deployment.paused
        catchUp = Drover_V1_CatchUp(deployment.catchUp)
        if let limit = deployment.concurrencyLimit { concurrencyLimit = limit }
        collisionStrategy = Drover_V1_CollisionStrategy(deployment.collisionStrategy)
        retryCrashed = deployment.retryCrashed
    }
}

extension Drover_V1_DeploymentSchedule {
    public init(_ schedule: DeploymentSchedule, nextRuns: [Date]) {
        self.init()
        id = schedule.id.uuidString.lowercased()
        slug = schedule.slug
        active = schedule.active
        parameters = Google_Protobuf_Struct(.object(schedule.parameters))
        switch schedule.kind {
        case .interval(let interval):
            self.interval = .with {
                $0.seconds = UInt32(interval.seconds)
                $0.anchorDate = Google_Protobuf_Timestamp(microsecondsOf: interval.anchor)
                $0.timezone = ScheduleKind.name(of: interval.timeZone)
            }
        case .cron(let expression, let zone):
            cron = .with {
                $0.cron = expression.text
                $0.timezone = ScheduleKind.name(of: zone)
                $0.dayOr = expression.dayOr
            }
        case .rrule(let rule):
            rrule = .with {
                $0.rrule = rule.text
                $0.timezone = ScheduleKind.name(of: rule.timeZone)
                $0.defaultStart = Google_Protobuf_Timestamp(microsecondsOf: rule.start)
            }
        }
        self.nextRuns = nextRuns.map { Google_Protobuf_Timestamp(microsecondsOf: $0) }
    }
}
