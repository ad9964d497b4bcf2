//! The `chakra_migrations` history table and the migration lock, on one connection.
//!
//! History: `(app, id, checksum, applied_at, seq)`, primary key `(app, id)`; `seq` numbers
//! the migrations in the order they were applied (rollback undoes the highest first). A
//! history table written before `seq` existed gets the column under the lock, numbered by
//! `applied_at` ([`upgrade_history`]). What differs per dialect (the catalog queries, the
//! timestamp type) comes from [`Dialect::migrate`]. The lock
//! ([`crate::dialect::migrate::lock`]): on PostgreSQL a session advisory lock
//! (`dialect/postgres/migrate_lock.rs`); on SQLite each migration runs in a `BEGIN
//! IMMEDIATE` transaction, which is the database's write lock, and re-reads the history
//! inside it.

use crate::exec::Conn;
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::{Error, Result, Value, ValueType};

/// The history table's name.
pub const HISTORY_TABLE: &str = "chakra_migrations";

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
    let hooks = d.sql();
    let binds = binds.into_iter().map(|v| hooks.to_storage(v)).collect();
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
    let at = d.migrate().history_timestamp_type();
    let k = d.migrate().history_key_type();
    let suffix = d.sql().create_table_suffix();
    format!(
        "CREATE TABLE IF NOT EXISTS \"{HISTORY_TABLE}\" (\"app\" {k} NOT NULL, \"id\" {k} NOT NULL, \
         \"checksum\" {k} NOT NULL, \"applied_at\" {at} NOT NULL, \"seq\" BIGINT, PRIMARY KEY (\"app\", \"id\")){suffix}"
    )
}

/// Does the history table have its `seq` column (tables written by older versions do not)?
pub async fn has_seq(conn: &mut Conn) -> Result<bool> {
    let d = conn.dialect();
    let sql = d.migrate().column_count_sql(HISTORY_TABLE, "seq");
    let rows = conn
        .fetch(&raw(d, &[&sql], vec![], vec![ValueType::I64]))
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
    let sql = d.migrate().table_exists_sql(HISTORY_TABLE);
    let rows = conn
        .fetch(&raw(d, &[&sql], vec![], vec![ValueType::Bool]))
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
        "\"seq\"".to_owned()
    } else {
        format!("CAST(NULL AS {})", d.migrate().integer_cast())
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
            &format!(", {})", d.migrate().next_seq_sql()),
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

/// The table recording how far a non-atomic migration got, so a failed one resumes after its
/// last successful statement instead of repeating them.
pub const PROGRESS_TABLE: &str = "chakra_migration_progress";

/// `CREATE TABLE IF NOT EXISTS chakra_migration_progress …`.
pub fn create_progress_sql(d: Dialect) -> String {
    let k = d.migrate().history_key_type();
    let suffix = d.sql().create_table_suffix();
    format!(
        "CREATE TABLE IF NOT EXISTS \"{PROGRESS_TABLE}\" (\"app\" {k} NOT NULL, \"id\" {k} NOT NULL, \
         \"checksum\" {k} NOT NULL, \"done\" BIGINT NOT NULL, PRIMARY KEY (\"app\", \"id\")){suffix}"
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
    let exists = d.migrate().table_exists_sql(PROGRESS_TABLE);
    let rows = conn
        .fetch(&raw(d, &[&exists], vec![], vec![ValueType::Bool]))
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
            d.migrate().progress_upsert_tail(),
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
