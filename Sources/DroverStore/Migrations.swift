import GRDB

/// The store's schema, as an ordered list of migrations that run at start.
///
/// Never edit a migration that has shipped: add a new one.
enum Migrations {
    static var identifiers: Set<String> { Set(migrator.migrations) }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-work-pools-and-queues") { db in
            try db.execute(
                sql: """
                    CREATE TABLE work_pools (
                      id TEXT PRIMARY KEY NOT NULL,
                      name TEXT NOT NULL UNIQUE,
                      type TEXT NOT NULL,
                      description TEXT NOT NULL,
                      base_job_template TEXT NOT NULL,
                      concurrency_limit INTEGER CHECK (concurrency_limit IS NULL OR concurrency_limit >= 0),
                      is_paused INTEGER NOT NULL,
                      default_queue_id TEXT NOT NULL,
                      created INTEGER NOT NULL,
                      updated INTEGER NOT NULL
                    );
                    CREATE TABLE work_queues (
                      id TEXT PRIMARY KEY NOT NULL,
                      pool_id TEXT NOT NULL REFERENCES work_pools(id) ON DELETE CASCADE,
                      name TEXT NOT NULL,
                      description TEXT NOT NULL,
                      priority INTEGER NOT NULL CHECK (priority >= 1),
                      concurrency_limit INTEGER CHECK (concurrency_limit IS NULL OR concurrency_limit >= 0),
                      is_paused INTEGER NOT NULL,
                      created INTEGER NOT NULL,
                      updated INTEGER NOT NULL,
                      UNIQUE (pool_id, name)
                    );
                    CREATE INDEX work_queues_by_pool ON work_queues(pool_id);
                    """)
        }
        return migrator
    }()
}
