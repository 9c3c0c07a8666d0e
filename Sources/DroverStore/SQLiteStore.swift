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
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        }
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
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

    public func commit(_ changes: [CatalogChange]) throws(DroverError) {
        guard !changes.isEmpty else { return }
        try write { db in
            for change in changes {
                switch change {
                case .savePool(let pool): try Self.save(pool, in: db)
                case .deletePool(let id):
                    try db.execute(sql: "DELETE FROM work_pools WHERE id = ?", arguments: [id.uuidString])
                case .saveQueue(let queue): try Self.save(queue, in: db)
                case .deleteQueue(let id):
                    try db.execute(sql: "DELETE FROM work_queues WHERE id = ?", arguments: [id.uuidString])
                }
            }
        }
    }

    // MARK: Rows

    private static func save(_ pool: WorkPool, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO work_pools
                  (id, name, type, description, base_job_template, concurrency_limit, is_paused,
                   default_queue_id, created, updated)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                  description = excluded.description, base_job_template = excluded.base_job_template,
                  concurrency_limit = excluded.concurrency_limit, is_paused = excluded.is_paused,
                  updated = excluded.updated
                """,
            arguments: [
                pool.id.uuidString, pool.name, pool.type.rawValue, pool.description,
                pool.baseJobTemplate.json.render(), pool.concurrencyLimit.map { Int64($0) }, pool.isPaused,
                pool.defaultQueueID.uuidString, microseconds(pool.created), microseconds(pool.updated),
            ])
    }

    private static func save(_ queue: WorkQueue, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO work_queues
                  (id, pool_id, name, description, priority, concurrency_limit, is_paused, created, updated)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                  description = excluded.description, priority = excluded.priority,
                  concurrency_limit = excluded.concurrency_limit, is_paused = excluded.is_paused,
                  updated = excluded.updated
                """,
            arguments: [
                queue.id.uuidString, queue.poolID.uuidString, queue.name, queue.description, Int64(queue.priority),
                queue.concurrencyLimit.map { Int64($0) }, queue.isPaused, microseconds(queue.created),
                microseconds(queue.updated),
            ])
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

    static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
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
