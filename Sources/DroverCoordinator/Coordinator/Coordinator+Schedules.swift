import DroverCore
import DroverProto
import DroverStore
import DroverWire
import Foundation

// Deployment schedules, and the scheduler that makes their runs ahead of time.
//
// Each active schedule of an unpaused deployment keeps runs for the times its horizon
// covers. A run is made once per (deployment, slug, time): the schedule's mark moves past
// the times it made, in the same commit as the runs. A change to a schedule or its
// deployment replaces the schedule's future runs that nobody tried yet; it never touches a
// run that is due, Late or started. Due runs go to workers from the dispatcher's timer.
extension Coordinator {
    // MARK: Control operations

    mutating func createSchedule(_ create: Drover_V1_CreateDeploymentSchedule) throws(DroverError) -> Drover_V1_DeploymentSchedule {
        var deployment = try deployment(named: create.deploymentName)
        guard deployment.schedules.count < Deployment.maximumSchedules else {
            throw .failedPrecondition(
                "Deployment '\(deployment.name)' already has \(Deployment.maximumSchedules) schedules, the most allowed; delete one first.")
        }
        let now = clock()
        let schedule = try Self.schedule(from: create.schedule, taken: Set(deployment.schedules.map(\.slug)), now: now)
        deployment.schedules.append(schedule)
        deployment.updated = now
        try commitScheduled(deployment, now: now)
        logger.info(
            "created deployment schedule", metadata: ["deployment.name": "\(deployment.name)", "schedule.slug": "\(schedule.slug)"])
        return wire(schedule, of: deployments[deployment.name] ?? deployment)
    }

    func listSchedules(_ list: Drover_V1_ListDeploymentSchedules) throws(DroverError) -> [Drover_V1_DeploymentSchedule] {
        let deployment = try deployment(named: list.deploymentName)
        return deployment.schedules.map { wire($0, of: deployment) }
    }

    /// Pauses, resumes or changes one schedule.
    mutating func updateSchedule(_ update: Drover_V1_UpdateDeploymentSchedule) throws(DroverError) -> Drover_V1_DeploymentSchedule {
        var deployment = try deployment(named: update.deploymentName)
        let index = try deployment.scheduleIndex(update.schedule)
        let now = clock()
        if update.hasDefinition {
            var definition = update.definition
            definition.slug = deployment.schedules[index].slug
            let others = Set(deployment.schedules.map(\.slug)).subtracting([definition.slug])
            let changed = try Self.schedule(from: definition, taken: others, now: now)
            deployment.schedules[index].kind = changed.kind
            deployment.schedules[index].parameters = changed.parameters
            if update.hasActive { deployment.schedules[index].active = update.active }
            // Its times start again from now; those that already had runs get no second one.
            deployment.schedules[index].restart(from: now)
            deployment.updated = now
            try commitScheduled(deployment, now: now, replacing: [deployment.schedules[index].slug])
            logger.info(
                "changed deployment schedule",
                metadata: ["deployment.name": "\(deployment.name)", "schedule.slug": "\(deployment.schedules[index].slug)"])
        } else if update.hasActive && update.active != deployment.schedules[index].active {
            deployment.schedules[index].active = update.active
            // Resumed, it starts from now: the paused time is skipped, not caught up.
            if update.active { deployment.schedules[index].restart(from: now) }
            deployment.updated = now
            try commitScheduled(deployment, now: now, replacing: [deployment.schedules[index].slug])
            logger.info(
                update.active ? "resumed deployment schedule" : "paused deployment schedule",
                metadata: ["deployment.name": "\(deployment.name)", "schedule.slug": "\(deployment.schedules[index].slug)"])
        }
        let current = deployments[deployment.name] ?? deployment
        return wire(current.schedules[index], of: current)
    }

    mutating func deleteSchedule(_ delete: Drover_V1_DeleteDeploymentSchedule) throws(DroverError) -> Drover_V1_Deleted {
        var deployment = try deployment(named: delete.deploymentName)
        let schedule = deployment.schedules.remove(at: try deployment.scheduleIndex(delete.schedule))
        let now = clock()
        deployment.updated = now
        try commitScheduled(deployment, now: now, replacing: [schedule.slug])
        logger.info(
            "deleted deployment schedule", metadata: ["deployment.name": "\(deployment.name)", "schedule.slug": "\(schedule.slug)"])
        return .with {
            $0.id = schedule.id.uuidString.lowercased(); $0.name = schedule.slug
        }
    }

    /// A new schedule from a request's spec, with a slug none of `taken` has.
    static func schedule(
        from spec: Drover_V1_ScheduleSpec, taken: Set<String>, now: Date
    ) throws(DroverError) -> DeploymentSchedule {
        // Anchors and starts left to the server are whole seconds, as users would write them.
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let kind: ScheduleKind
        switch spec.kind {
        case .interval(let interval)?:
            let zone = try ScheduleKind.timeZone(named: interval.timezone)
            let anchor = interval.hasAnchorDate ? try interval.anchorDate.validDate(field: "anchor_date") : now
            kind = .interval(try IntervalSchedule(seconds: Int(interval.seconds), anchor: anchor, timeZone: zone))
        case .cron(let cron)?:
            let zone = try ScheduleKind.timeZone(named: cron.timezone)
            kind = .cron(try CronExpression(cron.cron, dayOr: cron.hasDayOr ? cron.dayOr : true), timeZone: zone)
        case .rrule(let rrule)?:
            let zone = try ScheduleKind.timeZone(named: rrule.timezone)
            let start = rrule.hasDefaultStart ? try rrule.defaultStart.validDate(field: "default_start") : now
            kind = .rrule(try RecurrenceRule(rrule.rrule, defaultStart: start, timeZone: zone))
        case nil:
            throw .invalidArgument("A schedule needs --interval, --cron or --rrule.")
        }
        let slug = spec.slug.isEmpty ? DeploymentSchedule.defaultSlug(for: kind, taken: taken) : spec.slug
        try ResourceName.validate(slug, kind: "schedule slug")
        guard !taken.contains(slug) else {
            throw .alreadyExists("The deployment already has a schedule '\(slug)'; give another --slug.")
        }
        return DeploymentSchedule(
            slug: slug, kind: kind, active: !spec.paused, parameters: try object(spec.parametersJson, what: "parameters"))
    }

    // MARK: The scheduler

    /// Makes the runs every schedule needs now. At the first call after the server
    /// started, runs missed while it was down are first dealt with by each deployment's
    /// catch-up policy.
    mutating func scheduleIfDue(now: Date) throws(DroverError) {
        guard now >= nextScheduling else { return }
        let starting = !startedScheduling
        startedScheduling = true
        nextScheduling = now.addingTimeInterval(settings.schedulingInterval)
        for name in deployments.keys.sorted() {
            guard let deployment = deployments[name], !deployment.paused, deployment.schedules.contains(where: \.active)
            else { continue }
            try commitScheduled(deployment, now: now)
        }
        if starting { try catchUp(now: now, reason: "missed while the server was down") }
    }

    /// Commits `deployment` as given, after taking away the untried future runs of the
    /// schedules in `replacing` (and of every schedule when the deployment is paused or
    /// they changed), and with the runs its schedules need now.
    mutating func commitScheduled(
        _ given: Deployment, now: Date, replacing: Set<String> = [], replacingAll: Bool = false
    ) throws(DroverError) {
        var deployment = given
        let active = Set(deployment.paused ? [] : deployment.schedules.filter(\.active).map(\.slug))
        let untried = activeRuns.values.filter { run in
            run.deploymentID == deployment.id && run.isUntriedScheduled && run.expectedStart > now
                && (replacingAll || replacing.contains(run.scheduleSlug ?? "") || !active.contains(run.scheduleSlug ?? ""))
        }
        var changes: [StoreChange] = untried.map { .deleteRun(id: $0.id) }
        let withdrawn = Set(untried.compactMap { $0.scheduledTime.map(ScheduleKey.init) })
        for slug in Set(untried.compactMap(\.scheduleSlug)) {
            guard let index = deployment.schedules.firstIndex(where: { $0.slug == slug }) else { continue }
            if (deployment.schedules[index].scheduledThrough ?? now) > now { deployment.schedules[index].restart(from: now) }
        }
        var made: [FlowRun] = []
        for index in deployment.schedules.indices where active.contains(deployment.schedules[index].slug) {
            let schedule = deployment.schedules[index]
            let plan = SchedulePlan(
                kind: schedule.kind, scheduledThrough: schedule.scheduledThrough, now: now, horizon: settings.horizon,
                catchUp: deployment.catchUp)
            deployment.schedules[index].scheduledThrough = plan.scheduledThrough
            deployment.schedules[index].madeThrough = max(schedule.madeThrough ?? plan.scheduledThrough, plan.scheduledThrough)
            if plan.skipped > 0 {
                logger.warning(
                    "skipped missed scheduled runs",
                    metadata: [
                        "deployment.name": "\(deployment.name)", "schedule.slug": "\(schedule.slug)",
                        "runs": "\(plan.skipped)", "catch_up": "\(deployment.catchUp.rawValue)",
                    ])
            }
            guard let first = plan.times.first else { continue }
            // A time up to the latest mark may have a run already (finished, or kept): it gets
            // no second one. Past it, no run can exist, and the store is not asked. A new
            // schedule asks: its slug may be one a deleted schedule used.
            var existing: Set<ScheduleKey> = []
            if (schedule.madeThrough ?? schedule.scheduledThrough).map({ first <= $0 }) ?? true {
                existing = Set(
                    try store.scheduledTimes(ofDeployment: deployment.id, slug: schedule.slug, after: first.addingTimeInterval(-1))
                        .map(ScheduleKey.init)
                ).subtracting(withdrawn)
            }
            for time in plan.times where !existing.contains(ScheduleKey(time)) {
                made.append(try makeRun(of: deployment, schedule: schedule, at: time, now: now))
            }
        }
        if deployments[deployment.name] != deployment || !made.isEmpty || !changes.isEmpty {
            changes += made.map { .saveRun($0) }
            changes.append(.saveDeployment(deployment))
            try store.commit(changes)
        }
        deployments[deployment.name] = deployment
        deploymentNames[deployment.id] = deployment.name
        for run in untried {
            activeRuns[run.id] = nil
            try perform(removeFromDispatch(run.id))
        }
        for run in made {
            activeRuns[run.id] = run
            watchForCollision(run)
            try perform(dispatcher.addRun(run.id, pool: run.poolID, queue: run.queueID, expectedStart: run.expectedStart, now: now))
        }
        if !made.isEmpty || !untried.isEmpty {
            logger.info(
                "scheduled flow runs",
                metadata: ["deployment.name": "\(deployment.name)", "made": "\(made.count)", "withdrawn": "\(untried.count)"])
        }
    }

    /// A run of `deployment` that `schedule` makes for `time`.
    private func makeRun(
        of deployment: Deployment, schedule: DeploymentSchedule, at time: Date, now: Date
    ) throws(DroverError) -> FlowRun {
        FlowRun(
            id: UUIDv7.make(at: now), name: RunName.make(), deploymentID: deployment.id, poolID: deployment.poolID,
            queueID: deployment.queueID, tags: deployment.tags,
            parameters: deployment.parameters.merging(schedule.parameters) { _, own in own }, jobVariables: [:],
            command: deployment.command, expectedStart: time, retries: deployment.retries,
            retryDelaySeconds: deployment.retryDelaySeconds, created: now, scheduleSlug: schedule.slug, scheduledTime: time)
    }

    // MARK: Catch-up

    /// Applies each deployment's catch-up policy to its Late runs that a schedule made and
    /// nobody tried yet: after a restart (every pool) or when a pool or queue resumes.
    mutating func catchUp(
        now: Date, reason: String, of affected: (Deployment) -> Bool = { _ in true }
    ) throws(DroverError) {
        let strict = deployments.values.filter { $0.catchUp != .all && affected($0) }
        guard !strict.isEmpty else { return }
        let byID = Dictionary(uniqueKeysWithValues: strict.map { ($0.id, $0) })
        var late: [UUID: [(id: UUID, slug: String, time: Date)]] = [:]
        for run in activeRuns.values where byID[run.deploymentID] != nil && run.isUntriedScheduled {
            guard now.timeIntervalSince(run.expectedStart) > settings.lateAfter, let slug = run.scheduleSlug else { continue }
            late[run.deploymentID, default: []].append((run.id, slug, run.scheduledTime ?? run.expectedStart))
        }
        for (deploymentID, runs) in late.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            guard let deployment = byID[deploymentID] else { continue }
            let cancelled = deployment.catchUp.runsToCancel(late: runs)
            for id in cancelled {
                guard var run = activeRuns[id] else { continue }
                let instead = deployment.catchUp == .latest ? "; a newer run of schedule '\(run.scheduleSlug ?? "")' runs instead" : ""
                try run.transition(
                    to: .cancelled, at: now,
                    message: "Skipped by catch-up policy '\(deployment.catchUp.rawValue)': \(reason)\(instead).")
                try finish(run)
            }
            if !cancelled.isEmpty {
                logger.info(
                    "caught up missed runs",
                    metadata: [
                        "deployment.name": "\(deployment.name)", "cancelled": "\(cancelled.count)",
                        "catch_up": "\(deployment.catchUp.rawValue)",
                    ])
            }
        }
    }

    // MARK: Wire forms

    /// A schedule with its next five times, none while it or its deployment is paused.
    func wire(_ schedule: DeploymentSchedule, of deployment: Deployment) -> Drover_V1_DeploymentSchedule {
        let live = !deployment.paused && schedule.active
        let next = live ? schedule.kind.occurrences(after: clock(), until: nil, limit: 5) : []
        return Drover_V1_DeploymentSchedule(schedule, nextRuns: next)
    }
}
