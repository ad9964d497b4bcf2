//! Planning `apply`, `rollback` and `status` from the migrations on disk and the recorded
//! history. Pure: the history is passed in. Every applied migration must still be on disk
//! with the checksum it was applied with.

use super::ddl::{migration_backward, migration_forward, Plan};
use super::error::{MResult, MigrationError};
use super::graph::Graph;
use super::history::HistoryRow;
use super::loader::LoadedMigration;
use super::operations::Dependency;
use super::state::State;
use crate::Dialect;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Which way a step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Applying a migration.
    Apply,
    /// Rolling a migration back.
    Rollback,
}

/// One migration to apply or roll back, with its statements.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// `(app, id)`.
    pub key: Dependency,
    /// The file.
    pub path: PathBuf,
    /// The checksum recorded when applying.
    pub checksum: String,
    /// Apply or roll back.
    pub direction: Direction,
    /// Runs in one transaction with its history row (`atomic = true`, the default).
    pub atomic: bool,
    /// The DDL statements.
    pub plan: Plan,
    /// PostgreSQL: how long each statement may wait for a table lock: the migration's own
    /// `lock_timeout`, else the migrator's (`None`: [`DEFAULT_DDL_LOCK_TIMEOUT`]).
    pub lock_timeout: Option<std::time::Duration>,
    /// A non-atomic step an earlier run left part-way: how many statements it completed
    /// (the next one may have been interrupted). `None`: it never started.
    pub resume_at: Option<usize>,
    /// Type changes to check against the rows before the statements run.
    pub data_checks: Vec<super::data_checks::DataCheck>,
}

/// PostgreSQL: how long a migration's statement waits for a table lock unless the migration
/// or the migrator says otherwise.
pub const DEFAULT_DDL_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Step {
    /// Every statement the executor runs for this step, in order, except the history-row
    /// write (a bound INSERT or DELETE on `chakra_migrations`, just before `COMMIT`).
    pub fn script(&self, d: Dialect) -> Vec<String> {
        let hooks = d.migrate();
        let fk = hooks
            .foreign_key_pause()
            .filter(|_| self.plan.foreign_keys_off);
        let mut out = Vec::with_capacity(self.plan.statements.len() + 6);
        if let Some(set) = self.set_lock_timeout(d) {
            out.push(set);
        }
        if let Some(fk) = fk {
            out.push(fk.off.to_owned());
        }
        if self.atomic {
            out.push(begin_sql(d).to_owned());
            out.extend(self.plan.statements.iter().cloned());
        } else {
            for (sql, in_tx) in self.resumable(d) {
                if in_tx {
                    out.push(begin_sql(d).to_owned());
                    out.push(sql);
                    out.push("COMMIT".to_owned());
                } else {
                    out.push(sql);
                }
            }
        }
        if let Some(fk) = fk {
            out.push(fk.check.to_owned());
        }
        if self.atomic {
            out.push("COMMIT".to_owned());
        }
        if let Some(fk) = fk {
            out.push(fk.on.to_owned());
        }
        out
    }
}

impl Step {
    /// A non-atomic step's statements still to run, each with whether it runs in a
    /// transaction of its own with its progress record (SQLite: always; PostgreSQL: unless it
    /// cannot, as `CREATE INDEX CONCURRENTLY`). After an interrupted run, the statement that
    /// may have been cut off is, when it cannot run in a transaction, in its idempotent form
    /// (`IF NOT EXISTS` / `IF EXISTS`) when it has one.
    pub fn resumable(&self, d: Dialect) -> Vec<(String, bool)> {
        let start = self.resume_at.unwrap_or(0);
        self.plan
            .statements
            .iter()
            .enumerate()
            .skip(start)
            .map(|(i, sql)| {
                let in_tx = runs_in_transaction(d, sql);
                let sql = match (in_tx, self.resume_at == Some(i)) {
                    (false, true) if d.migrate().idempotent_ddl_forms() => {
                        idempotent_form(sql).unwrap_or_else(|| sql.clone())
                    }
                    _ => sql.clone(),
                };
                (sql, in_tx)
            })
            .collect()
    }

    /// The statement bounding how long the step's DDL waits for a table lock (PostgreSQL:
    /// `SET lock_timeout = <ms>`), run before the step; `None` where DDL has no such setting.
    pub fn set_lock_timeout(&self, d: Dialect) -> Option<String> {
        let t = self.lock_timeout.unwrap_or(DEFAULT_DDL_LOCK_TIMEOUT);
        d.migrate()
            .ddl_lock_timeout_sql(t.as_millis().clamp(1, i32::MAX as u128))
    }
}

/// Can this statement run inside a transaction? Always on SQLite; on PostgreSQL not the
/// commands that refuse to (`… CONCURRENTLY`, `VACUUM`, `CREATE`/`DROP DATABASE`,
/// `ALTER SYSTEM`): [`crate::dialect::MigrateHooks::runs_in_transaction`].
pub fn runs_in_transaction(d: Dialect, sql: &str) -> bool {
    d.migrate().runs_in_transaction(sql)
}

/// The form of a statement that does nothing when it already ran: `CREATE [UNIQUE] INDEX
/// [CONCURRENTLY] IF NOT EXISTS …`, `DROP INDEX [CONCURRENTLY] IF EXISTS …`. `None` when it
/// has none (or already is that form).
pub fn idempotent_form(sql: &str) -> Option<String> {
    // The first words with where they end.
    let mut words: Vec<(String, usize)> = Vec::new();
    let mut pos = 0;
    for w in sql.split_whitespace().take(5) {
        let at = sql[pos..].find(w).map(|i| i + pos)?;
        pos = at + w.len();
        words.push((w.to_ascii_uppercase(), pos));
    }
    let upper: Vec<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
    let (after, guard) = match upper.as_slice() {
        ["CREATE", "INDEX", "CONCURRENTLY", next, ..] if *next != "IF" => (2, "IF NOT EXISTS"),
        ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", next, ..] if *next != "IF" => {
            (3, "IF NOT EXISTS")
        }
        ["CREATE", "INDEX", next, ..] if *next != "IF" && *next != "CONCURRENTLY" => {
            (1, "IF NOT EXISTS")
        }
        ["CREATE", "UNIQUE", "INDEX", next, ..] if *next != "IF" && *next != "CONCURRENTLY" => {
            (2, "IF NOT EXISTS")
        }
        ["DROP", "INDEX", "CONCURRENTLY", next, ..] if *next != "IF" => (2, "IF EXISTS"),
        ["DROP", "INDEX", next, ..] if *next != "IF" && *next != "CONCURRENTLY" => (1, "IF EXISTS"),
        _ => return None,
    };
    let cut = words[after].1;
    Some(format!("{} {guard}{}", &sql[..cut], &sql[cut..]))
}

/// The index a `CREATE … INDEX [CONCURRENTLY] [IF NOT EXISTS] <name>` statement names, as
/// written (quoted or not).
pub fn created_index_name(sql: &str) -> Option<&str> {
    let mut it = sql.split_whitespace();
    let mut prev_index = false;
    for w in it.by_ref() {
        let u = w.to_ascii_uppercase();
        if prev_index && !["CONCURRENTLY", "IF", "NOT", "EXISTS"].contains(&u.as_str()) {
            return Some(w);
        }
        if u == "INDEX" {
            prev_index = true;
        }
    }
    None
}

/// `BEGIN` on PostgreSQL, `BEGIN IMMEDIATE` (the write lock) on SQLite.
pub fn begin_sql(d: Dialect) -> &'static str {
    d.migrate().begin()
}

/// What `rollback` undoes. Either way the migrations are undone in the reverse of the order
/// they were applied in (the history's `seq`), and a rollback that would leave an applied
/// migration without one of its dependencies is refused, naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    /// The last N applied migrations.
    Steps(usize),
    /// The applied migrations of this migration's app that come after it (`app/id` or `id`),
    /// which stays applied; `app/zero` undoes every migration of the app.
    To(String),
}

/// Where one migration stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Applied, file unchanged.
    Applied(chrono::DateTime<chrono::Utc>),
    /// Not applied yet.
    Pending,
    /// Applied, but the file was edited since (checksums differ).
    Changed(chrono::DateTime<chrono::Utc>),
    /// Recorded as applied, but no file has it.
    Missing(chrono::DateTime<chrono::Utc>),
    /// A non-atomic migration an earlier run left part-way: `done` of its `total`
    /// statements ran; the next `apply` resumes after them.
    PartlyApplied {
        /// Statements that ran.
        done: usize,
        /// Its statements.
        total: usize,
    },
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEntry {
    /// `(app, id)`.
    pub key: Dependency,
    /// The file, when there is one.
    pub path: Option<PathBuf>,
    /// Where it stands.
    pub status: Status,
}

/// Every migration on disk (in order), then applied ones that are missing.
pub fn status(graph: &Graph, history: &[HistoryRow]) -> Vec<StatusEntry> {
    let mut out: Vec<StatusEntry> = graph
        .ordered
        .iter()
        .map(|m| {
            let key = m.migration.key();
            let status = match history.iter().find(|h| h.app == key.app && h.id == key.id) {
                None => Status::Pending,
                Some(h) if h.checksum == m.checksum => Status::Applied(h.applied_at),
                Some(h) => Status::Changed(h.applied_at),
            };
            StatusEntry {
                key,
                path: Some(m.path.clone()),
                status,
            }
        })
        .collect();
    for h in history {
        if !graph
            .ordered
            .iter()
            .any(|m| m.migration.app == h.app && m.migration.id == h.id)
        {
            out.push(StatusEntry {
                key: Dependency {
                    app: h.app.clone(),
                    id: h.id.clone(),
                },
                path: None,
                status: Status::Missing(h.applied_at),
            });
        }
    }
    out
}

/// Checks the history against the files: every applied migration exists, unchanged.
pub fn verify(graph: &Graph, history: &[HistoryRow]) -> MResult<()> {
    for e in status(graph, history) {
        match e.status {
            Status::Missing(_) => {
                return Err(MigrationError::new(format!(
                    "migration {}/{} is recorded as applied but no file has it (expected \
                     <dir>/{}/{}.toml); restore the file, the schema depends on it (or pass \
                     --ignore-missing)",
                    e.key.app, e.key.id, e.key.app, e.key.id
                )))
            }
            Status::Changed(_) => {
                let file = e.path.map(|p| p.display().to_string()).unwrap_or_default();
                return Err(MigrationError::at(
                    file,
                    None,
                    "this migration was edited after it was applied (its checksum differs from \
                     the one recorded); undo the edit and write a new migration instead",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn applied_set(history: &[HistoryRow]) -> BTreeSet<Dependency> {
    history
        .iter()
        .map(|h| Dependency {
            app: h.app.clone(),
            id: h.id.clone(),
        })
        .collect()
}

fn replay_keys(graph: &Graph, keys: &BTreeSet<Dependency>) -> MResult<State> {
    State::replay(
        graph
            .ordered
            .iter()
            .filter(|m| keys.contains(&m.migration.key()))
            .map(|m| &m.migration),
    )
}

/// A step of `m`; atomic when the migration is and the dialect's DDL is transactional
/// (MySQL's is not: each statement is recorded as it completes instead).
fn step(m: &LoadedMigration, direction: Direction, plan: Plan, d: Dialect) -> Step {
    Step {
        key: m.migration.key(),
        path: m.path.clone(),
        checksum: m.checksum.clone(),
        direction,
        atomic: m.migration.atomic && d.migrate().transactional_ddl(),
        plan,
        lock_timeout: m.migration.lock_timeout,
        resume_at: None,
        data_checks: Vec::new(),
    }
}

fn with_file(m: &LoadedMigration, e: MigrationError) -> MigrationError {
    e.in_file(&m.path.display().to_string())
}

/// The migrations `apply [--to target]` runs, with their statements.
pub fn plan_apply(
    graph: &Graph,
    history: &[HistoryRow],
    to: Option<&str>,
    d: Dialect,
) -> MResult<Vec<Step>> {
    verify(graph, history)?;
    let applied = applied_set(history);
    let wanted = to
        .map(|t| graph.find(t).map(|k| graph.ancestors(&k)))
        .transpose()?;
    let mut state = replay_keys(graph, &applied)?;
    let mut steps = Vec::new();
    for m in &graph.ordered {
        let k = m.migration.key();
        if applied.contains(&k) || wanted.as_ref().is_some_and(|w| !w.contains(&k)) {
            continue;
        }
        let checks = super::data_checks::checks(&m.migration, &state, d);
        let plan = migration_forward(&m.migration, &mut state, d).map_err(|e| with_file(m, e))?;
        let mut s = step(m, Direction::Apply, plan, d);
        s.data_checks = checks;
        steps.push(s);
    }
    Ok(steps)
}

/// The migrations `rollback` undoes, last applied first, with their statements.
pub fn plan_rollback(
    graph: &Graph,
    history: &[HistoryRow],
    target: &RollbackTarget,
    d: Dialect,
) -> MResult<Vec<Step>> {
    verify(graph, history)?;
    let mut remaining = applied_set(history);
    let mut recorded: Vec<&HistoryRow> = history.iter().collect();
    recorded.sort_by_key(|h| h.seq);
    let find = |app: &str, id: &str| {
        graph
            .ordered
            .iter()
            .find(|m| m.migration.app == app && m.migration.id == id)
    };
    // Applied migrations, last applied first.
    let applied_desc: Vec<&LoadedMigration> = recorded
        .iter()
        .rev()
        .filter_map(|h| find(&h.app, &h.id))
        .collect();
    let chosen: Vec<&LoadedMigration> = match target {
        RollbackTarget::Steps(n) => applied_desc.into_iter().take(*n).collect(),
        RollbackTarget::To(t) => {
            let later: BTreeSet<Dependency> = match t.strip_suffix("/zero") {
                Some(app) if !graph.ordered.iter().any(|m| m.migration.key().id == "zero") => {
                    if !graph.ordered.iter().any(|m| m.migration.app == app) {
                        return Err(MigrationError::new(format!("no app {app:?}")));
                    }
                    graph
                        .ordered
                        .iter()
                        .filter(|m| m.migration.app == app)
                        .map(|m| m.migration.key())
                        .collect()
                }
                _ => {
                    let k = graph.find(t)?;
                    if !remaining.contains(&k) {
                        return Err(MigrationError::new(format!(
                            "{}/{} is not applied; roll back to an applied migration",
                            k.app, k.id
                        )));
                    }
                    graph
                        .descendants(&k)
                        .into_iter()
                        .filter(|x| x.app == k.app)
                        .collect()
                }
            };
            applied_desc
                .into_iter()
                .filter(|m| later.contains(&m.migration.key()))
                .collect()
        }
    };
    let chosen = dependants_first(chosen);
    refuse_orphans(graph, &remaining, &chosen)?;
    let mut steps = Vec::new();
    for m in chosen {
        let with = replay_keys(graph, &remaining)?;
        remaining.remove(&m.migration.key());
        let before = replay_keys(graph, &remaining)?;
        let plan = migration_backward(&m.migration, &before, d).map_err(|e| with_file(m, e))?;
        let mut s = step(m, Direction::Rollback, plan, d);
        s.data_checks = super::data_checks::rollback_checks(&m.migration, &with, &before, d);
        steps.push(s);
    }
    Ok(steps)
}

/// Keeps the last-applied-first order, except that a migration is never undone before one
/// that depends on it (history rows recorded before `seq` existed are ordered by time, which
/// ties can blur).
fn dependants_first(mut left: Vec<&LoadedMigration>) -> Vec<&LoadedMigration> {
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let free = left
            .iter()
            .position(|m| {
                let k = m.migration.key();
                !left.iter().any(|o| o.migration.dependencies.contains(&k))
            })
            .unwrap_or(0);
        out.push(left.remove(free));
    }
    out
}

/// Refuses a rollback that would leave an applied migration whose dependency is undone.
fn refuse_orphans(
    graph: &Graph,
    applied: &BTreeSet<Dependency>,
    chosen: &[&LoadedMigration],
) -> MResult<()> {
    let undone: BTreeSet<Dependency> = chosen.iter().map(|m| m.migration.key()).collect();
    let mut orphans = Vec::new();
    for m in &graph.ordered {
        let k = m.migration.key();
        if !applied.contains(&k) || undone.contains(&k) {
            continue;
        }
        for dep in m
            .migration
            .dependencies
            .iter()
            .filter(|x| undone.contains(x))
        {
            orphans.push(format!(
                "{}/{} (applied) depends on {}/{}",
                k.app, k.id, dep.app, dep.id
            ));
        }
    }
    if orphans.is_empty() {
        return Ok(());
    }
    Err(MigrationError::new(format!(
        "refusing to roll back: {}; roll those dependants back first (or choose a target that \
         includes them)",
        orphans.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn idempotent_forms_and_transactions() {
        assert_eq!(
            idempotent_form("CREATE INDEX CONCURRENTLY na1 ON users (username)").as_deref(),
            Some("CREATE INDEX CONCURRENTLY IF NOT EXISTS na1 ON users (username)")
        );
        assert_eq!(
            idempotent_form("create unique index  \"u\" ON t (a)").as_deref(),
            Some("create unique index IF NOT EXISTS  \"u\" ON t (a)")
        );
        assert_eq!(
            idempotent_form("DROP INDEX CONCURRENTLY na1").as_deref(),
            Some("DROP INDEX CONCURRENTLY IF EXISTS na1")
        );
        assert_eq!(
            idempotent_form("CREATE INDEX IF NOT EXISTS x ON t (a)"),
            None
        );
        assert_eq!(idempotent_form("ALTER TABLE t ADD COLUMN a INT"), None);
        assert_eq!(
            created_index_name("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"na\" ON t (a)"),
            Some("\"na\"")
        );
        assert!(!runs_in_transaction(
            Dialect::Postgres,
            "CREATE INDEX CONCURRENTLY x ON t (a)"
        ));
        assert!(runs_in_transaction(
            Dialect::Postgres,
            "CREATE INDEX x ON t (a)"
        ));
        assert!(runs_in_transaction(
            Dialect::Sqlite,
            "CREATE INDEX CONCURRENTLY x ON t (a)"
        ));
    }

    const SEED: &str = include_str!("../../../migrations/users/0001_initial.toml");
    const NEXT: &str = "[migration]\nid = \"0002_bio\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\
        [[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"bio\"\ntype = \"Text\"\nnullable = true\n";

    fn graph() -> Graph {
        let a = LoadedMigration::from_text(SEED, Path::new("m/users/0001_initial.toml")).unwrap();
        let b = LoadedMigration::from_text(NEXT, Path::new("m/users/0002_bio.toml")).unwrap();
        Graph::new(vec![b, a]).unwrap()
    }

    fn row(g: &Graph, i: usize) -> HistoryRow {
        let m = &g.ordered[i];
        HistoryRow {
            app: m.migration.app.clone(),
            id: m.migration.id.clone(),
            checksum: m.checksum.clone(),
            applied_at: chrono::Utc::now(),
            seq: i as i64 + 1,
        }
    }

    #[test]
    fn apply_plans_what_is_pending_up_to_a_target() {
        let g = graph();
        let all = plan_apply(&g, &[], None, Dialect::Sqlite).unwrap();
        assert_eq!(all.len(), 2);
        let first = plan_apply(&g, &[], Some("0001_initial"), Dialect::Sqlite).unwrap();
        assert_eq!(first.len(), 1);
        let rest = plan_apply(&g, &[row(&g, 0)], None, Dialect::Postgres).unwrap();
        assert_eq!(rest[0].key.id, "0002_bio");
        assert_eq!(
            rest[0].script(Dialect::Postgres),
            [
                "SET lock_timeout = 5000",
                "BEGIN",
                "ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT",
                "COMMIT"
            ]
        );
    }

    #[test]
    fn rollback_plans_last_first() {
        let g = graph();
        let h = [row(&g, 0), row(&g, 1)];
        let one = plan_rollback(&g, &h, &RollbackTarget::Steps(1), Dialect::Sqlite).unwrap();
        assert_eq!(one[0].key.id, "0002_bio");
        assert!(
            one[0].plan.foreign_keys_off,
            "dropping a column rebuilds on SQLite"
        );
        let to = plan_rollback(
            &g,
            &h,
            &RollbackTarget::To("0001_initial".into()),
            Dialect::Postgres,
        )
        .unwrap();
        assert_eq!(to.len(), 1);
        let all = plan_rollback(&g, &h, &RollbackTarget::Steps(9), Dialect::Postgres).unwrap();
        let ids: Vec<&str> = all.iter().map(|s| s.key.id.as_str()).collect();
        assert_eq!(ids, ["0002_bio", "0001_initial"]);
    }

    #[test]
    fn status_and_verify_report_changes_and_missing_files() {
        let g = graph();
        let mut changed = row(&g, 0);
        changed.checksum = "0".repeat(64);
        let mut gone = row(&g, 0);
        gone.id = "0000_gone".into();
        let s = status(&g, &[changed.clone(), gone.clone()]);
        assert!(matches!(s[0].status, Status::Changed(_)));
        assert!(matches!(s[1].status, Status::Pending));
        assert!(matches!(s[2].status, Status::Missing(_)));
        assert!(verify(&g, &[changed])
            .unwrap_err()
            .to_string()
            .starts_with("m/users/0001_initial.toml: this migration was edited"));
        assert!(verify(&g, &[gone])
            .unwrap_err()
            .message
            .contains("users/0000_gone is recorded as applied"));
    }
}
