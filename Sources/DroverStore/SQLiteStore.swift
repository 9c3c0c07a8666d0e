import DroverCore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, reached through GRDB.
public final class SQLiteStore: Store {
    /// How hard SQLite works to keep a commit across a power loss.
    public enum Durability: String, Sendable, CaseIterable {
        /// fsync on every commit: survives power loss.
        case full
        /// fsync at checkpoints: survives a crash of Drover, may lose the last commits on power loss.
        case normal

        /// SQLite's `synchronous` setting for it.
        var pragma: String { self == .full ? "FULL" : "NORMAL" }

        /// Sets it on `writer`'s connection. GRDB sets `synchronous = NORMAL` when it turns
        /// WAL mode on, after `prepareDatabase` runs, so this comes once the pool is open.
        func apply(to writer: any DatabaseWriter) throws {
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(pragma)") }
        }
    }

    private let writer: any DatabaseWriter
    /// The database file, or ":memory:".
    public let path: String

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    public init(path: String, durability: Durability = .full) throws(DroverError) {
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
            try durability.apply(to: writer)
        } catch {
            throw DroverError(.internal, "Could not open the store at \(path): \(Self.describe(error))")
        }
        try migrate()
    }

    /// A store in memory, for tests: nothing outlives it.
    public init(inMemory: Void = ()) throws(DroverError) {
        path = ":memory:"
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        do {
            writer = try DatabaseQueue(configuration: configuration)
        } catch {
            throw DroverError(.internal, "Could not open an in-memory store: \(Self.describe(error))")
        }
        try migrate()
    }

    /// The SQLite `synchronous` setting of the connection that writes: 2 (FULL) or 1 (NORMAL).
    public func synchronousSetting() throws(DroverError) -> Int {
        do {
            return try writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
        } catch {
            throw DroverError(.internal, "Store read failed: \(Self.describe(error))")
        }
    }

    /// The SQLite journal mode in force ("wal" for a file store).
    public func journalMode() throws(DroverError) -> String {
        try run { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    private func migrate() throws(DroverError) {
        let migrator = Migrations.migrator
        let applied: Set<String>
        do {
            applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
        } catch {
            throw DroverError(.internal, "Could not read the store's schema version at \(path): \(Self.describe(error))")
        }
        let unknown = applied.subtracting(Migrations.identifiers)
        guard unknown.isEmpty else {
            throw DroverError(
                .failedPrecondition,
                "The store at \(path) was written by a newer Drover (schema \(unknown.sorted().joined(separator: ", "))). "
                    + "Upgrade drover, or start the server with another --home.")
        }
        do {
            try migrator.migrate(writer)
        } catch {
            throw DroverError(.internal, "Could not migrate the store at \(path): \(Self.describe(error))")
        }
    }

    // MARK: Store

    public func loadCatalog() throws(DroverError) -> WorkPoolCatalog {
        let (poolRows, queueRows) = try run { db in
            (try Row.fetchAll(db, sql: "SELECT * FROM work_pools"), try Row.fetchAll(db, sql: "SELECT * FROM work_queues"))
        }
        var pools: [WorkPool] = []
        for row in poolRows { pools.append(try Self.pool(from: row)) }
        var queues: [WorkQueue] = []
        for row in queueRows { queues.append(try Self.queue(from: row)) }
        return WorkPoolCatalog(pools: pools, queues: queues)
    }

    public func commit(_ changes: [StoreChange]) throws(DroverError) {
        guard !changes.isEmpty else { return }
        try write { db in
            for change in changes {
                switch change {
                case .catalog(.savePool(let pool)): try Self.save(pool, in: db)
                case .catalog(.deletePool(let id)):
                    try db.cachedStatement(sql: "DELETE FROM work_pools WHERE id = ?").execute(arguments: [id.uuidString])
                case .catalog(.saveQueue(let queue)): try Self.save(queue, in: db)
                case .catalog(.deleteQueue(let id)):
                    try db.cachedStatement(sql: "DELETE FROM work_queues WHERE id = ?").execute(arguments: [id.uuidString])
                case .saveDeployment(let deployment): try Self.save(deployment, in: db)
                case .deleteDeployment(let id):
                    try db.cachedStatement(sql: "DELETE FROM deployments WHERE id = ?").execute(arguments: [id.uuidString])
                case .saveRun(let run): try Self.save(run, in: db)
                case .updateRun(let run): try Self.update(run, in: db)
                case .deleteRun(let id):
                    try db.cachedStatement(sql: "DELETE FROM flow_run_logs WHERE run_id = ?").execute(arguments: [id.uuidString])
                    try db.cachedStatement(sql: "DELETE FROM flow_runs WHERE id = ?").execute(arguments: [id.uuidString])
                case .appendLogs(let lines):
                    for line in lines {
                        // A line the worker numbered and sent before is skipped (the unique index).
                        try db.cachedStatement(
                            sql: """
                                INSERT OR IGNORE INTO flow_run_logs (run_id, attempt, timestamp, stream, text, line)
                                VALUES (?, ?, ?, ?, ?, ?)
                                """
                        ).execute(arguments: [
                            line.runID.uuidString, Int64(line.attempt), Self.microseconds(line.timestamp),
                            line.stream.rawValue, line.text, line.line.map { Int64(clamping: $0) },
                        ])
                    }
                }
            }
        }
    }

    public func loadDeployments() throws(DroverError) -> [Deployment] {
        let rows = try run { db in try Row.fetchAll(db, sql: "SELECT * FROM deployments ORDER BY created") }
        var deployments: [Deployment] = []
        for row in rows { deployments.append(try Self.deployment(from: row)) }
        return deployments
    }

    public func loadUnfinishedRuns() throws(DroverError) -> [FlowRun] {
        let terminal = StateType.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",")
        return try runs(sql: "SELECT * FROM flow_runs WHERE state_type NOT IN (\(terminal)) ORDER BY created", [])
    }

    public func flowRun(id: UUID) throws(DroverError) -> FlowRun? {
        try runs(sql: "SELECT * FROM flow_runs WHERE id = ?", [id.uuidString]).first
    }

    public func flowRuns(matching filter: FlowRunFilter) throws(DroverError) -> [FlowRun] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let pool = filter.poolID {
            clauses.append("pool_id = ?")
            arguments.append(pool.uuidString)
        }
        if let deployment = filter.deploymentID {
            clauses.append("deployment_id = ?")
            arguments.append(deployment.uuidString)
        }
        if !filter.states.isEmpty {
            clauses.append("state_type IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
            arguments += filter.states.map(\.rawValue).sorted()
        }
        let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments.append(filter.limit)
        return try runs(sql: "SELECT * FROM flow_runs \(condition) ORDER BY created DESC, id DESC LIMIT ?", arguments)
    }

    public func logs(of runID: UUID, after sequence: UInt64, limit: Int) throws(DroverError) -> [FlowRunLog] {
        let rows = try run { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM flow_run_logs WHERE run_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                arguments: [runID.uuidString, Int64(clamping: sequence), limit])
        }
        return rows.map { row in
            FlowRunLog(
                sequence: UInt64(row["sequence"] as Int64), runID: runID, attempt: UInt32(clamping: row["attempt"] as Int64),
                timestamp: Self.date(row["timestamp"]),
                stream: FlowRunLog.Stream(rawValue: row["stream"]) ?? .worker, text: row["text"])
        }
    }

    public func scheduledTimes(ofDeployment deployment: UUID, slug: String, after date: Date) throws(DroverError) -> [Date] {
        // Answered from the index flow_runs_by_schedule alone.
        let times = try run { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT scheduled_time FROM flow_runs
                    WHERE deployment_id = ? AND schedule_slug = ? AND scheduled_time > ?
                    ORDER BY scheduled_time
                    """,
                arguments: [deployment.uuidString, slug, Self.microseconds(date)])
        }
        return times.map(Self.date)
    }

    private func runs(sql: String, _ arguments: [any DatabaseValueConvertible]) throws(DroverError) -> [FlowRun] {
        let rows = try run { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
        var result: [FlowRun] = []
        for row in rows { result.append(try Self.flowRun(from: row)) }
        return result
    }

    // MARK: Rows

    private static func save(_ pool: WorkPool, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO work_pools
                  (id, name, type, description, base_job_template, concurrency_limit, is_paused,
                   default_queue_id, created, updated)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                  description = excluded.description, base_job_template = excluded.base_job_template,
                  concurrency_limit = excluded.concurrency_limit, is_paused = excluded.is_paused,
                  updated = excluded.updated
                """
        ).execute(arguments: [
            pool.id.uuidString, pool.name, pool.type.rawValue, pool.description,
            pool.baseJobTemplate.json.render(), pool.concurrencyLimit.map { Int64($0) }, pool.isPaused,
            pool.defaultQueueID.uuidString, microseconds(pool.created), microseconds(pool.updated),
        ])
    }

    private static func save(_ queue: WorkQueue, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO work_queues
                  (id, pool_id, name, description, priority, concurrency_limit, is_paused, created, updated)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                  description = excluded.description, priority = excluded.priority,
                  concurrency_limit = excluded.concurrency_limit, is_paused = excluded.is_paused,
                  updated = excluded.updated
                """
        ).execute(arguments: [
            queue.id.uuidString, queue.poolID.uuidString, queue.name, queue.description, Int64(queue.priority),
            queue.concurrencyLimit.map { Int64($0) }, queue.isPaused, microseconds(queue.created),
            microseconds(queue.updated),
        ])
    }

    private static func save(_ deployment: Deployment, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO deployments
                  (id, name, pool_id, queue_id, command, parameters, job_variables, tags, retries,
                   retry_delay_seconds, description, created, updated, schedules, paused, catch_up,
                   concurrency_limit, collision_strategy, retry_crashed)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            deployment.id.uuidString, deployment.name, deployment.poolID.uuidString, deployment.queueID.uuidString,
            deployment.command, JSONValue.object(deployment.parameters).render(),
            JSONValue.object(deployment.jobVariables).render(), JSONValue.array(deployment.tags.map(JSONValue.string)).render(),
            Int64(deployment.retries), Int64(deployment.retryDelaySeconds), deployment.description,
            microseconds(deployment.created), microseconds(deployment.updated),
            schedulesJSON(deployment.schedules).render(), deployment.paused, deployment.catchUp.rawValue,
            deployment.concurrencyLimit.map { Int64($0) }, deployment.collisionStrategy.rawValue, deployment.retryCrashed,
        ])
    }

    /// A deployment's schedules as the JSON array `schedules(from:of:)` reads back: each
    /// schedule's id, slug, active flag, parameters, kind (`ScheduleKind.json`) and
    /// `scheduled_through` (seconds since 1970, or null).
    private static func schedulesJSON(_ schedules: [DeploymentSchedule]) -> JSONValue {
        .array(
            schedules.map { schedule in
                [
                    "id": .string(schedule.id.uuidString), "slug": .string(schedule.slug),
                    "active": .bool(schedule.active), "parameters": .object(schedule.parameters),
                    "kind": schedule.kind.json,
                    "scheduled_through": schedule.scheduledThrough.map { .number($0.timeIntervalSince1970) } ?? .null,
                    "made_through": schedule.madeThrough.map { .number($0.timeIntervalSince1970) } ?? .null,
                ]
            })
    }

    private static func save(_ run: FlowRun, in db: Database) throws {
        // An upsert on the id, not INSERT OR REPLACE: a second run for a schedule's time must
        // fail on flow_runs_by_schedule, not replace the first.
        try db.cachedStatement(
            sql: """
                INSERT INTO flow_runs
                  (id, name, deployment_id, pool_id, queue_id, tags, parameters, job_variables, command,
                   expected_start, state_type, state_name, history, attempt, retries, retry_delay_seconds,
                   worker_id, worker_name, exit_code, start_time, end_time, created, schedule_slug, scheduled_time)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                  name = excluded.name, deployment_id = excluded.deployment_id, pool_id = excluded.pool_id,
                  queue_id = excluded.queue_id, tags = excluded.tags, parameters = excluded.parameters,
                  job_variables = excluded.job_variables, command = excluded.command,
                  expected_start = excluded.expected_start, state_type = excluded.state_type,
                  state_name = excluded.state_name, history = excluded.history, attempt = excluded.attempt,
                  retries = excluded.retries, retry_delay_seconds = excluded.retry_delay_seconds,
                  worker_id = excluded.worker_id, worker_name = excluded.worker_name, exit_code = excluded.exit_code,
                  start_time = excluded.start_time, end_time = excluded.end_time, created = excluded.created,
                  schedule_slug = excluded.schedule_slug, scheduled_time = excluded.scheduled_time
                """
        ).execute(arguments: [
            run.id.uuidString, run.name, run.deploymentID.uuidString, run.poolID.uuidString, run.queueID.uuidString,
            JSONValue.array(run.tags.map(JSONValue.string)).render(), JSONValue.object(run.parameters).render(),
            JSONValue.object(run.jobVariables).render(), run.command, microseconds(run.expectedStart),
            run.state.type.rawValue, run.state.name, history(of: run), Int64(run.attempt), Int64(run.retries),
            Int64(run.retryDelaySeconds), run.workerID, run.workerName, run.exitCode.map { Int64($0) },
            run.startTime.map(microseconds), run.endTime.map(microseconds), microseconds(run.created),
            run.scheduleSlug, run.scheduledTime.map(microseconds),
        ])
    }

    /// Writes the columns that change over a run's life; the schedule slug and scheduled
    /// time never change, so only `save` writes them.
    private static func update(_ run: FlowRun, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE flow_runs SET
                  expected_start = ?, state_type = ?, state_name = ?, history = ?, attempt = ?, worker_id = ?,
                  worker_name = ?, exit_code = ?, start_time = ?, end_time = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            microseconds(run.expectedStart), run.state.type.rawValue, run.state.name, history(of: run),
            Int64(run.attempt), run.workerID, run.workerName, run.exitCode.map { Int64($0) },
            run.startTime.map(microseconds), run.endTime.map(microseconds), run.id.uuidString,
        ])
        guard db.changesCount == 1 else {
            throw DroverError(.internal, "Flow run '\(run.name)' (\(run.id)) was updated but is not in the store.")
        }
    }

    /// The run's state history as the JSON array `flowRun(from:)` reads back, written
    /// directly: it is written on every change of state.
    private static func history(of run: FlowRun) -> String {
        var text = "["
        for (index, record) in run.history.enumerated() {
            if index > 0 { text += "," }
            text += #"{"type":"#
            text += JSONValue.quote(record.type.rawValue)
            text += #","name":"#
            text += JSONValue.quote(record.name)
            text += #","timestamp":"#
            text += String(microseconds(record.timestamp))
            text += #","message":"#
            text += JSONValue.quote(record.message)
            text += "}"
        }
        return text + "]"
    }

    private static func deployment(from row: Row) throws(DroverError) -> Deployment {
        let name: String = row["name"]
        let catchUpName: String = row["catch_up"]
        guard let catchUp = CatchUpPolicy(rawValue: catchUpName) else {
            throw DroverError(.internal, "Stored deployment '\(name)' has an unknown catch-up policy '\(catchUpName)'.")
        }
        let strategyName: String = row["collision_strategy"]
        guard let strategy = CollisionStrategy(rawValue: strategyName) else {
            throw DroverError(
                .internal, "Stored deployment '\(name)' has an unknown collision strategy '\(strategyName)'.")
        }
        return Deployment(
            id: try uuid(row["id"], what: "deployment id"), name: name,
            poolID: try uuid(row["pool_id"], what: "pool id"), queueID: try uuid(row["queue_id"], what: "queue id"),
            command: row["command"], parameters: try object(row["parameters"], what: "parameters of deployment '\(name)'"),
            jobVariables: try object(row["job_variables"], what: "job variables of deployment '\(name)'"),
            tags: try strings(row["tags"], what: "tags of deployment '\(name)'"),
            retries: UInt32(clamping: row["retries"] as Int64),
            retryDelaySeconds: UInt32(clamping: row["retry_delay_seconds"] as Int64), description: row["description"],
            created: date(row["created"]), updated: date(row["updated"]),
            schedules: try schedules(from: row["schedules"], of: name), paused: row["paused"], catchUp: catchUp,
            concurrencyLimit: (row["concurrency_limit"] as Int64?).map { UInt32(clamping: $0) },
            collisionStrategy: strategy, retryCrashed: row["retry_crashed"])
    }

    /// Seconds since 1970 as a JSON number, or nil for null or absent.
    private static func optionalDate(_ value: JSONValue?, what: String) throws(DroverError) -> Date? {
        switch value {
        case .number(let seconds)?: return Date(timeIntervalSince1970: seconds)
        case .null?, nil: return nil
        default: throw DroverError(.internal, "the \(what) is not a number")
        }
    }

    private static func schedules(from text: String, of deployment: String) throws(DroverError) -> [DeploymentSchedule] {
        do throws(DroverError) {
            guard case .array(let items) = try JSONValue.parse(text, what: "schedules") else {
                throw DroverError(.internal, "not an array")
            }
            return try items.map { item throws(DroverError) in
                guard let idText = item["id"]?.stringValue, let id = UUID(uuidString: idText),
                    let slug = item["slug"]?.stringValue, case .bool(let active)? = item["active"],
                    let parameters = item["parameters"]?.objectValue, let kind = item["kind"]
                else { throw DroverError(.internal, "a schedule lacks its id, slug, active flag, parameters or kind") }
                return DeploymentSchedule(
                    id: id, slug: slug, kind: try ScheduleKind(json: kind), active: active, parameters: parameters,
                    scheduledThrough: try optionalDate(item["scheduled_through"], what: "scheduled_through of '\(slug)'"),
                    madeThrough: try optionalDate(item["made_through"], what: "made_through of '\(slug)'"))
            }
        } catch {
            throw DroverError(.internal, "Stored deployment '\(deployment)' has damaged schedules: \(error.message)")
        }
    }

    private static func flowRun(from row: Row) throws(DroverError) -> FlowRun {
        let name: String = row["name"]
        let historyText: String = row["history"]
        let history: [FlowRunStateRecord]
        do {
            guard case .array(let items) = try JSONValue.parse(historyText, what: "state history") else {
                throw DroverError(.internal, "not an array")
            }
            history = try items.map { item throws(DroverError) in
                guard let typeName = item["type"]?.stringValue, let type = StateType(rawValue: typeName),
                    case .number(let micros)? = item["timestamp"]
                else { throw DroverError(.internal, "bad entry") }
                return FlowRunStateRecord(
                    type: type, name: item["name"]?.stringValue ?? type.defaultName,
                    timestamp: Date(timeIntervalSince1970: micros / 1_000_000), message: item["message"]?.stringValue ?? "")
            }
        } catch {
            throw DroverError(.internal, "Stored flow run '\(name)' has a damaged state history: \(error)")
        }
        guard !history.isEmpty else {
            throw DroverError(.internal, "Stored flow run '\(name)' has an empty state history.")
        }
        return FlowRun(
            id: try uuid(row["id"], what: "flow run id"), name: name,
            deploymentID: try uuid(row["deployment_id"], what: "deployment id"),
            poolID: try uuid(row["pool_id"], what: "pool id"), queueID: try uuid(row["queue_id"], what: "queue id"),
            tags: try strings(row["tags"], what: "tags of flow run '\(name)'"),
            parameters: try object(row["parameters"], what: "parameters of flow run '\(name)'"),
            jobVariables: try object(row["job_variables"], what: "job variables of flow run '\(name)'"),
            command: row["command"], expectedStart: date(row["expected_start"]),
            retries: UInt32(clamping: row["retries"] as Int64),
            retryDelaySeconds: UInt32(clamping: row["retry_delay_seconds"] as Int64), created: date(row["created"]),
            history: history, attempt: UInt32(clamping: row["attempt"] as Int64), workerID: row["worker_id"],
            workerName: row["worker_name"], exitCode: (row["exit_code"] as Int64?).map { Int32(clamping: $0) },
            startTime: (row["start_time"] as Int64?).map(date), endTime: (row["end_time"] as Int64?).map(date),
            scheduleSlug: row["schedule_slug"], scheduledTime: (row["scheduled_time"] as Int64?).map(date))
    }

    private static func object(_ text: String, what: String) throws(DroverError) -> [String: JSONValue] {
        guard let members = try? JSONValue.parse(text, what: what).objectValue else {
            throw DroverError(.internal, "The store holds damaged \(what).")
        }
        return members
    }

    private static func strings(_ text: String, what: String) throws(DroverError) -> [String] {
        guard case .array(let items)? = try? JSONValue.parse(text, what: what) else {
            throw DroverError(.internal, "The store holds damaged \(what).")
        }
        return items.compactMap(\.stringValue)
    }

    private static func pool(from row: Row) throws(DroverError) -> WorkPool {
        let name: String = row["name"]
        let templateText: String = row["base_job_template"]
        let typeName: String = row["type"]
        guard let type = WorkPoolType(rawValue: typeName) else {
            throw DroverError(.internal, "Stored work pool '\(name)' has an unknown type '\(typeName)'.")
        }
        let template: BaseJobTemplate
        do {
            template = try BaseJobTemplate(JSONValue.parse(templateText, what: "stored base job template"))
        } catch {
            throw DroverError(.internal, "Stored work pool '\(name)' has a damaged base job template: \(error.message)")
        }
        return WorkPool(
            id: try uuid(row["id"], what: "work pool id"), name: name, type: type,
            description: row["description"], baseJobTemplate: template,
            concurrencyLimit: (row["concurrency_limit"] as Int64?).map { UInt32(clamping: $0) },
            isPaused: row["is_paused"], defaultQueueID: try uuid(row["default_queue_id"], what: "default queue id"),
            created: date(row["created"]), updated: date(row["updated"]))
    }

    private static func queue(from row: Row) throws(DroverError) -> WorkQueue {
        WorkQueue(
            id: try uuid(row["id"], what: "work queue id"), poolID: try uuid(row["pool_id"], what: "pool id"),
            name: row["name"], description: row["description"],
            priority: UInt32(clamping: row["priority"] as Int64),
            concurrencyLimit: (row["concurrency_limit"] as Int64?).map { UInt32(clamping: $0) },
            isPaused: row["is_paused"], created: date(row["created"]), updated: date(row["updated"]))
    }

    // MARK: Helpers

    /// `date` in whole microseconds since 1970; never traps (see `Date.microsecondsSince1970`).
    static func microseconds(_ date: Date) -> Int64 {
        date.microsecondsSince1970
    }

    static func date(_ microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    private static func uuid(_ text: String, what: String) throws(DroverError) -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw DroverError(.internal, "The store holds a damaged \(what): '\(text)'.")
        }
        return id
    }

    private func run<T>(_ body: (Database) throws -> T) throws(DroverError) -> T {
        do {
            return try writer.read(body)
        } catch {
            throw DroverError(.internal, "Store read failed: \(Self.describe(error))")
        }
    }

    private func write(_ body: (Database) throws -> Void) throws(DroverError) {
        do {
            try writer.write(body)
        } catch {
            throw DroverError(.internal, "Store write failed: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? error.description
        }
        return "\(error)"
    }
}
