import DroverProto

/// The `inspect` views: the whole record, one field a line, as Prefect's CLI prints
/// its objects.
enum Describe {
    static func workPool(_ pool: Drover_V1_WorkPool) -> String {
        record(
            "WorkPool",
            [
                ("id", Formatting.quoted(pool.id)),
                ("created", Formatting.timestamp(pool.created)),
                ("updated", Formatting.timestamp(pool.updated)),
                ("name", Formatting.quoted(pool.name)),
                ("description", Formatting.quotedOrNone(pool.description_p)),
                ("type", Formatting.quoted(pool.type)),
                ("base_job_template", Formatting.json(pool.baseJobTemplate, indent: 4)),
                ("is_paused", Formatting.bool(pool.isPaused)),
                ("concurrency_limit", Formatting.limit(pool.hasConcurrencyLimit ? pool.concurrencyLimit : nil)),
                ("status", "WorkPoolStatus.\(Formatting.poolStatus(pool.status))"),
                ("default_queue_id", Formatting.quoted(pool.defaultQueueID)),
            ])
    }

    static func workQueue(_ queue: Drover_V1_WorkQueue) -> String {
        record(
            "WorkQueue",
            [
                ("id", Formatting.quoted(queue.id)),
                ("created", Formatting.timestamp(queue.created)),
                ("updated", Formatting.timestamp(queue.updated)),
                ("name", Formatting.quoted(queue.name)),
                ("description", Formatting.quotedOrNone(queue.description_p)),
                ("priority", "\(queue.priority)"),
                ("concurrency_limit", Formatting.limit(queue.hasConcurrencyLimit ? queue.concurrencyLimit : nil)),
                ("is_paused", Formatting.bool(queue.isPaused)),
                ("work_pool_name", Formatting.quoted(queue.workPoolName)),
                ("work_pool_id", Formatting.quoted(queue.workPoolID)),
                ("status", "WorkQueueStatus.\(Formatting.queueStatus(queue.status))"),
            ])
    }

    static func flowRun(_ run: Drover_V1_FlowRun) -> String {
        let history = run.stateHistory.map { state in
            "        \(Formatting.timestamp(state.timestamp))  \(Formatting.stateType(state.type)) (\(state.name))"
                + (state.message.isEmpty ? "" : ": \(state.message)")
        }
        return record(
            "FlowRun",
            [
                ("id", Formatting.quoted(run.id)),
                ("name", Formatting.quoted(run.name)),
                ("deployment_name", Formatting.quoted(run.deploymentName)),
                ("work_pool_name", Formatting.quoted(run.workPoolName)),
                ("work_queue_name", Formatting.quoted(run.workQueueName)),
                ("command", Formatting.quoted(run.command)),
                ("parameters", Formatting.json(run.parameters, indent: 4)),
                ("job_variables", Formatting.json(run.jobVariables, indent: 4)),
                ("tags", "[" + run.tags.map(Formatting.quoted).joined(separator: ", ") + "]"),
                ("expected_start_time", Formatting.timestamp(run.expectedStartTime)),
                ("start_time", run.hasStartTime ? Formatting.timestamp(run.startTime) : "None"),
                ("end_time", run.hasEndTime ? Formatting.timestamp(run.endTime) : "None"),
                ("state_type", "StateType.\(Formatting.stateType(run.stateType))"),
                ("state_name", Formatting.quoted(run.stateName)),
                ("attempt", "\(run.attempt)"),
                ("retries", "\(run.retries)"),
                ("worker_name", Formatting.quotedOrNone(run.workerName)),
                ("exit_code", run.hasExitCode ? "\(run.exitCode)" : "None"),
                ("state_history", "[\n" + history.joined(separator: ",\n") + "\n    ]"),
            ])
    }

    private static func record(_ type: String, _ fields: [(String, String)]) -> String {
        "\(type)(\n" + fields.map { "    \($0.0)=\($0.1)" }.joined(separator: ",\n") + "\n)"
    }
}
