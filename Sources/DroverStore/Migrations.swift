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
        migrator.registerMigration("v2-deployments-runs-logs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE deployments (
                      id TEXT PRIMARY KEY NOT NULL,
                      name TEXT NOT NULL UNIQUE,
                      pool_id TEXT NOT NULL REFERENCES work_pools(id),
                      queue_id TEXT NOT NULL REFERENCES work_queues(id),
                      command TEXT NOT NULL,
                      parameters TEXT NOT NULL,
                      job_variables TEXT NOT NULL,
                      tags TEXT NOT NULL,
                      retries INTEGER NOT NULL,
                      retry_delay_seconds INTEGER NOT NULL,
                      description TEXT NOT NULL,
                      created INTEGER NOT NULL,
                      updated INTEGER NOT NULL
                    );
                    CREATE TABLE flow_runs (
                      id TEXT PRIMARY KEY NOT NULL,
                      name TEXT NOT NULL,
                      deployment_id TEXT NOT NULL,
                      pool_id TEXT NOT NULL,
                      queue_id TEXT NOT NULL,
                      tags TEXT NOT NULL,
                      parameters TEXT NOT NULL,
                      job_variables TEXT NOT NULL,
                      command TEXT NOT NULL,
                      expected_start INTEGER NOT NULL,
                      state_type TEXT NOT NULL,
                      state_name TEXT NOT NULL,
                      history TEXT NOT NULL,
                      attempt INTEGER NOT NULL,
                      retries INTEGER NOT NULL,
                      retry_delay_seconds INTEGER NOT NULL,
                      worker_id TEXT,
                      worker_name TEXT,
                      exit_code INTEGER,
                      start_time INTEGER,
                      end_time INTEGER,
                      created INTEGER NOT NULL
                    );
                    CREATE INDEX flow_runs_by_state ON flow_runs(state_type);
                    CREATE INDEX flow_runs_by_pool ON flow_runs(pool_id, created);
                    CREATE INDEX flow_runs_by_deployment ON flow_runs(deployment_id, created);
                    CREATE TABLE flow_run_logs (
                      sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                      run_id TEXT NOT NULL,
                      attempt INTEGER NOT NULL,
                      timestamp INTEGER NOT NULL,
                      stream TEXT NOT NULL,
                      text TEXT NOT NULL
                    );
                    CREATE INDEX flow_run_logs_by_run ON flow_run_logs(run_id, sequence);
                    """)
        }
        migrator.registerMigration("v3-log-line-numbers") { db in
            // Workers number each run's lines; a line sent again after a reconnection is skipped.
            try db.execute(
                sql: """
                    ALTER TABLE flow_run_logs ADD COLUMN line INTEGER;
                    CREATE UNIQUE INDEX flow_run_logs_by_line ON flow_run_logs(run_id, attempt, line) WHERE line IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v4-schedules") { db in
            // A deployment's schedules are a JSON array; a run a schedule made names the schedule's
            // slug and the time it was made for, and one run exists per (deployment, slug, time).
            try db.execute(
                sql: """
                    ALTER TABLE deployments ADD COLUMN schedules TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE deployments ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE deployments ADD COLUMN catch_up TEXT NOT NULL DEFAULT 'all';
                    ALTER TABLE deployments ADD COLUMN concurrency_limit INTEGER
                      CHECK (concurrency_limit IS NULL OR concurrency_limit >= 0);
                    ALTER TABLE deployments ADD COLUMN collision_strategy TEXT NOT NULL DEFAULT 'ENQUEUE';
                    ALTER TABLE flow_runs ADD COLUMN schedule_slug TEXT;
                    ALTER TABLE flow_runs ADD COLUMN scheduled_time INTEGER;
                    CREATE UNIQUE INDEX flow_runs_by_schedule ON flow_runs(deployment_id, schedule_slug, scheduled_time)
                      WHERE schedule_slug IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v5-retry-crashed") { db in
            // Whether a run whose worker was lost is retried.
            try db.execute(sql: "ALTER TABLE deployments ADD COLUMN retry_crashed INTEGER NOT NULL DEFAULT 1;")
        }
        return migrator
    }()
}
