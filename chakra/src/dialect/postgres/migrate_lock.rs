//! PostgreSQL's migration lock: a session advisory lock, polled with `pg_try_advisory_lock`
//! until a timeout, reporting who holds it; the migrator must reach the server directly (a
//! transaction pooler hands statements to any server connection, checked after taking it).

use crate::exec::Conn;
use crate::migrate::history::raw;
use crate::sql::Dialect;
use chakra_dsl::{Error, Result, Value, ValueType};
use std::time::{Duration, Instant};

/// The advisory-lock key Chakra's migrator takes on PostgreSQL (`"chakra"` in ASCII, below
/// 2^32 so `pg_locks.objid` shows it whole).
pub const LOCK_KEY: i64 = 0x6368_616b;

/// Takes the migration lock, polling until `timeout`; `notify` hears once that the lock is
/// busy and who holds it.
pub async fn lock(
    conn: &mut Conn,
    timeout: Duration,
    notify: &(dyn Fn(&str) + Send + Sync),
) -> Result<()> {
    refuse_standby(conn).await?;
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

/// Migrations never run on a standby (a read replica): `pg_is_in_recovery()` true is
/// [`Error::ReadOnlyDatabase`], before anything is locked or read.
async fn refuse_standby(conn: &mut Conn) -> Result<()> {
    let q = raw(
        Dialect::Postgres,
        &["SELECT pg_is_in_recovery()"],
        vec![],
        vec![ValueType::Bool],
    );
    let rows = conn.fetch(&q).await?;
    if let Some([Value::Bool(true)]) = rows.first().map(|r| r.as_slice()) {
        return Err(Error::ReadOnlyDatabase {
            database: "the migration target".into(),
            reason: "it is a standby (pg_is_in_recovery() is true): migrations run on the \
                     primary; point --database-url (or the database's url) at it, never at a \
                     replica"
                .into(),
        });
    }
    Ok(())
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

/// Releases the migration lock.
pub async fn unlock(conn: &mut Conn) -> Result<()> {
    let q = raw(
        Dialect::Postgres,
        &[&format!("SELECT pg_advisory_unlock({LOCK_KEY})")],
        vec![],
        vec![ValueType::Bool],
    );
    conn.fetch(&q).await.map(drop)
}

/// `(table, "pid (application, state: query)")` for every other session holding a granted
/// lock on one of `tables` (in the current schema).
pub async fn table_lock_holders(
    conn: &mut Conn,
    tables: &[String],
) -> Result<Vec<(String, String)>> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let head = "SELECT DISTINCT c.relname::text, a.pid::text || ' (' || \
        coalesce(nullif(a.application_name, ''), 'no name') || ', ' || coalesce(a.state, '?') || \
        ': ' || left(coalesce(a.query, ''), 80) || ')' \
        FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
        JOIN pg_stat_activity a ON a.pid = l.pid \
        WHERE l.granted AND l.pid <> pg_backend_pid() \
        AND c.relnamespace = current_schema()::regnamespace AND c.relname IN (";
    let mut parts = vec![head.to_owned()];
    for _ in 1..tables.len() {
        parts.push(", ".to_owned());
    }
    parts.push(") ORDER BY 1, 2".to_owned());
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let q = raw(
        Dialect::Postgres,
        &parts,
        tables.iter().map(|t| Value::Text(t.clone())).collect(),
        vec![ValueType::Text, ValueType::Text],
    );
    Ok(conn
        .fetch(&q)
        .await?
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_owned(),
                r[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}
