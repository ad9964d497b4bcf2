//! [`MysqlConn`]: a MySQL/MariaDB connection (the `mysql_async` driver) and how a compiled
//! statement runs on it (its pool's manager is in [`super::pool`]). Tracing and the
//! dialect-free error handling stay in [`crate::exec::Conn`].
//!
//! Why `mysql_async` directly and not diesel-async's `AsyncMysqlConnection`: diesel-async
//! (0.9) turns a server error into diesel's error with the message only, dropping the error
//! number Chakra recognises errors by; and its statement cache keeps every statement whose
//! text it may cache for the life of the connection (one-off statements it cannot cache
//! are closed on the next use).
//!
//! Prepared statements: the driver keeps the last [`STATEMENT_CACHE`] statements prepared
//! per connection (keyed by SQL text) and closes the least recently used one on the server
//! when a new one arrives, so one-off statements (an `IN` list of a new length, a multi-row
//! insert) never pile up towards the server's `max_prepared_stmt_count`
//! (`chakra/tests/mysql_backend.rs` runs 20,000 distinct ones on one connection).

use super::server::ServerInfo;
use super::{binds, errors, returning, row};
use crate::exec::coerce::coerce_row;
use crate::exec::errors::RunError;
use crate::exec::row::NamedRow;
use crate::exec::{KnownTables, Row};
use crate::sql::CompiledQuery;
use chakra_dsl::Result;
use mysql_async::prelude::Queryable;

/// How many prepared statements a connection keeps (least recently used closed first).
pub const STATEMENT_CACHE: usize = 256;

/// A MySQL/MariaDB connection with what it knows about its server.
pub struct MysqlConn {
    conn: mysql_async::Conn,
    server: ServerInfo,
    /// The driver reported a broken connection: it is dropped, not pooled again.
    broken: bool,
    tables: KnownTables,
    /// Each table's one-column primary key and whether it is `AUTO_INCREMENT`, once asked
    /// (inserts returning rows on MySQL).
    key_columns: std::collections::HashMap<String, Option<(String, bool)>>,
    /// `@@auto_increment_increment`, once asked.
    key_step: Option<u64>,
}

impl MysqlConn {
    /// A connection set up (the session) to `server`, sharing its pool's `tables`.
    pub(super) fn new(conn: mysql_async::Conn, server: ServerInfo, tables: KnownTables) -> Self {
        MysqlConn {
            conn,
            server,
            broken: false,
            tables,
            key_columns: Default::default(),
            key_step: None,
        }
    }

    /// False when the driver saw the connection break, or it no longer answers a ping
    /// (`ping` only after it sat idle: a round trip).
    pub(super) async fn usable(&mut self, ping: bool) -> bool {
        !self.broken && (!ping || self.conn.ping().await.is_ok())
    }

    /// The server's flavour and version.
    pub fn server(&self) -> ServerInfo {
        self.server
    }

    /// The tables its pool's database was seen to hold.
    pub fn known_tables(&self) -> &KnownTables {
        &self.tables
    }

    /// The `AUTO_INCREMENT` value the last insert generated (its first row's), if any.
    pub fn last_insert_id(&self) -> Option<u64> {
        self.conn.last_insert_id()
    }

    fn failed(&mut self, e: mysql_async::Error, sql: &str) -> RunError {
        if errors::breaks_connection(&e) {
            self.broken = true;
        }
        RunError::Mapped(errors::to_error(e, sql))
    }

    /// A statement's failure, with what the message does not say read from the catalog: the
    /// first column of the unique key a duplicate hit (the statement failed alone; the
    /// connection and its transaction are still usable).
    async fn failed_statement(&mut self, e: mysql_async::Error, sql: &str) -> RunError {
        let mut r = self.failed(e, sql);
        if let RunError::Mapped(chakra_dsl::Error::UniqueViolation(v)) = &mut r {
            if let (Some(table), Some(key)) = (v.table.clone(), v.constraint.clone()) {
                let q = "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE \
                         TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ? \
                         ORDER BY SEQ_IN_INDEX LIMIT 1";
                if let Ok(Some(col)) = self.conn.exec_first::<String, _, _>(q, (table, key)).await {
                    v.column = Some(col);
                }
            }
        }
        r
    }

    /// Runs a statement that returns rows, decoding them with the statement's plan. On a
    /// server without `RETURNING`, an insert returning rows runs alone and its rows are read
    /// back by key ([`super::returning`]).
    pub async fn load(&mut self, q: &CompiledQuery) -> std::result::Result<Vec<Row>, RunError> {
        if !self.server.returning() && q.parts.last().is_some_and(|p| p.contains(" RETURNING \"")) {
            if let Some(ir) = returning::parse(&q.parts).map_err(RunError::Decode)? {
                return self.insert_then_read(q, &ir).await;
            }
            if q.parts.first().is_some_and(|p| p.starts_with("DELETE ")) {
                return Err(RunError::Decode(super::sql::not_yet(
                    "a delete returning rows on MySQL (no RETURNING; MariaDB has it)",
                )));
            }
        }
        self.load_plain(q).await
    }

    /// The rows of a statement run as it is (no `RETURNING` emulation), each decoded as it
    /// arrives.
    async fn load_plain(&mut self, q: &CompiledQuery) -> std::result::Result<Vec<Row>, RunError> {
        let mut handed = 0;
        self.stream(q, usize::MAX, &mut |_| {}, &mut handed).await
    }

    /// The table's one-column primary key and whether it is `AUTO_INCREMENT`, asked of the
    /// catalog once per connection (`None`: no key, or a key of several columns).
    async fn key_column(
        &mut self,
        table: &str,
    ) -> std::result::Result<Option<(String, bool)>, RunError> {
        if let Some(c) = self.key_columns.get(table) {
            return Ok(c.clone());
        }
        let sql = "SELECT COLUMN_NAME, EXTRA LIKE '%auto_increment%' FROM \
                   information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
                   AND COLUMN_KEY = 'PRI'";
        let found: Vec<(String, i64)> = match self.conn.exec(sql, (table,)).await {
            Ok(v) => v,
            Err(e) => return Err(self.failed(e, sql)),
        };
        let key = match found.as_slice() {
            [(name, auto)] => Some((name.clone(), *auto != 0)),
            _ => None,
        };
        self.key_columns.insert(table.to_owned(), key.clone());
        Ok(key)
    }

    /// `@@auto_increment_increment`, asked once per connection.
    async fn key_step(&mut self) -> std::result::Result<u64, RunError> {
        if let Some(s) = self.key_step {
            return Ok(s);
        }
        let sql = "SELECT @@auto_increment_increment";
        let step: Option<u64> = match self.conn.query_first(sql).await {
            Ok(v) => v,
            Err(e) => return Err(self.failed(e, sql)),
        };
        let step = step.unwrap_or(1).max(1);
        self.key_step = Some(step);
        Ok(step)
    }

    /// An insert returning rows, on a server without `RETURNING`: the insert alone, then
    /// its rows read back by key, in the order they were inserted.
    async fn insert_then_read(
        &mut self,
        q: &CompiledQuery,
        ir: &returning::InsertReturning,
    ) -> std::result::Result<Vec<Row>, RunError> {
        let Some((key, auto)) = self.key_column(&ir.table).await? else {
            return Err(RunError::Decode(super::sql::not_yet(&format!(
                "an insert into {:?} returning rows on MySQL (no RETURNING, and the table has \
                 no one-column primary key to read its rows back by)",
                ir.table
            ))));
        };
        chakra_dsl::ident::validate(&key).map_err(RunError::Decode)?;
        if !auto && !ir.columns.contains(&key) {
            return Err(RunError::Decode(super::sql::not_yet(&format!(
                "an insert into {:?} returning rows on MySQL without its key {key:?} (no \
                 RETURNING, and the key is not AUTO_INCREMENT)",
                ir.table
            ))));
        }
        let mut parts = q.parts.to_vec();
        if let Some(last) = parts.last_mut() {
            *last = ir.insert_tail.clone();
        }
        let insert = CompiledQuery {
            parts: parts.into(),
            output: Vec::new().into(),
            cacheable: false,
            ..q.clone()
        };
        let inserted = self.execute(&insert).await?;
        // Read before the next statement replaces it.
        let first = self.last_insert_id();
        let step = self.key_step().await?;
        let keys =
            returning::keys(ir, &key, &q.binds, inserted, first, step).map_err(RunError::Decode)?;
        let text = returning::read_back_sql(ir, &key, keys.len());
        let pieces: Vec<String> = text.split('?').map(str::to_owned).collect();
        let read = CompiledQuery {
            parts: pieces.into(),
            binds: keys.clone(),
            cacheable: false,
            ..q.clone()
        };
        let mut rows = self.load_plain(&read).await?;
        returning::check_count(ir, rows.len(), inserted).map_err(RunError::Decode)?;
        // Keys the insert sent come back in key order: put the rows in the insert's order.
        if let Some(k) = ir.returning.iter().position(|c| *c == key) {
            let order: Vec<String> = keys.iter().map(ToString::to_string).collect();
            rows.sort_by_key(|r| {
                let s = r[k].to_string();
                order.iter().position(|o| *o == s).unwrap_or(usize::MAX)
            });
        }
        Ok(rows)
    }

    /// Reads a statement's rows as they arrive, handing them to `each` in chunks of `chunk`
    /// rows; returns the rows after the last full chunk and, in `handed`, how many rows went
    /// to `each`. (An insert returning rows on a server without `RETURNING` comes back
    /// whole.)
    pub async fn load_chunked(
        &mut self,
        q: &CompiledQuery,
        chunk: usize,
        each: &mut (dyn FnMut(Vec<Row>) + Send),
        handed: &mut usize,
    ) -> std::result::Result<Vec<Row>, RunError> {
        if !self.server.returning() && q.parts.last().is_some_and(|p| p.contains(" RETURNING \"")) {
            return self.load(q).await;
        }
        self.stream(q, chunk, each, handed).await
    }

    /// Runs a statement and decodes each row as it arrives (the driver's row is dropped
    /// before the next is read), handing them to `each` in chunks of `chunk` rows; returns
    /// the rows after the last full chunk.
    async fn stream(
        &mut self,
        q: &CompiledQuery,
        chunk: usize,
        each: &mut (dyn FnMut(Vec<Row>) + Send),
        handed: &mut usize,
    ) -> std::result::Result<Vec<Row>, RunError> {
        let params =
            binds::statement_params(&q.parts, &q.binds, self.server).map_err(RunError::Decode)?;
        let sql = q.sql();
        let mut buf = Vec::with_capacity(chunk.min(1024));
        let mut bad = None;
        let r = async {
            let mut result = self.conn.exec_iter(sql.as_str(), params).await?;
            result
                .for_each(|raw| {
                    if bad.is_some() {
                        return;
                    }
                    match row::decode_row(raw).and_then(|v| coerce_row(v, &q.output)) {
                        Ok(r) => {
                            buf.push(r);
                            if buf.len() == chunk {
                                *handed += chunk;
                                each(std::mem::replace(
                                    &mut buf,
                                    Vec::with_capacity(chunk.min(1024)),
                                ));
                            }
                        }
                        Err(e) => bad = Some(e),
                    }
                })
                .await?;
            result.drop_result().await
        }
        .await;
        match (r, bad) {
            (Err(e), _) => Err(self.failed_statement(e, &sql).await),
            (Ok(()), Some(e)) => Err(RunError::Decode(e)),
            (Ok(()), None) => match self.division_by_zero(&sql).await {
                Some(e) => Err(e),
                None => Ok(buf),
            },
        }
    }

    /// Runs a statement that returns rows, keeping the columns' names.
    pub async fn load_named(
        &mut self,
        q: &CompiledQuery,
    ) -> std::result::Result<Vec<NamedRow>, RunError> {
        let (names, rows) = self.load_raw(q).await?;
        rows.into_iter()
            .map(|r| {
                Ok(NamedRow {
                    names: names.clone(),
                    values: row::decode_row(r)?,
                    unresolved: Vec::new(),
                })
            })
            .collect::<Result<Vec<NamedRow>>>()
            .map_err(RunError::Decode)
    }

    async fn load_raw(
        &mut self,
        q: &CompiledQuery,
    ) -> std::result::Result<(Vec<String>, Vec<mysql_async::Row>), RunError> {
        let params =
            binds::statement_params(&q.parts, &q.binds, self.server).map_err(RunError::Decode)?;
        let sql = q.sql();
        let r = async {
            let mut result = self.conn.exec_iter(sql.as_str(), params).await?;
            let names = row::names(result.columns_ref());
            let rows: Vec<mysql_async::Row> = result.collect().await?;
            result.drop_result().await?;
            Ok::<_, mysql_async::Error>((names, rows))
        }
        .await;
        match r {
            Ok(v) => match self.division_by_zero(&sql).await {
                Some(e) => Err(e),
                None => Ok(v),
            },
            Err(e) => Err(self.failed_statement(e, &sql).await),
        }
    }

    /// The error of a read that divided by zero. In a `SELECT` the server gives NULL and a
    /// warning (1365) where PostgreSQL fails the statement (`ERROR_FOR_DIVISION_BY_ZERO`
    /// covers writes only): the warnings are read when the statement left any, and a
    /// division by zero fails the read as on PostgreSQL, never a silent NULL.
    async fn division_by_zero(&mut self, sql: &str) -> Option<RunError> {
        if self.conn.get_warnings() == 0 {
            return None;
        }
        let warnings: Vec<(String, u32, String)> = match self.conn.query("SHOW WARNINGS").await {
            Ok(w) => w,
            Err(e) => return Some(self.failed(e, "SHOW WARNINGS")),
        };
        let (_, code, message) = warnings
            .into_iter()
            .find(|(_, code, _)| *code == errors::DIVISION_BY_ZERO)?;
        Some(RunError::Mapped(chakra_dsl::Error::Database {
            message: format!("division by zero: {message} (error {code})"),
            sql: Some(sql.to_owned()),
        }))
    }

    /// Runs a statement and returns the affected-row count (rows matched, as on the other
    /// backends: the connection reports found rows).
    pub async fn execute(&mut self, q: &CompiledQuery) -> std::result::Result<usize, RunError> {
        let params =
            binds::statement_params(&q.parts, &q.binds, self.server).map_err(RunError::Decode)?;
        let sql = q.sql();
        match self.conn.exec_drop(sql.as_str(), params).await {
            Ok(()) => Ok(self.conn.affected_rows() as usize),
            Err(e) => Err(self.failed_statement(e, &sql).await),
        }
    }

    /// Runs SQL text without binds (several statements separated by `;` allowed).
    pub async fn batch_execute(&mut self, sql: &str) -> std::result::Result<(), RunError> {
        match self.conn.query_drop(sql).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.failed(e, sql)),
        }
    }
}
