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
