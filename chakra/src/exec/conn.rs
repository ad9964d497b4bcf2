//! [`Conn`]: one pooled connection of either backend, and the monomorphised code that runs
//! a compiled statement on it (one copy per backend, no trait objects per call).

use super::cancel::CancelTarget;
use super::coerce::coerce_row;
use super::errors::from_diesel;
use super::query::DynQuery;
use super::row::DynRow;
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::{Result, Value};
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use std::sync::Arc;
use std::time::Instant;

pub use super::sqlite_conn::{SqliteConn, SqliteManager};

/// One row of values, in the statement's output-column order.
pub type Row = Vec<Value>;

/// A connection checked out of a [`crate::Pool`].
// The PostgreSQL variant is large (the connection lives inline in the pool object); a `Conn`
// is moved once per checkout, so boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    /// PostgreSQL.
    Postgres(Object<AsyncPgConnection>, PgSide),
    /// SQLite: statements run inline on the polling thread ([`SqliteConn`]).
    Sqlite(deadpool::managed::Object<SqliteManager>),
}

/// Sends PostgreSQL a cancel request for the statement running on a connection when dropped
/// before [`CancelOnDrop::disarm`]: a statement future dropped mid-flight (a timeout, a
/// cancelled task) stops on the server instead of running to completion. The cancel goes
/// over a new connection, as PostgreSQL's protocol wants; the dropped statement's own
/// connection is closed by its owner (never reused: a late cancel could otherwise hit the
/// next statement on it).
struct CancelOnDrop(Option<(tokio_postgres::CancelToken, PgSide)>);

/// What a PostgreSQL [`Conn`] knows besides its connection.
#[derive(Debug, Clone, Default)]
pub struct PgSide {
    /// Where cancel requests go (the pool's host and port).
    pub(crate) cancel: Option<Arc<CancelTarget>>,
    /// The cancel request sent for a statement abandoned mid-flight, while it is on its way:
    /// [`Conn::discard`] closes the connection only after it has been acted on (behind
    /// PgBouncer a cancel for a client that has gone is dropped).
    pending: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl PgSide {
    /// A side whose cancel requests go to `cancel`.
    pub fn new(cancel: Option<Arc<CancelTarget>>) -> PgSide {
        PgSide {
            cancel,
            pending: Arc::default(),
        }
    }

    fn guard(&self, c: &AsyncPgConnection) -> CancelOnDrop {
        CancelOnDrop(Some((c.cancel_token(), self.clone())))
    }
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some((token, side)) = self.0.take() else {
            return;
        };
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            tracing::debug!(target: "chakra::sql", "statement dropped while running: sending a cancel request");
            let target = side.cancel.clone();
            let task = h.spawn(async move {
                super::cancel::send_cancel(token, target.as_deref()).await;
            });
            *side.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        }
    }
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
            Conn::Postgres(..) => Dialect::Postgres,
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs a statement that returns rows, decoding them with the statement's plan.
    pub async fn fetch(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        let started = Instant::now();
        let raw: Vec<DynRow> = match self {
            Conn::Postgres(c, side) => {
                let guard = side.guard(c);
                let r = DynQuery(q).load(&mut **c).await;
                guard.disarm();
                r
            }
            Conn::Sqlite(c) => SqliteConn::load(c, q).await,
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
            Conn::Postgres(c, side) => {
                let guard = side.guard(c);
                let r = DynQuery(q).execute(&mut **c).await;
                guard.disarm();
                r
            }
            Conn::Sqlite(c) => SqliteConn::execute(c, q).await,
        }
        .map_err(|e| from_diesel(e, || q.sql()))?;
        trace(q, n, started);
        Ok(n as u64)
    }

    /// Runs a statement that returns rows, keeping the columns' names (raw SQL, matched to
    /// fields by name); cells keep their runtime types.
    pub async fn fetch_named(&mut self, q: &CompiledQuery) -> Result<super::row::NamedRows> {
        let started = Instant::now();
        let raw: Vec<super::row::NamedRow> = match self {
            Conn::Postgres(c, side) => {
                let guard = side.guard(c);
                let r = DynQuery(q).load(&mut **c).await;
                guard.disarm();
                r
            }
            Conn::Sqlite(c) => c.load_as::<super::row::NamedRow>(q).await,
        }
        .map_err(|e| from_diesel(e, || q.sql()))?;
        trace(q, raw.len(), started);
        Ok(super::row::NamedRows::from_rows(raw))
    }

    /// Runs raw SQL text without binds (DDL, transaction control).
    pub async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let started = Instant::now();
        match self {
            Conn::Postgres(c, side) => {
                let guard = side.guard(c);
                let r = c.batch_execute(sql).await;
                guard.disarm();
                r
            }
            Conn::Sqlite(c) => SqliteConn::batch_execute(c, sql).await,
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
    ///
    /// When a cancel request for the connection's last statement is on its way, the
    /// connection is closed once it has been acted on.
    pub fn discard(self) {
        match self {
            Conn::Postgres(c, side) => {
                let conn = Object::take(c);
                let pending = side
                    .pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                match (pending, tokio::runtime::Handle::try_current()) {
                    (Some(cancel), Ok(h)) => {
                        h.spawn(async move {
                            let _ = cancel.await;
                            drop(conn);
                        });
                    }
                    _ => drop(conn),
                }
            }
            Conn::Sqlite(c) => drop(deadpool::managed::Object::take(c)),
        }
    }
}
