//! [`Migrator`]: applies and rolls back migrations on a database, and reports their status.
//!
//! `apply` and `rollback` hold one connection for the whole run. On PostgreSQL it takes the
//! advisory lock first (see [`crate::dialect::migrate::lock`]), then reads the history and plans; each
//! migration and its history row run in one transaction. On SQLite each migration runs in a
//! `BEGIN IMMEDIATE` transaction that re-reads the history first, so concurrent appliers apply
//! each migration once; table rebuilds run with foreign keys off (switched outside the
//! transaction) and `PRAGMA foreign_key_check` before commit. On MySQL it takes `GET_LOCK`
//! first; DDL commits statement by statement there, so every migration runs as a non-atomic
//! one does, each statement recorded in `chakra_migration_progress` as it completes.

#[path = "fake_initial.rs"]
pub mod fake_initial;

use super::error::MigrationError;
use super::graph::Graph;
use super::history::{self, HistoryRow};
use super::loader::{load_dir, LoadedMigration};
use super::plan::{self, begin_sql, Direction, RollbackTarget, StatusEntry, Step};
use crate::exec::Conn;
use crate::sql::Dialect;
use crate::Pool;
use chakra_dsl::{Error, Result, ValueType};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The key of a step's progress record (a rollback has its own).
/// The tables a step rebuilds (SQLite), from its `ALTER TABLE "__chakra_new_…" RENAME TO`.
fn rebuilt_tables(step: &Step) -> Vec<String> {
    step.plan
        .statements
        .iter()
        .filter_map(|s| {
            let rest = s.strip_prefix("ALTER TABLE \"__chakra_new_")?;
            let (_, to) = rest.split_once("\" RENAME TO ")?;
            Some(to.trim_matches('"').replace("\"\"", "\""))
        })
        .collect()
}

/// `sql` with the carried constraint clauses added to the new table's column list when it
/// is the `CREATE TABLE` of a rebuild that has some.
fn with_carried(sql: &str, carried: &BTreeMap<String, Vec<String>>) -> String {
    for (prefix, clauses) in carried {
        if sql.starts_with(prefix.as_str()) {
            if let Some(end) = sql.rfind(')') {
                return format!("{}, {}{}", &sql[..end], clauses.join(", "), &sql[end..]);
            }
        }
    }
    sql.to_owned()
}

fn progress_id(step: &Step) -> String {
    match step.direction {
        Direction::Apply => step.key.id.clone(),
        Direction::Rollback => format!("{} (rollback)", step.key.id),
    }
}

/// Receives progress messages (waiting for the lock, applying a migration).
pub type Notify = Arc<dyn Fn(&str) + Send + Sync>;

/// Applies, rolls back and reports migrations of one folder on one database.
#[derive(Clone)]
pub struct Migrator {
    pool: Pool,
    graph: Graph,
    /// How long `apply`/`rollback` wait for another migrator's lock: PostgreSQL's advisory
    /// lock; on SQLite the database's write lock (checked after each busy wait of the pool,
    /// `PoolOptions::statement_timeout`, so a pool with a long one waits at least that long;
    /// the CLI's pool waits at most a second at a time).
    pub lock_timeout: Duration,
    /// PostgreSQL: how long each DDL statement may wait for a table lock before failing with
    /// a retryable [`Error::LockTimeout`] naming the table and the sessions holding it
    /// (`SET lock_timeout`; a migration's own `lock_timeout` wins). Default 5 s.
    pub ddl_lock_timeout: Duration,
    /// PostgreSQL: how many times a migration that failed on a table lock is tried again
    /// (after 0.5 s, 1 s, 1.5 s…). Default 0.
    pub retry_lock: u32,
    /// Tolerate applied migrations whose files are gone (they are reported and left out);
    /// by default they are an error.
    pub ignore_missing: bool,
    notify: Notify,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.graph.ordered.len())
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

impl Migrator {
    /// A migrator over already loaded migrations (their graph is checked here).
    pub fn new(pool: Pool, migrations: Vec<LoadedMigration>) -> Result<Migrator> {
        Ok(Migrator {
            pool,
            graph: Graph::new(migrations)?,
            lock_timeout: Duration::from_secs(60),
            ddl_lock_timeout: Duration::from_secs(5),
            retry_lock: 0,
            ignore_missing: false,
            notify: Arc::new(|_| {}),
        })
    }

    /// A migrator over the migrations in `dir` (`migrations/`); a `dir` that is not a folder
    /// is an error naming it (a typo must not pass for "nothing to apply").
    pub fn from_dir(pool: Pool, dir: impl AsRef<Path>) -> Result<Migrator> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(Error::Migration(format!(
                "the migrations folder {} does not exist or is not a folder",
                dir.display()
            )));
        }
        Migrator::new(pool, load_dir(dir)?)
    }

    /// A migrator over the migrations in `dir`, on a pool of its own connected to `url`
    /// (two connections): the way a program applies its migrations itself, with the URL its
    /// models use. The stale-models check a pool runs at connect (`schema_check`) is skipped
    /// here whatever the URL or `chakra.toml` say: the migrations bring the database to the
    /// generated models, so models generated from a migration not applied yet do not stop
    /// its `apply`. A later [`Pool::connect`] then checks them.
    pub async fn connect(url: &str, dir: impl AsRef<Path>) -> Result<Migrator> {
        let opts = crate::PoolOptions {
            max_size: 2,
            ..Default::default()
        };
        Migrator::connect_with(url, opts, dir).await
    }

    /// [`Migrator::connect`] with pool options (`schema_check` among them is not used).
    pub async fn connect_with(
        url: &str,
        opts: crate::PoolOptions,
        dir: impl AsRef<Path>,
    ) -> Result<Migrator> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(Error::Migration(format!(
                "the migrations folder {} does not exist or is not a folder",
                dir.display()
            )));
        }
        let migrations = load_dir(dir)?;
        let pool = Pool::connect_for_migrations(url, opts).await?;
        Migrator::new(pool, migrations)
    }

    /// Sends progress messages to `f` (the CLI prints them on stderr).
    pub fn on_message(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Migrator {
        self.notify = Arc::new(f);
        self
    }

    /// The migrations, in application order.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The pool's dialect.
    pub fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    /// A connection with a server session of its own. Behind a transaction pooler
    /// (`pooler=transaction`) there is none to have: the migration lock is a session advisory
    /// lock, so migrations are refused with a named error instead of running unprotected.
    async fn session_conn(&self) -> Result<crate::exec::Conn> {
        if self.pool.dialect().migrate().lock_is_per_session()
            && self.pool.options().pooler == crate::Pooler::Transaction
        {
            return Err(Error::Migration(
                "migrations need a PostgreSQL session of their own (the migration lock is a \
                 session advisory lock), and this pool goes through a transaction pooler \
                 (pooler=transaction), which hands each transaction to any server connection: \
                 point --database-url at PostgreSQL directly, not at PgBouncer"
                    .into(),
            ));
        }
        self.pool.acquire().await
    }

    /// The recorded history (empty before the first `apply`).
    pub async fn history(&self) -> Result<Vec<HistoryRow>> {
        history::read_history(&mut self.session_conn().await?).await
    }

    /// The history the planners see: without applied migrations whose files are gone when
    /// [`Migrator::ignore_missing`] is set (each reported).
    fn usable(&self, h: Vec<HistoryRow>) -> Vec<HistoryRow> {
        if !self.ignore_missing {
            return h;
        }
        h.into_iter()
            .filter(|r| {
                let known = self
                    .graph
                    .ordered
                    .iter()
                    .any(|m| m.migration.app == r.app && m.migration.id == r.id);
                if !known {
                    (self.notify)(&format!(
                        "ignoring applied migration {}/{}: its file is missing",
                        r.app, r.id
                    ));
                }
                known
            })
            .collect()
    }

    /// Every migration and where it stands; never changes anything. A non-atomic migration
    /// an earlier run left part-way is [`plan::Status::PartlyApplied`].
    pub async fn status(&self) -> Result<Vec<StatusEntry>> {
        let mut conn = self.session_conn().await?;
        let h = history::read_history(&mut conn).await?;
        let mut entries = plan::status(&self.graph, &h);
        let progress = history::read_all_progress(&mut conn).await?;
        if progress.is_empty() {
            return Ok(entries);
        }
        let pending = plan::plan_apply(&self.graph, &self.usable(h), None, self.dialect())
            .unwrap_or_default();
        for e in &mut entries {
            if e.status != plan::Status::Pending {
                continue;
            }
            let Some(step) = pending.iter().find(|s| s.key == e.key) else {
                continue;
            };
            if let Some(p) = progress
                .iter()
                .find(|p| p.0 == e.key.app && p.1 == e.key.id && p.2 == step.checksum)
            {
                e.status = plan::Status::PartlyApplied {
                    done: p.3 as usize,
                    total: step.plan.statements.len(),
                };
            }
        }
        Ok(entries)
    }

    /// Marks the steps an earlier run left part-way (what `sql` shows then skips them).
    async fn with_progress(&self, mut steps: Vec<Step>) -> Result<Vec<Step>> {
        if steps.iter().all(|s| s.atomic) {
            return Ok(steps);
        }
        let progress = history::read_all_progress(&mut self.session_conn().await?).await?;
        for s in steps.iter_mut().filter(|s| !s.atomic) {
            let id = progress_id(s);
            if let Some(p) = progress
                .iter()
                .find(|p| p.0 == s.key.app && p.1 == id && p.2 == s.checksum)
            {
                s.resume_at = Some(p.3 as usize);
            }
        }
        Ok(steps)
    }

    /// Differences between the schema the applied migrations describe and the database's
    /// own (tables, columns, types, nullability, indexes); empty when they agree. Changes
    /// nothing.
    pub async fn check_database(&self) -> Result<Vec<String>> {
        let mut conn = self.session_conn().await?;
        let h = self.usable(history::read_history(&mut conn).await?);
        plan::verify(&self.graph, &h)?;
        let applied: Vec<_> = self
            .graph
            .ordered
            .iter()
            .filter(|m| {
                h.iter()
                    .any(|r| r.app == m.migration.app && r.id == m.migration.id)
            })
            .map(|m| &m.migration)
            .collect();
        let state = crate::migrate::State::replay(applied)?;
        let db = super::introspect::introspect(&mut conn).await?;
        let mut out = super::drift::compare(&state, &db, conn.dialect());
        if let Some(types) = crate::dialect::migrate::read_enum_types(&mut conn).await? {
            out.extend(super::drift::compare_enum_types(&state, &types));
        }
        // Index and CHECK definitions (columns, uniqueness, conditions), in the database's
        // own words on both sides.
        let have = super::introspect::read_definitions(&mut conn).await?;
        let want = super::introspect::declared_definitions(&mut conn, &state).await?;
        out.extend(super::definitions::compare(&want, &have));
        Ok(out)
    }

    /// Each step's lock timeout: its migration's own, else [`Migrator::ddl_lock_timeout`].
    fn settle(&self, mut steps: Vec<Step>) -> Vec<Step> {
        for s in &mut steps {
            s.lock_timeout = Some(s.lock_timeout.unwrap_or(self.ddl_lock_timeout));
        }
        steps
    }

    /// What `apply` would run now.
    pub async fn plan_apply(&self, to: Option<&str>) -> Result<Vec<Step>> {
        let h = self.usable(self.history().await?);
        let steps = self.settle(plan::plan_apply(&self.graph, &h, to, self.dialect())?);
        self.with_progress(steps).await
    }

    /// What `rollback` would run now.
    pub async fn plan_rollback(&self, target: &RollbackTarget) -> Result<Vec<Step>> {
        let h = self.usable(self.history().await?);
        let steps = self.settle(plan::plan_rollback(
            &self.graph,
            &h,
            target,
            self.dialect(),
        )?);
        self.with_progress(steps).await
    }

    /// Applies pending migrations (up to and including `to` and its dependencies, when
    /// given). Returns the steps it ran.
    pub async fn apply(&self, to: Option<&str>) -> Result<Vec<Step>> {
        let to = to.map(str::to_owned);
        self.locked(move |graph, h, d| plan::plan_apply(graph, h, to.as_deref(), d))
            .await
    }

    /// Rolls migrations back. Returns the steps it ran.
    pub async fn rollback(&self, target: &RollbackTarget) -> Result<Vec<Step>> {
        let target = target.clone();
        self.locked(move |graph, h, d| plan::plan_rollback(graph, h, &target, d))
            .await
    }

    async fn locked(
        &self,
        planner: impl FnOnce(
            &Graph,
            &[HistoryRow],
            Dialect,
        ) -> std::result::Result<Vec<Step>, MigrationError>,
    ) -> Result<Vec<Step>> {
        let mut conn = self.session_conn().await?;
        let d = conn.dialect();
        crate::dialect::migrate::lock(&mut conn, self.lock_timeout, &*self.notify).await?;
        if let Some(setup) = d.migrate().session_setup() {
            // Allowed to fail (an older server refusing a setting): see the hook.
            if let Err(e) = conn.batch_execute(setup).await {
                tracing::debug!(target: "chakra::migrate", "{setup}: {e}");
            }
        }
        let result = async {
            if !history::history_exists(&mut conn).await? {
                let create = history::create_history_sql(d);
                self.wait_for_write(&mut conn, &create, "create the history table")
                    .await?;
            }
            if history::needs_upgrade(&mut conn).await? {
                self.wait_for_write(&mut conn, begin_sql(d), "upgrade the history table")
                    .await?;
                let upgraded = async {
                    history::upgrade_history(&mut conn).await?;
                    conn.batch_execute("COMMIT").await
                }
                .await;
                if let Err(e) = upgraded {
                    let _ = conn.batch_execute("ROLLBACK").await;
                    return Err(e);
                }
            }
            let h = self.usable(history::read_history(&mut conn).await?);
            let steps = self.settle(planner(&self.graph, &h, d)?);
            let mut done = Vec::new();
            for step in steps {
                let mut attempt = 0;
                loop {
                    match self.run_step(&mut conn, &step).await {
                        Ok(ran) => {
                            if ran {
                                done.push(step);
                            }
                            break;
                        }
                        Err(e @ Error::LockTimeout(_))
                            if d.migrate().has_ddl_lock_timeout() && attempt < self.retry_lock =>
                        {
                            attempt += 1;
                            (self.notify)(&format!(
                                "{e}; trying again ({attempt} of {})",
                                self.retry_lock
                            ));
                            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt)))
                                .await;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok(done)
        }
        .await;
        match &result {
            Err(Error::Connection(_)) => conn.discard(),
            _ => {
                if let Some(reset) = d.migrate().session_reset() {
                    if let Err(e) = conn.batch_execute(reset).await {
                        tracing::debug!(target: "chakra::migrate", "resetting timeouts: {e}");
                    }
                }
                if let Err(e) = crate::dialect::migrate::unlock(&mut conn).await {
                    tracing::warn!(target: "chakra::migrate", "releasing the migration lock: {e}");
                    conn.discard();
                }
            }
        }
        result
    }

    /// Runs one step; false when another migrator did it first (SQLite).
    async fn run_step(&self, conn: &mut Conn, step: &Step) -> Result<bool> {
        let d = conn.dialect();
        let fk = d
            .migrate()
            .foreign_key_pause()
            .filter(|_| step.plan.foreign_keys_off);
        let verb = match step.direction {
            Direction::Apply => "applying",
            Direction::Rollback => "rolling back",
        };
        (self.notify)(&format!("{verb} {}/{}", step.key.app, step.key.id));
        if let Some(fk) = fk {
            conn.batch_execute(fk.off).await?;
        }
        if let Some(set) = step.set_lock_timeout(d) {
            conn.batch_execute(&set).await?;
        }
        if step.atomic {
            if let Err(e) = self.begin(conn, step).await {
                if let Some(fk) = fk {
                    conn.batch_execute(fk.on).await?;
                }
                return Err(e);
            }
        }
        let result = self.run_step_body(conn, step, d, fk).await;
        if let (Err(failed), true) = (&result, step.atomic) {
            if let Err(e) = conn.batch_execute("ROLLBACK").await {
                // The connection's state is unknown: the caller closes it, which rolls back.
                return Err(Error::Connection(format!(
                    "{}: {verb} {}/{} failed ({failed}), then ROLLBACK failed ({e}); the \
                     connection is closed, so the database rolls the migration back",
                    step.path.display(),
                    step.key.app,
                    step.key.id
                )));
            }
        }
        if let Some(fk) = fk {
            conn.batch_execute(fk.on).await?;
        }
        if let Err(Error::LockTimeout(f)) = &result {
            if d.migrate().has_ddl_lock_timeout() {
                return Err(self.lock_timeout_error(conn, step, f).await);
            }
        }
        result.map_err(|e| {
            let file = step.path.display();
            let undone = if step.atomic {
                "nothing of it was applied"
            } else if !d.migrate().transactional_ddl() {
                "it is not atomic (each DDL statement commits on its own on this database): \
                 statements before the failing one stay applied, and the next apply resumes \
                 after them"
            } else {
                "it is not atomic: statements before the failing one stay applied"
            };
            // The SQLite rebuild's temporary table is the user's table.
            let e = e.to_string().replace("__chakra_new_", "");
            Error::Migration(format!(
                "{file}: {verb} {}/{} failed ({undone}): {e}",
                step.key.app, step.key.id
            ))
        })
    }

    /// The error for a step whose statement gave up waiting for a table lock: which table,
    /// held by which sessions (read after the rollback, from `pg_locks`), and what to do.
    async fn lock_timeout_error(
        &self,
        conn: &mut Conn,
        step: &Step,
        failure: &chakra_dsl::Failure,
    ) -> Error {
        let tables = super::locks::tables_in(&step.plan.statements);
        let holders = super::locks::holders(conn, &tables)
            .await
            .unwrap_or_default();
        let table = holders
            .first()
            .map(|(t, _)| t.clone())
            .or_else(|| failure.table.clone())
            .or_else(|| tables.first().cloned());
        let who = if holders.is_empty() {
            match &table {
                Some(t) => format!("table {t:?} was held by a session that has let go of it since"),
                None => "the table was held by a session that has let go of it since".to_owned(),
            }
        } else {
            holders
                .iter()
                .map(|(t, h)| format!("table {t:?} is held by pid {h}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let t = step.lock_timeout.unwrap_or(self.ddl_lock_timeout);
        let verb = match step.direction {
            Direction::Apply => "applying",
            Direction::Rollback => "rolling back",
        };
        let undone = if step.atomic {
            "nothing of it was applied"
        } else {
            "it is not atomic: the statements before stay applied and the next apply resumes"
        };
        Error::LockTimeout(chakra_dsl::Failure {
            table,
            sqlstate: Some("55P03".into()),
            message: format!(
                "{}: {verb} {}/{} waited longer than its lock_timeout ({:.1}s) for a lock: {who} \
                 ({undone}); this is retryable: apply --retry-lock N tries again, or end \
                 the blocking session",
                step.path.display(),
                step.key.app,
                step.key.id,
                t.as_secs_f64()
            ),
        })
    }

    /// Begins a step's transaction (see [`Migrator::wait_for_write`]); a timeout says that
    /// nothing of the step was applied.
    async fn begin(&self, conn: &mut Conn, step: &Step) -> Result<()> {
        let what = format!("start {}/{}", step.key.app, step.key.id);
        self.wait_for_write(conn, begin_sql(conn.dialect()), &what)
            .await
            .map_err(|e| match e {
                Error::Migration(m) => Error::Migration(format!(
                    "{}: {m}; nothing of {}/{} was applied",
                    step.path.display(),
                    step.key.app,
                    step.key.id
                )),
                other => other,
            })
    }

    /// Runs a statement that needs SQLite's write lock (`BEGIN IMMEDIATE`, creating the
    /// history table), which another applier holds while it applies a migration: the wait is
    /// retried (each try lasting the pool's busy timeout) until [`Migrator::lock_timeout`],
    /// said once, and a timeout is an error saying another process holds the lock, not that
    /// a migration failed. On PostgreSQL it just runs the statement.
    async fn wait_for_write(&self, conn: &mut Conn, sql: &str, what: &str) -> Result<()> {
        let d = conn.dialect();
        let started = std::time::Instant::now();
        let mut told = false;
        loop {
            match conn.batch_execute(sql).await {
                Ok(()) => return Ok(()),
                Err(e) if d.migrate().write_lock_busy(&e) => {
                    let waited = started.elapsed();
                    if waited >= self.lock_timeout {
                        return Err(Error::Migration(format!(
                            "could not {what} within {:.1}s: another process is applying \
                             migrations (or writing) to this database and holds its write lock. \
                             Run apply again when it is done, or wait longer with --lock-timeout",
                            waited.as_secs_f64(),
                        )));
                    }
                    if !told {
                        (self.notify)(&format!(
                            "waiting: another process is applying migrations (the database is \
                             locked), up to {}s",
                            self.lock_timeout.as_secs()
                        ));
                        told = true;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs a non-atomic step's statements one by one, skipping those a failed earlier run
    /// completed (when the file is unchanged). A statement that can run in a transaction runs
    /// in one with its progress record, so it is recorded exactly when it commits; one that
    /// cannot (`CREATE INDEX CONCURRENTLY`) is recorded after it, and when a run was cut off
    /// there it is run again in its idempotent form, after dropping the invalid index an
    /// interrupted `CREATE INDEX CONCURRENTLY` leaves (read from the catalog).
    async fn run_resumable(&self, conn: &mut Conn, step: &Step) -> Result<()> {
        let d = conn.dialect();
        let app = &step.key.app;
        let id = &progress_id(step);
        conn.batch_execute(&history::create_progress_sql(d)).await?;
        let done = match history::read_progress(conn, app, id).await? {
            Some((sum, n)) if sum == step.checksum => Some(n as usize),
            Some(_) => {
                return Err(Error::Migration(format!(
                    "{}: this non-atomic migration failed part-way with a different content; \
                     restore the file as it was, or repair the database by hand and delete its \
                     row from chakra_migration_progress",
                    step.path.display()
                )))
            }
            None => None,
        };
        let total = step.plan.statements.len();
        match done {
            Some(n) => (self.notify)(&format!(
                "resuming {app}/{id}: partly applied, {n} of {total} steps done"
            )),
            // Started: a cut-off first statement is then known to be possibly run.
            None => {
                self.check_data(conn, step).await?;
                history::write_progress(conn, app, id, &step.checksum, 0).await?
            }
        }
        let mut resumed = step.clone();
        resumed.resume_at = Some(done.unwrap_or(0));
        let start = done.unwrap_or(0);
        for (k, (sql, in_tx)) in resumed.resumable(d).into_iter().enumerate() {
            let i = start + k;
            if in_tx {
                conn.batch_execute(begin_sql(d)).await?;
                let r = async {
                    conn.batch_execute(&sql).await?;
                    history::write_progress(conn, app, id, &step.checksum, i as u64 + 1).await?;
                    conn.batch_execute("COMMIT").await
                }
                .await;
                if r.is_err() {
                    let _ = conn.batch_execute("ROLLBACK").await;
                }
                r?;
            } else {
                if done == Some(i) {
                    self.drop_invalid_index(conn, &sql).await?;
                }
                match conn.batch_execute(&sql).await {
                    Ok(()) => {}
                    // The statement an interrupted run may have cut off (MySQL: DDL commits
                    // before its progress is recorded) already took effect.
                    Err(e) if done == Some(i) && d.migrate().already_done(&sql, &e) => {
                        (self.notify)(&format!(
                            "step {} of {id} was already done by the interrupted run ({e})",
                            i + 1
                        ));
                    }
                    Err(e) => return Err(e),
                }
                history::write_progress(conn, app, id, &step.checksum, i as u64 + 1).await?;
            }
        }
        Ok(())
    }

    /// SQLite: the indexes and triggers the tables this step rebuilds have in the database
    /// (`sqlite_master`) that the rebuild does not recreate itself (objects the history does
    /// not know, such as a partial index made by RunSQL) and that the step does not drop by
    /// name: `(type, name, table, sql)`.
    async fn objects_a_rebuild_drops(
        &self,
        conn: &mut Conn,
        step: &Step,
    ) -> Result<Vec<(String, String, String, String)>> {
        let rebuilt = rebuilt_tables(step);
        if rebuilt.is_empty() {
            return Ok(Vec::new());
        }
        let all = crate::dialect::sqlite::rebuild::indexes_and_triggers(conn).await?;
        let mentioned = |name: &str| {
            let quoted = chakra_dsl::ident::quote(name);
            step.plan.statements.iter().any(|s| {
                let u = s.to_ascii_uppercase();
                (u.starts_with("CREATE") || u.starts_with("DROP"))
                    && (s.contains(&quoted) || s.split_whitespace().any(|w| w == name))
            })
        };
        Ok(all
            .into_iter()
            .filter(|(_, name, table, _)| rebuilt.contains(table) && !mentioned(name))
            .collect())
    }

    /// SQLite: the named CHECK constraints the tables this step rebuilds have in the database
    /// that the new table would not have and that no migration declares (made by hand): by
    /// table, their clauses as written, to be carried into the new table.
    async fn constraints_a_rebuild_drops(
        &self,
        conn: &mut Conn,
        step: &Step,
    ) -> Result<BTreeMap<String, Vec<String>>> {
        use super::operations::{ConstraintDef, Operation};
        let known: BTreeSet<&str> = self
            .graph
            .ordered
            .iter()
            .flat_map(|m| &m.migration.operations)
            .flat_map(|op| -> Vec<&ConstraintDef> {
                match op {
                    Operation::CreateModel { constraints, .. } => constraints.iter().collect(),
                    Operation::AddConstraint { constraint, .. } => vec![constraint],
                    _ => Vec::new(),
                }
            })
            .map(|c| c.name.as_str())
            .collect();
        let mut out = BTreeMap::new();
        for table in rebuilt_tables(step) {
            let new_prefix = format!(
                "CREATE TABLE {} (",
                chakra_dsl::ident::quote(&crate::dialect::sqlite::rebuild::temp_name(&table))
            );
            let Some(new_sql) = step
                .plan
                .statements
                .iter()
                .find(|s| s.starts_with(&new_prefix))
            else {
                continue;
            };
            let new_names =
                super::definitions::named_checks(&super::definitions::normalize_sql(new_sql));
            let Some(old_sql) = crate::dialect::sqlite::rebuild::table_sql(conn, &table).await?
            else {
                continue;
            };
            let carried: Vec<String> = super::definitions::named_check_clauses(&old_sql)
                .into_iter()
                .filter(|(name, _)| !new_names.contains_key(name) && !known.contains(name.as_str()))
                .map(|(name, clause)| {
                    (self.notify)(&format!(
                        "kept CHECK constraint {name} on {table} across the table rebuild (the \
                         migrations do not declare it)"
                    ));
                    clause
                })
                .collect();
            if !carried.is_empty() {
                out.insert(new_prefix, carried);
            }
        }
        Ok(out)
    }

    /// Recreates the objects [`Migrator::objects_a_rebuild_drops`] found, when the rebuild
    /// dropped them; one that no longer fits the table is an error naming it.
    async fn recreate(
        &self,
        conn: &mut Conn,
        step: &Step,
        kept: Vec<(String, String, String, String)>,
    ) -> Result<()> {
        for (ty, name, table, sql) in kept {
            if crate::dialect::sqlite::rebuild::object_exists(conn, &name).await? {
                continue;
            }
            conn.batch_execute(&sql).await.map_err(|e| {
                Error::Migration(format!(
                    "{}: rebuilding table {table:?} drops {ty} {name:?}, which the migrations do \
                     not know (made by RunSQL or by hand), and it cannot be made again on the new \
                     table ({e}): drop or change it in a RunSQL before this operation",
                    step.path.display()
                ))
            })?;
            (self.notify)(&format!(
                "kept {ty} {name} on {table} across the table rebuild (the migrations do not \
                 declare it)"
            ));
        }
        Ok(())
    }

    /// Refuses a type change that would change or fail on existing values: the number of
    /// such rows and an example, before any statement of the step runs.
    async fn check_data(&self, conn: &mut Conn, step: &Step) -> Result<()> {
        let d = conn.dialect();
        for c in &step.data_checks {
            let t = chakra_dsl::ident::quote(&c.table);
            let col = chakra_dsl::ident::quote(&c.column);
            let q = history::raw(
                d,
                &[&format!(
                    "SELECT count(*), (SELECT CAST({col} AS {text}) FROM {t} WHERE {cond} LIMIT 1) \
                     FROM {t} WHERE {cond}",
                    cond = c.condition,
                    text = d.migrate().text_cast()
                )],
                vec![],
                vec![ValueType::I64, ValueType::Text],
            );
            let rows = conn.fetch(&q).await?;
            let n = rows.first().and_then(|r| r[0].as_i64()).unwrap_or(0);
            if n > 0 {
                let example = rows
                    .first()
                    .and_then(|r| r[1].as_str().map(str::to_owned))
                    .unwrap_or_default();
                return Err(Error::Migration(format!(
                    "{}.{}: changing {} would change or fail on {n} row(s), for example \
                     {example:?}; convert those values first (a RunSQL before it), or mark the \
                     AlterField lossy = true to run it anyway",
                    c.table, c.column, c.change
                )));
            }
        }
        Ok(())
    }

    /// An interrupted `CREATE INDEX CONCURRENTLY` (PostgreSQL) leaves an invalid index that
    /// `IF NOT EXISTS` would keep; drop it so the statement builds it again.
    async fn drop_invalid_index(&self, conn: &mut Conn, sql: &str) -> Result<()> {
        let Some(name) = super::plan::created_index_name(sql) else {
            return Ok(());
        };
        if !sql.to_ascii_uppercase().starts_with("CREATE") {
            return Ok(());
        }
        let bare = name.trim_matches('"').replace("\"\"", "\"");
        let invalid = crate::dialect::migrate::invalid_index_exists(conn, &bare).await?;
        if invalid {
            (self.notify)(&format!(
                "dropping the invalid index {bare} an interrupted run left, to build it again"
            ));
            let quoted = chakra_dsl::ident::quote(&bare);
            conn.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {quoted}"))
                .await?;
        }
        Ok(())
    }

    async fn run_step_body(
        &self,
        conn: &mut Conn,
        step: &Step,
        d: Dialect,
        fk: Option<crate::dialect::migrate::ForeignKeyPause>,
    ) -> Result<bool> {
        if step.atomic {
            // Begun by the caller (`begin`). Under the write lock: someone may have done this step since we planned.
            let h = history::read_history(conn).await?;
            let recorded = h
                .iter()
                .any(|r| r.app == step.key.app && r.id == step.key.id);
            if recorded != (step.direction == Direction::Rollback) {
                conn.batch_execute("ROLLBACK").await?;
                return Ok(false);
            }
        }
        if step.atomic {
            self.check_data(conn, step).await?;
            let (kept, carried) = if fk.is_some() {
                (
                    self.objects_a_rebuild_drops(conn, step).await?,
                    self.constraints_a_rebuild_drops(conn, step).await?,
                )
            } else {
                Default::default()
            };
            for sql in &step.plan.statements {
                conn.batch_execute(&with_carried(sql, &carried)).await?;
            }
            self.recreate(conn, step, kept).await?;
        } else {
            self.run_resumable(conn, step).await?;
        }
        if let Some(fk) = fk {
            let q = history::raw(
                d,
                &[fk.check],
                vec![],
                vec![
                    ValueType::Text,
                    ValueType::I64,
                    ValueType::Text,
                    ValueType::I64,
                ],
            );
            let rows = conn.fetch(&q).await?;
            if let Some(r) = rows.first() {
                return Err(Error::Migration(format!(
                    "{} row(s) break a foreign key, the first in table {} (rowid {}) referencing {}",
                    rows.len(),
                    r[0],
                    r[1],
                    r[2]
                )));
            }
        }
        if !step.atomic {
            // The history row and the end of the progress record commit together: a crash
            // leaves either the progress (resumed) or the history row (done).
            conn.batch_execute(begin_sql(d)).await?;
        }
        let finish = async {
            match step.direction {
                Direction::Apply => {
                    history::insert_history(conn, &step.key.app, &step.key.id, &step.checksum)
                        .await?
                }
                Direction::Rollback => {
                    history::delete_history(conn, &step.key.app, &step.key.id).await?
                }
            }
            if !step.atomic {
                history::clear_progress(conn, &step.key.app, &progress_id(step)).await?;
            }
            conn.batch_execute("COMMIT").await
        }
        .await;
        if let (Err(_), false) = (&finish, step.atomic) {
            let _ = conn.batch_execute("ROLLBACK").await;
        }
        finish?;
        Ok(true)
    }
}
