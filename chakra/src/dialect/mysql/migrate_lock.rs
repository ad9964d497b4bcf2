//! MySQL's migration lock: `GET_LOCK` on a name made from the database's (`chakra:` and the
//! MD5 of `DATABASE()`, so migrators of other databases on the server do not wait for each
//! other), polled until a timeout, reporting which connection holds it. A user lock belongs
//! to the server session that took it (released when it ends, so a killed migrator leaves
//! no lock behind): the migrator needs a session of its own, not a proxy that hands
//! statements to any server connection.

use crate::exec::Conn;
use crate::migrate::history::raw;
use crate::sql::Dialect;
use chakra_dsl::{Error, Result, Value, ValueType};
use std::time::{Duration, Instant};

/// The lock's name, as an SQL expression.
pub const LOCK_NAME: &str = "CONCAT('chakra:', MD5(DATABASE()))";

async fn one(conn: &mut Conn, sql: &str, ty: ValueType) -> Result<Value> {
    let rows = conn
        .fetch(&raw(Dialect::Mysql, &[sql], vec![], vec![ty]))
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .unwrap_or(Value::Null(ValueType::I64)))
}

/// Takes the migration lock, polling until `timeout`; `notify` hears once that the lock is
/// busy and which connection holds it.
pub async fn lock(
    conn: &mut Conn,
    timeout: Duration,
    notify: &(dyn Fn(&str) + Send + Sync),
) -> Result<()> {
    let started = Instant::now();
    let mut told = false;
    loop {
        let got = one(
            conn,
            &format!("SELECT GET_LOCK({LOCK_NAME}, 0)"),
            ValueType::I64,
        )
        .await?;
        if got.as_i64() == Some(1) {
            return Ok(());
        }
        let holder = match one(
            conn,
            &format!("SELECT IS_USED_LOCK({LOCK_NAME})"),
            ValueType::I64,
        )
        .await?
        .as_i64()
        {
            Some(id) => format!("connection {id}"),
            None => "another session".to_owned(),
        };
        if started.elapsed() >= timeout {
            return Err(Error::Migration(format!(
                "could not take the migration lock within {:.1}s: it is held by {holder}",
                timeout.as_secs_f64()
            )));
        }
        if !told {
            notify(&format!(
                "waiting for the migration lock, held by {holder} (up to {:.1}s)",
                timeout.as_secs_f64()
            ));
            told = true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Releases the migration lock.
pub async fn unlock(conn: &mut Conn) -> Result<()> {
    one(
        conn,
        &format!("SELECT RELEASE_LOCK({LOCK_NAME})"),
        ValueType::I64,
    )
    .await
    .map(drop)
}

/// `(table, "connection (user, state: query)")` for the other sessions that may hold a
/// metadata lock on one of `tables`: read from `performance_schema.metadata_locks` where the
/// server records them (MySQL 8 by default); else (MariaDB without the performance schema)
/// the sessions with an open InnoDB transaction, which hold the metadata locks of every table
/// they touched until they end, named against the step's first table as possible holders.
pub async fn table_lock_holders(
    conn: &mut Conn,
    tables: &[String],
) -> Result<Vec<(String, String)>> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let two = vec![ValueType::Text, ValueType::Text];
    let mut parts = vec![
        "SELECT DISTINCT ml.object_name, CONCAT(t.processlist_id, ' (', \
         coalesce(t.processlist_user, '?'), ', ', coalesce(t.processlist_state, '?'), ': ', \
         left(coalesce(t.processlist_info, ''), 80), ')') FROM performance_schema.metadata_locks \
         ml JOIN performance_schema.threads t ON t.thread_id = ml.owner_thread_id WHERE \
         ml.object_schema = DATABASE() AND ml.lock_status = 'GRANTED' AND t.processlist_id <> \
         CONNECTION_ID() AND ml.object_name IN ("
            .to_owned(),
    ];
    for _ in 1..tables.len() {
        parts.push(", ".to_owned());
    }
    parts.push(") ORDER BY 1, 2".to_owned());
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let q = raw(
        Dialect::Mysql,
        &parts,
        tables.iter().map(|t| Value::Text(t.clone())).collect(),
        two.clone(),
    );
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    if let Ok(rows) = conn.fetch(&q).await {
        if !rows.is_empty() {
            return Ok(rows.iter().map(|r| (text(&r[0]), text(&r[1]))).collect());
        }
    }
    let q = raw(
        Dialect::Mysql,
        &[
            "SELECT CAST(p.id AS CHAR), CONCAT(p.id, ' (', coalesce(p.user, '?'), ', open \
           transaction, ', coalesce(nullif(p.state, ''), 'idle'), ': ', \
           left(coalesce(p.info, ''), 80), ')') FROM information_schema.innodb_trx x JOIN \
           information_schema.processlist p ON p.id = x.trx_mysql_thread_id WHERE p.id <> \
           CONNECTION_ID() ORDER BY p.id",
        ],
        vec![],
        two,
    );
    Ok(conn
        .fetch(&q)
        .await?
        .iter()
        .map(|r| (tables[0].clone(), text(&r[1])))
        .collect())
}
