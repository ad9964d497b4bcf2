//! [`Conn`]: one pooled connection of either backend, and the monomorphised code that runs
//! a compiled statement on it (one copy per backend, no trait objects per call).

use super::coerce::coerce_row;
use super::errors::from_diesel;
use super::query::DynQuery;
use super::row::DynRow;
use crate::dialect::postgres::cancel::CancelTarget;
use crate::dialect::sqlite::run::{Each, Echo, RunError};
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::{Result, Value};
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use std::sync::Arc;
use std::time::Instant;

pub use crate::dialect::sqlite::conn::{SqliteConn, SqliteManager};

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
    /// The tables the pool's database was seen to hold.
    tables: super::KnownTables,
}

impl PgSide {
    /// A side whose cancel requests go to `cancel`, sharing its pool's `tables`.
    pub fn new(cancel: Option<Arc<CancelTarget>>, tables: super::KnownTables) -> PgSide {
        PgSide {
            cancel,
            tables,
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
                crate::dialect::postgres::cancel::send_cancel(token, target.as_deref()).await;
            });
            *side.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        }
    }
}

/// A multi-row INSERT run as its one-row statement once per row (on SQLite, where a
/// statement is a call into the library on this thread, one prepared statement stepped per
/// row costs less than compiling, binding and parsing one large statement, and its text
/// never depends on the row count). See [`crate::sql::compile_insert_row`].
#[derive(Debug)]
pub struct RowByRow<'a> {
    /// The statement for one row, with the insert's `RETURNING`.
    pub query: CompiledQuery,
    /// The rows, canonical values in column order.
    pub rows: &'a [Row],
    /// When `RETURNING` can be known without it: how, and the statement without it (run
    /// instead when the one returned column the rows do not send is the table's rowid).
    pub key: Option<RowidKey>,
}

/// A multi-row insert's `RETURNING` known without it (see [`RowByRow::key`]): every
/// returned column of the table is either a value the rows send or the one column they do
/// not, which must be the table's rowid. Exact for Chakra's inserts: every sent value has
/// its column's type (the type contract), so SQLite stores it as sent.
#[derive(Debug)]
pub struct RowidKey {
    /// The table.
    pub table: String,
    /// The returned column the rows do not send: it must be the table's rowid.
    pub column: String,
    /// Per returned column, where its value comes from, and its type.
    pub echo: Vec<(Echo, chakra_dsl::ValueType)>,
    /// The one-row statement without `RETURNING`.
    pub plain: CompiledQuery,
}

impl<'a> RowByRow<'a> {
    /// `stmt` as a [`RowByRow`] when it is a multi-row INSERT on SQLite that compiles to
    /// one statement per row.
    pub fn of(stmt: &'a chakra_dsl::Statement, dialect: Dialect) -> Result<Option<Self>> {
        let (chakra_dsl::Statement::Insert(ins), Dialect::Sqlite) = (stmt, dialect) else {
            return Ok(None);
        };
        let Some(query) = crate::sql::compile_insert_row(ins, dialect)? else {
            return Ok(None);
        };
        let key = match echo(ins) {
            Some((column, echo)) => crate::sql::compile_insert_row_returning(ins, &[], dialect)?
                .map(|plain| RowidKey {
                    table: ins.table.clone(),
                    column,
                    echo,
                    plain,
                }),
            None => None,
        };
        Ok(Some(RowByRow {
            query,
            rows: &ins.rows,
            key,
        }))
    }
}

/// Where each column of `ins`'s `RETURNING` comes from when the one column it does not
/// send is the table's rowid: that column's name, and the sources. `None` when a returned
/// column is not of the table, or not exactly one is left to the database.
fn echo(ins: &chakra_dsl::Insert) -> Option<(String, Vec<(Echo, chakra_dsl::ValueType)>)> {
    if ins.returning.is_empty() {
        return None;
    }
    let mut key = None;
    let mut out = Vec::with_capacity(ins.returning.len());
    for col in &ins.returning {
        if col.table.as_deref().is_some_and(|t| t != ins.table) {
            return None;
        }
        match ins.columns.iter().position(|c| *c == col.column) {
            Some(i) => out.push((Echo::Sent(i), col.ty.clone())),
            None => {
                if key.as_ref().is_some_and(|k| *k != col.column) {
                    return None;
                }
                key = Some(col.column.clone());
                out.push((Echo::Rowid, col.ty.clone()));
            }
        }
    }
    key.map(|k| (k, out))
}

/// A SQLite statement's failure as Chakra's error.
fn from_run(e: RunError, q: &CompiledQuery) -> chakra_dsl::Error {
    match e {
        RunError::Db(e) => from_diesel(e, || q.sql()),
        RunError::Decode(e) => e,
    }
}

/// Traces a statement that failed (the `chakra::sql` target and the statement listener, with
/// the error), and returns its error.
fn failed(e: chakra_dsl::Error, q: &CompiledQuery, started: Instant) -> chakra_dsl::Error {
    failed_sql(e, &q.sql(), &q.binds, started)
}

fn failed_sql(
    e: chakra_dsl::Error,
    sql: &str,
    binds: &[Value],
    started: Instant,
) -> chakra_dsl::Error {
    let elapsed_us = started.elapsed().as_micros() as u64;
    tracing::debug!(
        target: "chakra::sql",
        sql,
        binds = binds.len(),
        elapsed_us,
        error = %e,
        "statement failed"
    );
    if super::log::enabled() {
        super::log::record_failure(sql.to_owned(), binds, elapsed_us, e.to_string());
    }
    e
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
    /// The tables its pool's database was seen to hold ([`super::KnownTables`]).
    pub fn known_tables(&self) -> &super::KnownTables {
        match self {
            Conn::Postgres(_, side) => &side.tables,
            Conn::Sqlite(c) => c.known_tables(),
        }
    }

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
        let rows = match self {
            Conn::Postgres(c, side) => {
                let guard = side.guard(c);
                let r: diesel::QueryResult<Vec<DynRow>> = DynQuery(q).load(&mut **c).await;
                guard.disarm();
                let raw = r.map_err(|e| failed(from_diesel(e, || q.sql()), q, started))?;
                raw.into_iter()
                    .map(|r| coerce_row(r.0, &q.output))
                    .collect::<Result<Vec<Row>>>()?
            }
            Conn::Sqlite(c) => SqliteConn::load(c, q)
                .await
                .map_err(|e| failed(from_run(e, q), q, started))?,
        };
        trace(q, rows.len(), started);
        Ok(rows)
    }

    /// Runs a statement that returns rows and hands them to `each` in chunks of `chunk` rows
    /// as they are decoded, while later rows are still arriving; returns the rows after the
    /// last full chunk. On PostgreSQL the rows are read as a stream; on SQLite (where the
    /// statement runs inline anyway) every row comes back in the return value.
    pub async fn fetch_chunked(
        &mut self,
        q: &CompiledQuery,
        chunk: usize,
        each: &mut (dyn FnMut(Vec<Row>) + Send),
    ) -> Result<Vec<Row>> {
        let Conn::Postgres(c, side) = self else {
            return self.fetch(q).await;
        };
        let chunk = chunk.max(1);
        let started = Instant::now();
        let guard = side.guard(c);
        let mut handed = 0;
        let r: Result<Vec<Row>> = async {
            use futures_util::TryStreamExt;
            let mut rows = DynQuery(q)
                .load_stream::<DynRow>(&mut **c)
                .await
                .map_err(|e| failed(from_diesel(e, || q.sql()), q, started))?;
            let mut buf = Vec::with_capacity(chunk);
            while let Some(row) = rows
                .try_next()
                .await
                .map_err(|e| failed(from_diesel(e, || q.sql()), q, started))?
            {
                buf.push(coerce_row(row.0, &q.output)?);
                if buf.len() == chunk {
                    handed += chunk;
                    each(std::mem::replace(&mut buf, Vec::with_capacity(chunk)));
                }
            }
            Ok(buf)
        }
        .await;
        guard.disarm();
        let rest = r?;
        trace(q, handed + rest.len(), started);
        Ok(rest)
    }

    /// Runs a statement and returns the number of affected rows.
    pub async fn execute(&mut self, q: &CompiledQuery) -> Result<u64> {
        let started = Instant::now();
        let n = match self {
            Conn::Postgres(c, side) => {
                let guard = side.guard(c);
                let r = DynQuery(q).execute(&mut **c).await;
                guard.disarm();
                r.map_err(|e| failed(from_diesel(e, || q.sql()), q, started))?
            }
            Conn::Sqlite(c) => SqliteConn::execute(c, q)
                .await
                .map_err(|e| failed(from_run(e, q), q, started))?,
        };
        trace(q, n, started);
        Ok(n as u64)
    }

    /// Runs statements in order and returns each one's affected-row count, in order.
    ///
    /// On PostgreSQL they are pipelined: every statement is sent before the first answer is
    /// read (diesel-async sends a statement when its future is first polled, and the futures
    /// are polled in order; the server runs them one after another), so `n` statements cost
    /// one round trip instead of `n`. The first failure, in statement order, is returned;
    /// statements after a failure fail too (PostgreSQL aborts the transaction), so run
    /// several only inside a transaction. On SQLite, where a statement is a call on this
    /// thread, they simply run one after another and stop at the first failure.
    pub async fn execute_pipelined(&mut self, qs: &[CompiledQuery]) -> Result<Vec<u64>> {
        if qs.len() == 1 {
            return Ok(vec![self.execute(&qs[0]).await?]);
        }
        let started = Instant::now();
        match self {
            Conn::Postgres(c, side) => {
                let shared: &AsyncPgConnection = c;
                let guard = side.guard(shared);
                let futures = qs.iter().map(|q| {
                    let mut conn = shared;
                    DynQuery(q).execute(&mut conn)
                });
                let results = futures_util::future::join_all(futures).await;
                guard.disarm();
                let mut out = Vec::with_capacity(qs.len());
                for (q, r) in qs.iter().zip(results) {
                    let n = r.map_err(|e| failed(from_diesel(e, || q.sql()), q, started))?;
                    trace(q, n, started);
                    out.push(n as u64);
                }
                Ok(out)
            }
            Conn::Sqlite(_) => {
                let mut out = Vec::with_capacity(qs.len());
                for q in qs {
                    out.push(self.execute(q).await?);
                }
                Ok(out)
            }
        }
    }

    /// Runs a multi-row insert as its one-row statement once per row ([`RowByRow`]): the
    /// rows returned (when `want_rows`), in order, and the number of rows inserted. On
    /// SQLite one prepared statement is bound and stepped per row; when the returned columns
    /// are the values sent plus the table's `INTEGER PRIMARY KEY AUTOINCREMENT` key, the
    /// statement runs without `RETURNING` (SQLite builds a temporary table per execution to
    /// return rows) and each row is the rowid it was given with its values as stored
    /// ([`RowidKey`]); elsewhere each row runs as its own statement. Traced as one statement
    /// carrying every row's binds. Several rows belong in a transaction.
    pub async fn fetch_each(
        &mut self,
        each: &RowByRow<'_>,
        want_rows: bool,
    ) -> Result<(Vec<Row>, u64)> {
        let started = Instant::now();
        let rows = each.rows;
        let (q, out, n) = match self {
            Conn::Postgres(..) => {
                let q = &each.query;
                let mut out = Vec::new();
                let mut n = 0;
                for row in rows {
                    let one = CompiledQuery {
                        binds: row
                            .iter()
                            .map(|v| crate::sql::cache::storage_form(q.dialect, v.clone()))
                            .collect(),
                        ..q.clone()
                    };
                    if want_rows {
                        let r = self.fetch(&one).await?;
                        n += r.len() as u64;
                        out.extend(r);
                    } else {
                        n += self.execute(&one).await?;
                    }
                }
                return Ok((out, n));
            }
            Conn::Sqlite(c) => {
                let rowid = each
                    .key
                    .as_ref()
                    .filter(|k| want_rows && c.is_autoincrement_rowid(&k.table, &k.column));
                let (q, mode) = match (rowid, want_rows) {
                    (Some(k), _) => (&k.plain, Each::Echo(k.echo.clone())),
                    (None, true) => (&each.query, Each::Rows),
                    (None, false) => (&each.query, Each::Count),
                };
                let (out, n) = SqliteConn::load_each(c, q, rows, mode)
                    .await
                    .map_err(|e| failed(from_run(e, q), q, started))?;
                (q, out, n)
            }
        };
        let elapsed_us = started.elapsed().as_micros() as u64;
        let reported = if want_rows { out.len() } else { n };
        tracing::debug!(
            target: "chakra::sql",
            sql = %q.sql(),
            binds = rows.iter().map(Vec::len).sum::<usize>(),
            executions = rows.len(),
            rows = reported,
            elapsed_us,
            "statement"
        );
        if super::log::enabled() {
            let binds: Vec<Value> = rows
                .iter()
                .flatten()
                .map(|v| crate::sql::cache::storage_form(q.dialect, v.clone()))
                .collect();
            super::log::record(q.sql(), &binds, reported, elapsed_us);
        }
        Ok((out, n as u64))
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
        .map_err(|e| failed(from_diesel(e, || q.sql()), q, started))?;
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
        .map_err(|e| failed_sql(from_diesel(e, || sql.to_owned()), sql, &[], started))?;
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
