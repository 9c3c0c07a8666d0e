import DroverCore
import DroverProto
import DroverWire
import Foundation

// Deployments, and creating runs of them.
extension Coordinator {
    func deployment(named name: String) throws(DroverError) -> Deployment {
        guard let deployment = deployments[name] else {
            throw .notFound("Deployment '\(ResourceName.printable(name))' not found.")
        }
        return deployment
    }

    /// The deployment with `id`, if it still exists (runs outlive deleted deployments).
    func deployment(id: UUID) -> Deployment? {
        deploymentNames[id].flatMap { deployments[$0] }
    }

    mutating func createDeployment(_ create: Drover_V1_CreateDeployment) throws(DroverError) -> Drover_V1_Deployment {
        try ResourceName.validate(create.name, kind: "deployment")
        guard deployments[create.name] == nil else {
            throw .alreadyExists(
                "Deployment '\(create.name)' already exists. Use `drover deployment update` to change it.")
        }
        let pool = try catalog.pool(named: create.workPoolName)
        let queue = try catalog.queue(
            named: create.workQueueName.isEmpty ? WorkQueue.defaultName : create.workQueueName, inPool: pool.name)
        let parameters = try Self.object(create.parametersJson, what: "parameters")
        let jobVariables = try Self.object(create.jobVariablesJson, what: "job variables")
        try Deployment.validate(
            command: create.command, tags: create.tags, retries: create.retries,
            retryDelaySeconds: create.retryDelaySeconds)
        _ = try JobConfiguration.render(template: pool.baseJobTemplate, deploymentVariables: jobVariables, runVariables: [:])
        let now = clock()
        guard create.schedules.count <= Deployment.maximumSchedules else {
            throw .invalidArgument("A deployment may have at most \(Deployment.maximumSchedules) schedules; got \(create.schedules.count).")
        }
        var schedules: [DeploymentSchedule] = []
        for spec in create.schedules {
            schedules.append(try Self.schedule(from: spec, taken: Set(schedules.map(\.slug)), now: now))
        }
        let deployment = Deployment(
            id: UUID(), name: create.name, poolID: pool.id, queueID: queue.id, command: create.command,
            parameters: parameters, jobVariables: jobVariables, tags: Self.unique(create.tags), retries: create.retries,
            retryDelaySeconds: create.retryDelaySeconds, description: create.description_p, created: now, updated: now,
            schedules: schedules, paused: create.paused, catchUp: create.catchUp.policy ?? .all,
            concurrencyLimit: create.hasConcurrencyLimit ? create.concurrencyLimit : nil,
            collisionStrategy: create.collisionStrategy.strategy ?? .enqueue,
            retryCrashed: create.hasRetryCrashed ? create.retryCrashed : true)
        try commitScheduled(deployment, now: now)
        logger.info("created deployment", metadata: ["deployment.name": "\(deployment.name)", "pool.name": "\(pool.name)"])
        return wire(deployments[deployment.name] ?? deployment)
    }

    func listDeployments(_ list: Drover_V1_ListDeployments) throws(DroverError) -> [Drover_V1_Deployment] {
        let poolID = list.workPoolName.isEmpty ? nil : try catalog.pool(named: list.workPoolName).id
        return deployments.values.filter { poolID == nil || $0.poolID == poolID }
            .sorted { $0.name < $1.name }.map(wire)
    }

    mutating func updateDeployment(_ update: Drover_V1_UpdateDeployment) throws(DroverError) -> Drover_V1_Deployment {
        var deployment = try deployment(named: update.name)
        guard let poolName = catalog.poolName(id: deployment.poolID) else {
            throw DroverError(.internal, "Deployment '\(deployment.name)' refers to a pool that no longer exists.")
        }
        if update.hasCommand { deployment.command = update.command }
        if update.hasParametersJson { deployment.parameters = try Self.object(update.parametersJson, what: "parameters") }
        if update.hasJobVariablesJson {
            deployment.jobVariables = try Self.object(update.jobVariablesJson, what: "job variables")
        }
        if update.replaceTags { deployment.tags = Self.unique(update.tags) }
        if update.hasRetries { deployment.retries = update.retries }
        if update.hasRetryDelaySeconds { deployment.retryDelaySeconds = update.retryDelaySeconds }
        if update.hasRetryCrashed { deployment.retryCrashed = update.retryCrashed }
        if update.hasDescription_p { deployment.description = update.description_p }
        if update.hasWorkQueueName { deployment.queueID = try catalog.queue(named: update.workQueueName, inPool: poolName).id }
        try Deployment.validate(
            command: deployment.command, tags: deployment.tags, retries: deployment.retries,
            retryDelaySeconds: deployment.retryDelaySeconds)
        let pool = try catalog.pool(named: poolName)
        _ = try JobConfiguration.render(
            template: pool.baseJobTemplate, deploymentVariables: deployment.jobVariables, runVariables: [:])
        // What its runs carry changed: the runs its schedules made ahead are made again.
        let old = try self.deployment(named: update.name)
        let runsChange = deployment != old
        let now = clock()
        if update.hasPaused && update.paused != deployment.paused {
            deployment.paused = update.paused
            // Resumed, its schedules start from now: the paused time is skipped, not caught up.
            if !update.paused {
                for index in deployment.schedules.indices { deployment.schedules[index].restart(from: now) }
            }
        }
        if let policy = update.catchUp.policy { deployment.catchUp = policy }
        if let strategy = update.collisionStrategy.strategy { deployment.collisionStrategy = strategy }
        switch try Self.limitChange(
            set: update.hasConcurrencyLimit ? update.concurrencyLimit : nil, remove: update.removeConcurrencyLimit)
        {
        case .keep: break
        case .set(let limit): deployment.concurrencyLimit = limit
        case .clear: deployment.concurrencyLimit = nil
        }
        deployment.updated = now
        let startsCancellingNew =
            deployment.collisionStrategy == .cancelNew && deployment.concurrencyLimit != nil
            && !(old.collisionStrategy == .cancelNew && old.concurrencyLimit != nil)
        try commitScheduled(deployment, now: now, replacingAll: runsChange)
        renderedConfigurations[deployment.id] = nil
        if startsCancellingNew {
            for run in activeRuns.values where run.deploymentID == deployment.id { watchForCollision(run) }
        }
        for runID in concurrency.release(deployment.id, limit: deployment.concurrencyLimit) {
            try perform(requeue(runID))
        }
        logger.info("updated deployment", metadata: ["deployment.name": "\(deployment.name)"])
        return wire(deployments[deployment.name] ?? deployment)
    }

    mutating func deleteDeployment(_ delete: Drover_V1_DeleteDeployment) throws(DroverError) -> Drover_V1_Deleted {
        let deployment = try deployment(named: delete.name)
        // Runs its schedules made that nobody tried go with it; others must end first.
        let ownRuns = activeRuns.values.filter { $0.deploymentID == deployment.id }
        let scheduled = ownRuns.filter(\.isUntriedScheduled)
        let unfinished = ownRuns.count - scheduled.count
        guard unfinished == 0 else {
            throw .failedPrecondition(
                "Deployment '\(deployment.name)' has \(unfinished) unfinished flow run\(unfinished == 1 ? "" : "s"); cancel or wait for them first."
            )
        }
        try store.commit(scheduled.map { .deleteRun(id: $0.id) } + [.deleteDeployment(id: deployment.id)])
        for run in scheduled {
            activeRuns[run.id] = nil
            try perform(removeFromDispatch(run.id))
        }
        deployments[deployment.name] = nil
        deploymentNames[deployment.id] = nil
        renderedConfigurations[deployment.id] = nil
        logger.info("deleted deployment", metadata: ["deployment.name": "\(deployment.name)"])
        return .with {
            $0.id = deployment.id.uuidString.lowercased(); $0.name = deployment.name
        }
    }

    /// Creates a SCHEDULED run of a deployment; it goes to a worker as soon as the rules allow.
    mutating func runDeployment(_ request: Drover_V1_RunDeployment) throws(DroverError) -> Drover_V1_FlowRun {
        let deployment = try deployment(named: request.name)
        guard let poolName = catalog.poolName(id: deployment.poolID) else {
            throw DroverError(.internal, "Deployment '\(deployment.name)' refers to a pool that no longer exists.")
        }
        let pool = try catalog.pool(named: poolName)
        let parameters = deployment.parameters.merging(
            try Self.object(request.parametersJson, what: "parameters")
        ) { _, run in run }
        let runVariables = try Self.object(request.jobVariablesJson, what: "job variables")
        try JobConfiguration.checkVariables(
            template: pool.baseJobTemplate, deploymentVariables: deployment.jobVariables, runVariables: runVariables)
        for tag in request.tags { try ResourceName.validate(tag, kind: "tag") }
        let now = clock()
        let expectedStart =
            request.hasExpectedStartTime ? try request.expectedStartTime.validDate(field: "expected_start_time") : now
        let run = FlowRun(
            id: UUIDv7.make(at: now), name: RunName.make(), deploymentID: deployment.id, poolID: deployment.poolID,
            queueID: deployment.queueID, tags: Self.unique(deployment.tags + request.tags), parameters: parameters,
            jobVariables: runVariables, command: deployment.command, expectedStart: expectedStart,
            retries: deployment.retries, retryDelaySeconds: deployment.retryDelaySeconds, created: now)
        try store.commit([.saveRun(run)])
        activeRuns[run.id] = run
        watchForCollision(run)
        logger.info(
            "created flow run",
            metadata: ["run.id": "\(run.id)", "run.name": "\(run.name)", "deployment.name": "\(deployment.name)"])
        try perform(
            dispatcher.addRun(run.id, pool: run.poolID, queue: run.queueID, expectedStart: expectedStart, now: now))
        return wire(activeRuns[run.id] ?? run)
    }

    static func object(_ json: String, what: String) throws(DroverError) -> [String: JSONValue] {
        guard !json.isEmpty else { return [:] }
        guard json.utf8.count <= 256 * 1024 else {
            throw .invalidArgument("The \(what) are \(json.utf8.count) bytes; the most accepted is 262144.")
        }
        let value = try JSONValue.parse(json, what: what)
        guard let members = value.objectValue else { throw .invalidArgument("The \(what) must be a JSON object.") }
        guard value.depth <= BaseJobTemplate.maximumDepth else {
            throw .invalidArgument("The \(what) nest more than \(BaseJobTemplate.maximumDepth) levels deep.")
        }
        return members
    }

    static func unique(_ tags: [String]) -> [String] {
        var seen: Set<String> = []
        return tags.filter { seen.insert($0).inserted }
    }
}
