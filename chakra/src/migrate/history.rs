//! The `chakra_migrations` history table and the migration lock, on one connection.
//!
//! History: `(app, id, checksum, applied_at, seq)`, primary key `(app, id)`; `seq` numbers
//! the migrations in the order they were applied (rollback undoes the highest first). A
//! history table written before `seq` existed gets the column under the lock, numbered by
//! `applied_at` ([`upgrade_history`]). The lock: on
//! PostgreSQL a session advisory lock, polled with `pg_try_advisory_lock` until a timeout,
//! reporting who holds it (so the migrator must reach the server directly, not through a
//! transaction pooler); on SQLite each migration runs in a `BEGIN IMMEDIATE` transaction,
//! which is the database's write lock, and re-reads the history inside it.

use crate::exec::Conn;
use crate::sql::sqlite_values::to_storage;
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::{Error, Result, Value, ValueType};
use std::time::{Duration, Instant};

/// The history table's name.
pub const HISTORY_TABLE: &str = "chakra_migrations";

/// The advisory-lock key Chakra's migrator takes on PostgreSQL (`"chakra"` in ASCII, below
/// 2^32 so `pg_locks.objid` shows it whole).
pub const LOCK_KEY: i64 = 0x6368_616b;

/// One applied migration, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// App.
    pub app: String,
    /// Migration id.
    pub id: String,
    /// Checksum recorded when it was applied.
    pub checksum: String,
    /// When it was applied (UTC).
    pub applied_at: chrono::DateTime<chrono::Utc>,
    /// Its place in the order of application (1 for the first applied; rows recorded before
    /// the history had this column are numbered by `applied_at`).
    pub seq: i64,
}

/// A statement with binds, compiled by hand (`parts` around the binds).
pub fn raw(d: Dialect, parts: &[&str], binds: Vec<Value>, output: Vec<ValueType>) -> CompiledQuery {
    let binds = match d {
        Dialect::Sqlite => binds.into_iter().map(to_storage).collect(),
        Dialect::Postgres => binds,
    };
    CompiledQuery {
        dialect: d,
        parts: parts.iter().map(|s| (*s).to_owned()).collect(),
        binds,
        cacheable: false,
        output: output.into(),
    }
}

/// `CREATE TABLE IF NOT EXISTS chakra_migrations …`.
pub fn create_history_sql(d: Dialect) -> String {
    let at = match d {
        Dialect::Postgres => "TIMESTAMPTZ",
        Dialect::Sqlite => "TEXT",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS \"{HISTORY_TABLE}\" (\"app\" TEXT NOT NULL, \"id\" TEXT NOT NULL, \
         \"checksum\" TEXT NOT NULL, \"applied_at\" {at} NOT NULL, \"seq\" BIGINT, PRIMARY KEY (\"app\", \"id\"))"
    )
}

/// Does the history table have its `seq` column (tables written by older versions do not)?
pub async fn has_seq(conn: &mut Conn) -> Result<bool> {
    let d = conn.dialect();
    let sql = match d {
        Dialect::Postgres => {
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = 'chakra_migrations' AND column_name = 'seq'"
        }
        Dialect::Sqlite => {
            "SELECT count(*) FROM pragma_table_info('chakra_migrations') WHERE name = 'seq'"
        }
    };
    let rows = conn
        .fetch(&raw(d, &[sql], vec![], vec![ValueType::I64]))
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0)
        > 0)
}

/// Does the history table need [`upgrade_history`] (no `seq` column, or rows without one)?
/// Read-only.
pub async fn needs_upgrade(conn: &mut Conn) -> Result<bool> {
    if !has_seq(conn).await? {
        return Ok(true);
    }
    let d = conn.dialect();
    let q = raw(
        d,
        &["SELECT count(*) FROM \"chakra_migrations\" WHERE \"seq\" IS NULL"],
        vec![],
        vec![ValueType::I64],
    );
    let rows = conn.fetch(&q).await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0)
        > 0)
}

/// Brings a history table written by an older version up to date: adds `seq` and numbers
/// the rows without one after those with one, by `applied_at` (then app and id). Run it in a
/// transaction the caller began (`BEGIN IMMEDIATE` on SQLite, so concurrent migrators do it
/// once) and commits, holding the migration lock; it changes nothing on an up-to-date table.
pub async fn upgrade_history(conn: &mut Conn) -> Result<()> {
    let d = conn.dialect();
    if !has_seq(conn).await? {
        conn.batch_execute("ALTER TABLE \"chakra_migrations\" ADD COLUMN \"seq\" BIGINT")
            .await?;
    }
    let q = raw(
        d,
        &["SELECT \"app\", \"id\", (SELECT coalesce(max(\"seq\"), 0) FROM \"chakra_migrations\") \
           FROM \"chakra_migrations\" WHERE \"seq\" IS NULL ORDER BY \"applied_at\", \"app\", \"id\""],
        vec![],
        vec![ValueType::Text, ValueType::Text, ValueType::I64],
    );
    let rows = conn.fetch(&q).await?;
    for (i, r) in rows.iter().enumerate() {
        let base = r[2].as_i64().unwrap_or(0);
        let q = raw(
            d,
            &[
                "UPDATE \"chakra_migrations\" SET \"seq\" = ",
                " WHERE \"app\" = ",
                " AND \"id\" = ",
                "",
            ],
            vec![Value::I64(base + i as i64 + 1), r[0].clone(), r[1].clone()],
            vec![],
        );
        conn.execute(&q).await?;
    }
    Ok(())
}

/// Does the history table exist? (Read-only commands do not create it.)
pub async fn history_exists(conn: &mut Conn) -> Result<bool> {
    let d = conn.dialect();
    let sql = match d {
        Dialect::Postgres => "SELECT to_regclass('chakra_migrations') IS NOT NULL",
        Dialect::Sqlite => {
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'chakra_migrations'"
        }
    };
    let rows = conn
        .fetch(&raw(d, &[sql], vec![], vec![ValueType::Bool]))
        .await?;
    Ok(matches!(
        rows.first().and_then(|r| r.first()),
        Some(Value::Bool(true))
    ))
}

/// Reads the history (empty when the table does not exist yet).
pub async fn read_history(conn: &mut Conn) -> Result<Vec<HistoryRow>> {
    if !history_exists(conn).await? {
        return Ok(Vec::new());
    }
    let d = conn.dialect();
    // Rows without a seq (a table not yet upgraded, or rows an older version wrote) come
    // after those with one, by time.
    let seq = if has_seq(conn).await? {
        "\"seq\""
    } else {
        "CAST(NULL AS BIGINT)"
    };
    let sql = format!(
        "SELECT \"app\", \"id\", \"checksum\", \"applied_at\", {seq} FROM \"chakra_migrations\" \
         ORDER BY ({seq} IS NULL), {seq}, \"applied_at\", \"app\", \"id\""
    );
    let q = raw(
        d,
        &[&sql],
        vec![],
        vec![
            ValueType::Text,
            ValueType::Text,
            ValueType::Text,
            ValueType::DateTime,
            ValueType::I64,
        ],
    );
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut last = 0;
    conn.fetch(&q)
        .await?
        .into_iter()
        .map(|r| match &r[3] {
            Value::DateTime(at) => Ok(HistoryRow {
                app: text(&r[0]),
                id: text(&r[1]),
                checksum: text(&r[2]),
                applied_at: *at,
                seq: {
                    last = r[4].as_i64().unwrap_or(last + 1).max(last + 1);
                    last
                },
            }),
            other => Err(Error::Decode {
                column: "applied_at".into(),
                reason: format!("expected a timestamp, found {other}"),
            }),
        })
        .collect()
}

/// Records an applied migration, numbered after every other (`seq`).
pub async fn insert_history(conn: &mut Conn, app: &str, id: &str, checksum: &str) -> Result<()> {
    let d = conn.dialect();
    let q = raw(
        d,
        &[
            "INSERT INTO \"chakra_migrations\" (\"app\", \"id\", \"checksum\", \"applied_at\", \"seq\") VALUES (",
            ", ",
            ", ",
            ", ",
            ", (SELECT coalesce(max(\"seq\"), 0) + 1 FROM \"chakra_migrations\"))",
        ],
        vec![
            Value::Text(app.into()),
            Value::Text(id.into()),
            Value::Text(checksum.into()),
            Value::DateTime(chrono::Utc::now()),
        ],
        vec![],
    );
    conn.execute(&q).await.map(drop)
}

/// Forgets a rolled-back migration.
pub async fn delete_history(conn: &mut Conn, app: &str, id: &str) -> Result<()> {
    let d = conn.dialect();
    let q = raw(
        d,
        &[
            "DELETE FROM \"chakra_migrations\" WHERE \"app\" = ",
            " AND \"id\" = ",
            "",
        ],
        vec![Value::Text(app.into()), Value::Text(id.into())],
        vec![],
    );
    conn.execute(&q).await.map(drop)
}

/// Takes the PostgreSQL migration lock, polling until `timeout`; `notify` hears once that
/// the lock is busy and who holds it. No-op on SQLite.
pub async fn lock(
    conn: &mut Conn,
    timeout: Duration,
    notify: &(dyn Fn(&str) + Send + Sync),
) -> Result<()> {
    if conn.dialect() != Dialect::Postgres {
        return Ok(());
    }
    let started = Instant::now();
    let mut told = false;
    loop {
        let q = raw(
            Dialect::Postgres,
            &[&format!(
                "SELECT pg_try_advisory_lock({LOCK_KEY}), pg_backend_pid()"
            )],
            vec![],
            vec![ValueType::Bool, ValueType::I32],
        );
        let rows = conn.fetch(&q).await?;
        if let Some([Value::Bool(true), pid]) = rows.first().map(|r| r.as_slice()) {
            return same_session(conn, pid).await;
        }
        let holder = lock_holder(conn)
            .await
            .unwrap_or_else(|_| "another session".into());
        if started.elapsed() >= timeout {
            return Err(Error::Migration(format!(
                "could not take the migration lock within {}: it is held by {holder}",
                seconds(timeout)
            )));
        }
        if !told {
            notify(&format!(
                "waiting for the migration lock, held by {holder} (up to {})",
                seconds(timeout)
            ));
            told = true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The lock belongs to the server session that took it: check that the next statement runs
/// in that same session. Behind a transaction pooler (PgBouncer in transaction mode) each
/// statement may run on another server connection, and the lock would protect nothing.
async fn same_session(conn: &mut Conn, locked_by: &Value) -> Result<()> {
    let q = raw(
        Dialect::Postgres,
        &["SELECT pg_backend_pid()"],
        vec![],
        vec![ValueType::I32],
    );
    let rows = conn.fetch(&q).await?;
    match rows.first().and_then(|r| r.first()) {
        Some(now) if now == locked_by => Ok(()),
        other => Err(Error::Migration(format!(
            "the migration lock was taken by server session {locked_by} but the next statement \
             ran in session {}: the connection goes through a transaction pooler (such as \
             PgBouncer in transaction mode), which hands statements to any server connection. \
             Migrations need a session of their own: point --database-url at PostgreSQL \
             directly, not at the pooler",
            other.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
        ))),
    }
}

fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Describes the session holding the lock (`pid 123 (psql) from 10.0.0.5, since …`).
async fn lock_holder(conn: &mut Conn) -> Result<String> {
    let sql = format!(
        "SELECT a.pid::text || ' (' || coalesce(nullif(a.application_name, ''), 'no name') || ') from ' \
         || coalesce(host(a.client_addr), 'a local socket') || ', since ' || to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = {LOCK_KEY} LIMIT 1"
    );
    let rows = conn
        .fetch(&raw(
            Dialect::Postgres,
            &[&sql],
            vec![],
            vec![ValueType::Text],
        ))
        .await?;
    Ok(
        match rows.first().and_then(|r| r.first()).and_then(Value::as_str) {
            Some(s) => format!("session pid {s}"),
            None => "another session".into(),
        },
    )
}

/// Releases the PostgreSQL migration lock. No-op on SQLite.
pub async fn unlock(conn: &mut Conn) -> Result<()> {
    if conn.dialect() != Dialect::Postgres {
        return Ok(());
    }
    let q = raw(
        Dialect::Postgres,
        &[&format!("SELECT pg_advisory_unlock({LOCK_KEY})")],
        vec![],
        vec![ValueType::Bool],
    );
    conn.fetch(&q).await.map(drop)
}

/// The table recording how far a non-atomic migration got, so a failed one resumes after its
/// last successful statement instead of repeating them.
pub const PROGRESS_TABLE: &str = "chakra_migration_progress";

/// `CREATE TABLE IF NOT EXISTS chakra_migration_progress …`.
pub fn create_progress_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS \"{PROGRESS_TABLE}\" (\"app\" TEXT NOT NULL, \"id\" TEXT NOT NULL, \
         \"checksum\" TEXT NOT NULL, \"done\" BIGINT NOT NULL, PRIMARY KEY (\"app\", \"id\"))"
    )
}

/// How many statements of a non-atomic migration already ran, and with which checksum.
pub async fn read_progress(conn: &mut Conn, app: &str, id: &str) -> Result<Option<(String, u64)>> {
    let d = conn.dialect();
    let q = raw(
        d,
        &[
            "SELECT \"checksum\", \"done\" FROM \"chakra_migration_progress\" WHERE \"app\" = ",
            " AND \"id\" = ",
            "",
        ],
        vec![Value::Text(app.into()), Value::Text(id.into())],
        vec![ValueType::Text, ValueType::I64],
    );
    let rows = conn.fetch(&q).await?;
    Ok(rows.first().map(|r| {
        (
            r[0].as_str().unwrap_or_default().to_owned(),
            r[1].as_i64().unwrap_or(0).max(0) as u64,
        )
    }))
}

/// Every progress record: `(app, id, checksum, done)` (empty when the table does not exist).
pub async fn read_all_progress(conn: &mut Conn) -> Result<Vec<(String, String, String, u64)>> {
    let d = conn.dialect();
    let exists = match d {
        Dialect::Postgres => "SELECT to_regclass('chakra_migration_progress') IS NOT NULL",
        Dialect::Sqlite => {
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'chakra_migration_progress'"
        }
    };
    let rows = conn
        .fetch(&raw(d, &[exists], vec![], vec![ValueType::Bool]))
        .await?;
    if !matches!(
        rows.first().and_then(|r| r.first()),
        Some(Value::Bool(true))
    ) {
        return Ok(Vec::new());
    }
    let q = raw(
        d,
        &["SELECT \"app\", \"id\", \"checksum\", \"done\" FROM \"chakra_migration_progress\""],
        vec![],
        vec![
            ValueType::Text,
            ValueType::Text,
            ValueType::Text,
            ValueType::I64,
        ],
    );
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(conn
        .fetch(&q)
        .await?
        .into_iter()
        .map(|r| {
            (
                text(&r[0]),
                text(&r[1]),
                text(&r[2]),
                r[3].as_i64().unwrap_or(0).max(0) as u64,
            )
        })
        .collect())
}

/// Records that `done` statements of a non-atomic migration ran.
pub async fn write_progress(
    conn: &mut Conn,
    app: &str,
    id: &str,
    checksum: &str,
    done: u64,
) -> Result<()> {
    let d = conn.dialect();
    let q = raw(
        d,
        &[
            "INSERT INTO \"chakra_migration_progress\" (\"app\", \"id\", \"checksum\", \"done\") VALUES (",
            ", ",
            ", ",
            ", ",
            ") ON CONFLICT (\"app\", \"id\") DO UPDATE SET \"checksum\" = excluded.\"checksum\", \"done\" = excluded.\"done\"",
        ],
        vec![
            Value::Text(app.into()),
            Value::Text(id.into()),
            Value::Text(checksum.into()),
            Value::I64(done as i64),
        ],
        vec![],
    );
    conn.execute(&q).await.map(drop)
}

/// Forgets the progress of a migration (it finished).
pub async fn clear_progress(conn: &mut Conn, app: &str, id: &str) -> Result<()> {
    let d = conn.dialect();
    let q = raw(
        d,
        &[
            "DELETE FROM \"chakra_migration_progress\" WHERE \"app\" = ",
            " AND \"id\" = ",
            "",
        ],
        vec![Value::Text(app.into()), Value::Text(id.into())],
        vec![],
    );
    conn.execute(&q).await.map(drop)
}
