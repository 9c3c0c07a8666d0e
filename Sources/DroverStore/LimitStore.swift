import DroverCore
import Foundation
import GRDB

/// Where the limit service keeps its limits and leases, so that a restart neither forgets
/// a limit nor lets a held slot be granted twice. A plain store's `commit` returns once the
/// changes are durable, and applies all of them or none; a `GroupCommitLimitStore` makes
/// them durable at `sync`, which the service calls before it replies.
public protocol LimitStore: Sendable {
    /// Every limit and every lease.
    func load() throws(DroverError) -> (limits: [Limit], leases: [Lease])
    /// Persists `changes` in one transaction, or records them for the next `sync`.
    func commit(_ changes: [LimitStoreChange]) throws(DroverError)
    /// Returns once every change committed so far is durable.
    func sync() throws(DroverError)
}

extension LimitStore {
    /// A store whose `commit` is durable when it returns has nothing to sync.
    public func sync() throws(DroverError) {}
}

/// The limit service's SQLite file (`limits.sqlite` in its home), in WAL mode. It is a file
/// of its own so that a standalone limit service and a server share no schema.
public final class SQLiteLimitStore: LimitStore {
    private let writer: any DatabaseWriter
    public let path: String

    /// Opens (creating if needed) the store at `path`; ":memory:" keeps it in memory.
    public init(path: String, durability: SQLiteStore.Durability = .full) throws(DroverError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        do {
            writer =
                path == ":memory:"
                ? try DatabaseQueue(configuration: configuration)
                : try DatabasePool(path: path, configuration: configuration)
            try durability.apply(to: writer)
            let migrator = Self.migrator
            let unknown = try writer.read { db in try migrator.appliedIdentifiers(db) }.subtracting(migrator.migrations)
            guard unknown.isEmpty else {
                throw DroverError(
                    .failedPrecondition,
                    "The limit store at \(path) was written by a newer Drover (schema \(unknown.sorted().joined(separator: ", "))). "
                        + "Upgrade drover, or use another --home.")
            }
            try migrator.migrate(writer)
        } catch let error as DroverError {
            throw error
        } catch {
            throw DroverError(.internal, "Could not open the limit store at \(path): \(Self.describe(error))")
        }
    }

    /// The SQLite `synchronous` setting of the connection that writes: 2 (FULL) or 1 (NORMAL).
    public func synchronousSetting() throws -> Int {
        try writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The schema. Never edit a migration that has shipped: add a new one.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-limits-and-leases") { db in
            try db.execute(
                sql: """
                    CREATE TABLE limits (
                      id TEXT PRIMARY KEY NOT NULL,
                      name TEXT NOT NULL UNIQUE,
                      slots INTEGER NOT NULL CHECK (slots >= 0),
                      active INTEGER NOT NULL,
                      slot_decay_per_second REAL NOT NULL CHECK (slot_decay_per_second >= 0),
                      applies_to_all_runs INTEGER NOT NULL,
                      created INTEGER NOT NULL,
                      updated INTEGER NOT NULL
                    );
                    CREATE TABLE leases (
                      id TEXT PRIMARY KEY NOT NULL,
                      holder TEXT NOT NULL,
                      limits TEXT NOT NULL,
                      slots INTEGER NOT NULL CHECK (slots >= 1),
                      ttl_us INTEGER NOT NULL,
                      expires INTEGER NOT NULL,
                      created INTEGER NOT NULL
                    );
                    """)
        }
        return migrator
    }()

    public func load() throws(DroverError) -> (limits: [Limit], leases: [Lease]) {
        do {
            return try writer.read { db in
                let limits = try Row.fetchAll(db, sql: "SELECT * FROM limits ORDER BY name").map { row in
                    Limit(
                        id: UUID(uuidString: row["id"]) ?? UUID(), name: row["name"], slots: UInt32(row["slots"] as Int64),
                        isActive: row["active"], slotDecayPerSecond: row["slot_decay_per_second"],
                        appliesToAllRuns: row["applies_to_all_runs"], created: Self.date(row["created"]),
                        updated: Self.date(row["updated"]))
                }
                let leases = try Row.fetchAll(db, sql: "SELECT * FROM leases ORDER BY created").compactMap { row -> Lease? in
                    guard let id = UUID(uuidString: row["id"]) else { return nil }
                    let names = (try? JSONDecoder().decode([String].self, from: Data((row["limits"] as String).utf8))) ?? []
                    return Lease(
                        id: id, holder: row["holder"], limits: names, slots: UInt32(row["slots"] as Int64),
                        ttl: Double(row["ttl_us"] as Int64) / 1_000_000, expires: Self.date(row["expires"]),
                        created: Self.date(row["created"]))
                }
                return (limits, leases)
            }
        } catch {
            throw DroverError(.internal, "Limit store read failed: \(Self.describe(error))")
        }
    }

    public func commit(_ changes: [LimitStoreChange]) throws(DroverError) {
        guard !changes.isEmpty else { return }
        do {
            try writer.write { db in
                for change in changes {
                    switch change {
                    case .saveLimit(let limit):
                        try db.cachedStatement(
                            sql: """
                                INSERT INTO limits (id, name, slots, active, slot_decay_per_second, applies_to_all_runs, created, updated)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                                ON CONFLICT(id) DO UPDATE SET name = excluded.name, slots = excluded.slots,
                                  active = excluded.active, slot_decay_per_second = excluded.slot_decay_per_second,
                                  applies_to_all_runs = excluded.applies_to_all_runs, updated = excluded.updated
                                """
                        ).execute(arguments: [
                            limit.id.uuidString, limit.name, Int64(limit.slots), limit.isActive, limit.slotDecayPerSecond,
                            limit.appliesToAllRuns, Self.micros(limit.created), Self.micros(limit.updated),
                        ])
                    case .deleteLimit(let id):
                        try db.cachedStatement(sql: "DELETE FROM limits WHERE id = ?").execute(arguments: [id.uuidString])
                    case .saveLease(let lease):
                        let names = String(decoding: try JSONEncoder().encode(lease.limits), as: UTF8.self)
                        try db.cachedStatement(
                            sql: """
                                INSERT INTO leases (id, holder, limits, slots, ttl_us, expires, created)
                                VALUES (?, ?, ?, ?, ?, ?, ?)
                                ON CONFLICT(id) DO UPDATE SET limits = excluded.limits, expires = excluded.expires
                                """
                        ).execute(arguments: [
                            lease.id.uuidString, lease.holder, names, Int64(lease.slots), Int64(lease.ttl * 1_000_000),
                            Self.micros(lease.expires), Self.micros(lease.created),
                        ])
                    case .deleteLease(let id):
                        try db.cachedStatement(sql: "DELETE FROM leases WHERE id = ?").execute(arguments: [id.uuidString])
                    }
                }
            }
        } catch {
            throw DroverError(.internal, "Limit store write failed: \(Self.describe(error))")
        }
    }

    private static func micros(_ date: Date) -> Int64 { date.microsecondsSince1970 }
    private static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? error.description }
        return "\(error)"
    }
}
