//! [`Conn`]: one pooled connection of either backend, and the monomorphised code that runs
//! a compiled statement on it (one copy per backend, no trait objects per call).

use super::coerce::coerce_row;
use super::errors::from_diesel;
use super::query::DynQuery;
use super::row::DynRow;
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::{Result, Value};
use diesel::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use std::time::Instant;

/// The async SQLite connection type (diesel's `SqliteConnection` on blocking threads).
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// One row of values, in the statement's output-column order.
pub type Row = Vec<Value>;

/// A connection checked out of a [`crate::Pool`].
// The PostgreSQL variant is large (the connection lives inline in the pool object); a `Conn`
// is moved once per checkout, so boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    /// PostgreSQL.
    Postgres(Object<AsyncPgConnection>),
    /// SQLite.
    Sqlite(Object<SqliteConn>),
}

fn trace(q: &CompiledQuery, rows: usize, started: Instant) {
    let elapsed_us = started.elapsed().as_micros() as u64;
    tracing::debug!(
        target: "chakra::sql",
        sql = %q.sql(),
        binds = q.binds.len(),
        rows,
        elapsed_us,
        "statement"
    );
    if super::log::enabled() {
        super::log::record(q.sql(), &q.binds, rows, elapsed_us);
    }
}

impl Conn {
    /// The dialect of this connection.
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Postgres(_) => Dialect::Postgres,
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs a statement that returns rows, decoding them with the statement's plan.
    pub async fn fetch(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        let started = Instant::now();
        let raw: Vec<DynRow> = match self {
            Conn::Postgres(c) => DynQuery(q).load(&mut **c).await,
            Conn::Sqlite(c) => DynQuery(q).load(&mut **c).await,
        }
        .map_err(|e| from_diesel(e, || q.sql()))?;
        trace(q, raw.len(), started);
        raw.into_iter()
            .map(|r| coerce_row(r.0, &q.output))
            .collect()
    }

    /// Runs a statement and returns the number of affected rows.
    pub async fn execute(&mut self, q: &CompiledQuery) -> Result<u64> {
        let started = Instant::now();
        let n = match self {
            Conn::Postgres(c) => DynQuery(q).execute(&mut **c).await,
            Conn::Sqlite(c) => DynQuery(q).execute(&mut **c).await,
        }
        .map_err(|e| from_diesel(e, || q.sql()))?;
        trace(q, n, started);
        Ok(n as u64)
    }

    /// Runs raw SQL text without binds (DDL, transaction control).
    pub async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let started = Instant::now();
        match self {
            Conn::Postgres(c) => c.batch_execute(sql).await,
            Conn::Sqlite(c) => c.batch_execute(sql).await,
        }
        .map_err(|e| from_diesel(e, || sql.to_owned()))?;
        let elapsed_us = started.elapsed().as_micros() as u64;
        tracing::debug!(target: "chakra::sql", sql, binds = 0, rows = 0usize,
            elapsed_us, "statement");
        if super::log::enabled() {
            super::log::record(sql.to_owned(), &[], 0, elapsed_us);
        }
        Ok(())
    }

    /// Removes the connection from its pool and closes it. Used when its state is unknown
    /// (a transaction that was neither committed nor rolled back): closing makes the
    /// database roll back, and nobody else ever sees the half-done transaction.
    pub fn discard(self) {
        match self {
            Conn::Postgres(c) => drop(Object::take(c)),
            Conn::Sqlite(c) => drop(Object::take(c)),
        }
    }
}
