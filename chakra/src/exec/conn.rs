//! [`Conn`]: one pooled connection of any backend, and the dialect-free part of running a
//! compiled statement on it (tracing, the statement listener, error mapping). What differs
//! per backend is the variant's own type in its room ([`PgConn`], [`SqliteConn`]); each
//! method dispatches to it with a `match`, one copy per backend, no trait objects per call.

use super::errors::{from_diesel, from_run, RunError};
use crate::dialect::sqlite::row_by_row;
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::typed::ReadRow;
use chakra_dsl::{Result, Value};
use std::time::Instant;

pub use crate::dialect::mysql::conn::MysqlConn;
pub use crate::dialect::mysql::pool::MysqlManager;
pub use crate::dialect::postgres::conn::{PgConn, PgSide};
pub use crate::dialect::sqlite::conn::{SqliteConn, SqliteManager};
pub use crate::dialect::sqlite::row_by_row::{RowByRow, RowidKey};

/// One row of values, in the statement's output-column order.
pub type Row = Vec<Value>;

/// A connection checked out of a [`crate::Pool`].
// The PostgreSQL variant is large (the connection lives inline in the pool object); a `Conn`
// is moved once per checkout, so boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    /// PostgreSQL ([`PgConn`]).
    Postgres(PgConn),
    /// SQLite: statements run inline on the polling thread ([`SqliteConn`]).
    Sqlite(deadpool::managed::Object<SqliteManager>),
    /// MySQL or MariaDB ([`MysqlConn`]).
    Mysql(deadpool::managed::Object<MysqlManager>),
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

/// Rows read, traced; or their error, traced.
fn traced_rows(
    r: std::result::Result<Vec<Row>, RunError>,
    q: &CompiledQuery,
    started: Instant,
) -> Result<Vec<Row>> {
    let rows = r.map_err(|e| failed_run(e, q, started))?;
    trace(q, rows.len(), started);
    Ok(rows)
}

/// A failed statement's error, traced (see [`failed`]).
fn failed_run(e: RunError, q: &CompiledQuery, started: Instant) -> chakra_dsl::Error {
    failed(from_run(e, || q.sql()), q, started)
}

impl Conn {
    /// The tables its pool's database was seen to hold ([`super::KnownTables`]).
    pub fn known_tables(&self) -> &super::KnownTables {
        match self {
            Conn::Postgres(c) => c.known_tables(),
            Conn::Sqlite(c) => c.known_tables(),
            Conn::Mysql(c) => c.known_tables(),
        }
    }

    /// The dialect of this connection.
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Postgres(..) => Dialect::Postgres,
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Mysql(_) => Dialect::Mysql,
        }
    }

    /// The MySQL/MariaDB server's flavour and version (as detected at connect, or forced by
    /// [`super::PoolOptions::mysql_flavour`]); `None` on the other backends.
    pub fn mysql_server(&self) -> Option<crate::dialect::mysql::server::ServerInfo> {
        match self {
            Conn::Mysql(c) => Some(c.server()),
            _ => None,
        }
    }

    /// The statement that begins a transaction at `isolation` on this backend.
    pub fn begin_sql(&self, isolation: super::Isolation) -> &'static str {
        match self {
            Conn::Postgres(..) => crate::dialect::postgres::transaction::begin_sql(isolation),
            Conn::Sqlite(_) => crate::dialect::sqlite::transaction::begin_sql(isolation),
            Conn::Mysql(_) => crate::dialect::mysql::transaction::begin_sql(isolation),
        }
    }

    /// True when several statements sent at once save round trips
    /// ([`Conn::execute_pipelined`]; [`super::ExecCaps::pipelines`]).
    pub fn pipelines(&self) -> bool {
        super::caps(self.dialect()).pipelines
    }

    /// True when a statement dropped mid-flight leaves the connection unusable (a cancel
    /// request was sent for it), so it must be closed rather than pooled
    /// ([`super::ExecCaps::cancels_mid_statement`]).
    pub fn closes_when_abandoned(&self) -> bool {
        super::caps(self.dialect()).cancels_mid_statement
    }

    /// Runs a statement that returns rows, decoding them with the statement's plan.
    pub async fn fetch(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        let started = Instant::now();
        let rows = match self {
            Conn::Postgres(c) => c.load(q).await,
            Conn::Sqlite(c) => SqliteConn::load(c, q).await,
            Conn::Mysql(c) => c.load(q).await,
        }
        .map_err(|e| failed_run(e, q, started))?;
        trace(q, rows.len(), started);
        Ok(rows)
    }

    /// Runs a statement that returns rows, each read into an `M` by its generated row
    /// reader ([`ReadRow`]). On PostgreSQL the cells are read straight into the fields
    /// ([`crate::dialect::postgres::typed_row`]); SQLite and MySQL decode the rows as
    /// [`Conn::fetch`] does and read each struct from its values.
    pub async fn fetch_models<M: ReadRow>(&mut self, q: &CompiledQuery) -> Result<Vec<M>> {
        let started = Instant::now();
        let rows = match self {
            Conn::Postgres(c) => c.load_models::<M>(q).await,
            Conn::Sqlite(_) | Conn::Mysql(_) => {
                let rows = self.fetch(q).await?;
                return rows.into_iter().map(M::from_values).collect();
            }
        }
        .map_err(|e| failed_run(e, q, started))?;
        trace(q, rows.len(), started);
        Ok(rows)
    }

    /// Runs a statement that returns rows and hands them to `each` in chunks of `chunk` rows
    /// as they are decoded, while later rows are still arriving; returns the rows after the
    /// last full chunk. On PostgreSQL and MySQL the rows are read as a stream; on SQLite
    /// (where the statement runs inline anyway) every row comes back in the return value.
    pub async fn fetch_chunked(
        &mut self,
        q: &CompiledQuery,
        chunk: usize,
        each: &mut (dyn FnMut(Vec<Row>) + Send),
    ) -> Result<Vec<Row>> {
        let started = Instant::now();
        let mut handed = 0;
        let rest = match self {
            Conn::Postgres(c) => c.load_chunked(q, chunk.max(1), each, &mut handed).await,
            Conn::Mysql(c) => c.load_chunked(q, chunk.max(1), each, &mut handed).await,
            Conn::Sqlite(_) => return self.fetch(q).await,
        }
        .map_err(|e| failed_run(e, q, started))?;
        trace(q, handed + rest.len(), started);
        Ok(rest)
    }

    /// Runs a statement and returns the number of affected rows.
    pub async fn execute(&mut self, q: &CompiledQuery) -> Result<u64> {
        let started = Instant::now();
        let n = match self {
            Conn::Postgres(c) => c.execute(q).await.map_err(RunError::Db),
            Conn::Sqlite(c) => SqliteConn::execute(c, q).await,
            Conn::Mysql(c) => c.execute(q).await,
        }
        .map_err(|e| failed_run(e, q, started))?;
        trace(q, n, started);
        Ok(n as u64)
    }

    /// Runs statements in order and returns each one's affected-row count, in order.
    ///
    /// On PostgreSQL they are pipelined ([`PgConn::execute_pipelined`]): `n` statements
    /// cost one round trip instead of `n`. The first failure, in statement order, is
    /// returned; statements after a failure fail too (PostgreSQL aborts the transaction), so
    /// run several only inside a transaction. On SQLite, where a statement is a call on this
    /// thread, they simply run one after another and stop at the first failure.
    pub async fn execute_pipelined(&mut self, qs: &[CompiledQuery]) -> Result<Vec<u64>> {
        if qs.len() == 1 {
            return Ok(vec![self.execute(&qs[0]).await?]);
        }
        let started = Instant::now();
        match self {
            Conn::Postgres(c) => {
                let results = c.execute_pipelined(qs).await;
                let mut out = Vec::with_capacity(qs.len());
                for (q, r) in qs.iter().zip(results) {
                    let n = r.map_err(|e| failed(from_diesel(e, || q.sql()), q, started))?;
                    trace(q, n, started);
                    out.push(n as u64);
                }
                Ok(out)
            }
            Conn::Sqlite(_) | Conn::Mysql(_) => {
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
            Conn::Sqlite(c) => row_by_row::run(c, each, want_rows)
                .await
                .map_err(|(q, e)| failed_run(e, q, started))?,
            _ => {
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
            Conn::Postgres(c) => c.load_named(q).await,
            Conn::Sqlite(c) => c
                .load_as::<super::row::NamedRow>(q)
                .await
                .map_err(RunError::Db),
            Conn::Mysql(c) => c.load_named(q).await,
        }
        .map_err(|e| failed_run(e, q, started))?;
        trace(q, raw.len(), started);
        Ok(super::row::NamedRows::from_rows(raw))
    }

    /// Runs raw SQL text without binds (DDL, transaction control).
    pub async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let started = Instant::now();
        match self {
            Conn::Postgres(c) => c.batch_execute(sql).await.map_err(RunError::Db),
            Conn::Sqlite(c) => SqliteConn::batch_execute(c, sql)
                .await
                .map_err(RunError::Db),
            Conn::Mysql(c) => c.batch_execute(sql).await,
        }
        .map_err(|e| failed_sql(from_run(e, || sql.to_owned()), sql, &[], started))?;
        let elapsed_us = started.elapsed().as_micros() as u64;
        tracing::debug!(target: "chakra::sql", sql, binds = 0, rows = 0usize,
            elapsed_us, "statement");
        if super::log::enabled() {
            super::log::record(sql.to_owned(), &[], 0, elapsed_us);
        }
        Ok(())
    }

    /// Runs `first` (SQL text without binds: a `COMMIT`), then `next`, and returns both
    /// outcomes; `next` runs whatever `first`'s. On PostgreSQL the two are pipelined
    /// ([`PgConn::batch_then_load`]): one round trip, and the server starts `next` only once
    /// `first` has finished. Elsewhere they run one after the other.
    pub async fn batch_then_fetch(
        &mut self,
        first: &str,
        next: &CompiledQuery,
    ) -> (Result<()>, Result<Vec<Row>>) {
        let Conn::Postgres(c) = self else {
            let a = self.batch_execute(first).await;
            return (a, self.fetch(next).await);
        };
        let started = Instant::now();
        let (a, b) = c.batch_then_load(first, next).await;
        let a = match a {
            Ok(()) => {
                let elapsed_us = started.elapsed().as_micros() as u64;
                tracing::debug!(target: "chakra::sql", sql = first, binds = 0, rows = 0usize,
                    elapsed_us, "statement");
                if super::log::enabled() {
                    super::log::record(first.to_owned(), &[], 0, elapsed_us);
                }
                Ok(())
            }
            Err(e) => Err(failed_sql(
                from_run(RunError::Db(e), || first.to_owned()),
                first,
                &[],
                started,
            )),
        };
        (a, traced_rows(b, next, started))
    }

    /// [`Conn::batch_then_fetch`] with a statement that returns a row count first.
    pub async fn execute_then_fetch(
        &mut self,
        first: &CompiledQuery,
        next: &CompiledQuery,
    ) -> (Result<u64>, Result<Vec<Row>>) {
        let Conn::Postgres(c) = self else {
            let a = self.execute(first).await;
            return (a, self.fetch(next).await);
        };
        let started = Instant::now();
        let (a, b) = c.execute_then_load(first, next).await;
        let a = a
            .map_err(|e| failed_run(RunError::Db(e), first, started))
            .map(|n| {
                trace(first, n, started);
                n as u64
            });
        (a, traced_rows(b, next, started))
    }

    /// [`Conn::batch_then_fetch`] with a statement that returns rows first.
    pub async fn fetch_then_fetch(
        &mut self,
        first: &CompiledQuery,
        next: &CompiledQuery,
    ) -> (Result<Vec<Row>>, Result<Vec<Row>>) {
        let Conn::Postgres(c) = self else {
            let a = self.fetch(first).await;
            return (a, self.fetch(next).await);
        };
        let started = Instant::now();
        let (a, b) = c.load_then_load(first, next).await;
        (
            traced_rows(a, first, started),
            traced_rows(b, next, started),
        )
    }

    /// [`Conn::batch_then_fetch`] with a statement whose rows keep their columns' names
    /// first (raw SQL).
    pub async fn fetch_named_then_fetch(
        &mut self,
        first: &CompiledQuery,
        next: &CompiledQuery,
    ) -> (Result<super::row::NamedRows>, Result<Vec<Row>>) {
        let Conn::Postgres(c) = self else {
            let a = self.fetch_named(first).await;
            return (a, self.fetch(next).await);
        };
        let started = Instant::now();
        let (a, b) = c.load_named_then_load(first, next).await;
        let a = a.map_err(|e| failed_run(e, first, started)).map(|raw| {
            trace(first, raw.len(), started);
            super::row::NamedRows::from_rows(raw)
        });
        (a, traced_rows(b, next, started))
    }

    /// Removes the connection from its pool and closes it. Used when its state is unknown
    /// (a transaction that was neither committed nor rolled back): closing makes the
    /// database roll back, and nobody else ever sees the half-done transaction.
    ///
    /// When a cancel request for the connection's last statement is on its way, the
    /// connection is closed once it has been acted on.
    pub fn discard(self) {
        match self {
            Conn::Postgres(c) => c.discard(),
            Conn::Sqlite(c) => drop(deadpool::managed::Object::take(c)),
            Conn::Mysql(c) => drop(deadpool::managed::Object::take(c)),
        }
    }
}
