//! [`PgConn`]: a pooled PostgreSQL connection and how a compiled statement runs on it
//! (diesel-async, a cancel request sent for a statement abandoned mid-flight, rows read as a
//! stream, statements pipelined). Tracing and error mapping stay in [`crate::exec::Conn`].

use super::cancel::CancelTarget;
use super::typed_row::{CheckedColumns, Typed};
use crate::exec::coerce::coerce_row;
use crate::exec::errors::RunError;
use crate::exec::query::DynQuery;
use crate::exec::row::{DynRow, NamedRow, Unresolved};
use crate::exec::{KnownTables, Row};
use crate::sql::CompiledQuery;
use chakra_dsl::typed::ReadRow;
use chakra_dsl::{Value, ValueType};
use diesel::QueryResult;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use std::sync::Arc;

/// A PostgreSQL connection checked out of its pool, with what it knows besides.
pub struct PgConn {
    /// The pooled connection.
    pub(crate) conn: Object<AsyncPgConnection>,
    /// Its cancel target, pending cancel request and the pool's known tables.
    pub(crate) side: PgSide,
}

/// Sends PostgreSQL a cancel request for the statement running on a connection when dropped
/// before [`CancelOnDrop::disarm`]: a statement future dropped mid-flight (a timeout, a
/// cancelled task) stops on the server instead of running to completion. The cancel goes
/// over a new connection, as PostgreSQL's protocol wants; the dropped statement's own
/// connection is closed by its owner (never reused: a late cancel could otherwise hit the
/// next statement on it). The guard only borrows the connection and its side: the cancel
/// token (a copy of the connection's socket settings, its host name allocated) is taken
/// when the guard fires, not for every statement.
struct CancelOnDrop<'c>(Option<(&'c AsyncPgConnection, &'c PgSide)>);

/// What a PostgreSQL connection knows besides its connection.
#[derive(Debug, Clone, Default)]
pub struct PgSide {
    /// Where cancel requests go (the pool's host and port).
    pub(crate) cancel: Option<Arc<CancelTarget>>,
    /// The cancel request sent for a statement abandoned mid-flight, while it is on its way:
    /// [`PgConn::discard`] closes the connection only after it has been acted on (behind
    /// PgBouncer a cancel for a client that has gone is dropped).
    pending: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
    /// The tables the pool's database was seen to hold.
    tables: KnownTables,
}

impl PgSide {
    /// A side whose cancel requests go to `cancel`, sharing its pool's `tables`.
    pub fn new(cancel: Option<Arc<CancelTarget>>, tables: KnownTables) -> PgSide {
        PgSide {
            cancel,
            tables,
            pending: Arc::default(),
        }
    }

    fn guard<'c>(&'c self, c: &'c AsyncPgConnection) -> CancelOnDrop<'c> {
        CancelOnDrop(Some((c, self)))
    }
}

impl CancelOnDrop<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        let Some((conn, side)) = self.0.take() else {
            return;
        };
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            let token = conn.cancel_token();
            tracing::debug!(target: "chakra::sql", "statement dropped while running: sending a cancel request");
            let target = side.cancel.clone();
            let task = h.spawn(async move {
                super::cancel::send_cancel(token, target.as_deref()).await;
            });
            *side.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        }
    }
}

impl PgConn {
    /// A checked-out connection and its side.
    pub fn new(conn: Object<AsyncPgConnection>, side: PgSide) -> PgConn {
        PgConn { conn, side }
    }

    /// The tables its pool's database was seen to hold.
    pub fn known_tables(&self) -> &KnownTables {
        &self.side.tables
    }

    /// Runs a statement that returns rows, decoding them with the statement's plan.
    pub async fn load(&mut self, q: &CompiledQuery) -> Result<Vec<Row>, RunError> {
        let mut conn: &AsyncPgConnection = &self.conn;
        let guard = self.side.guard(conn);
        let r: QueryResult<Vec<DynRow>> = DynQuery(q).load(&mut conn).await;
        guard.disarm();
        self.decode(r?, q).await
    }

    /// Runs a statement that returns rows, each read by `M`'s generated row reader straight
    /// into the struct ([`super::typed_row`]). A cell that does not fit its field is the
    /// reader's own `Decode` error, naming the model and field.
    pub async fn load_models<M: ReadRow>(&mut self, q: &CompiledQuery) -> Result<Vec<M>, RunError> {
        let mut conn: &AsyncPgConnection = &self.conn;
        let guard = self.side.guard(conn);
        // One statement's rows: each column's OID looked up once ([`CheckedColumns`]); each
        // struct moved out of its `Typed` as it is read (no second pass over the rows).
        let read = async move {
            use futures_util::TryStreamExt;
            let mut rows = DynQuery(q).load_stream::<Typed<M>>(&mut conn).await?;
            let mut out = Vec::new();
            while let Some(Typed(m)) = rows.try_next().await? {
                out.push(m);
            }
            QueryResult::Ok(out)
        };
        let r = CheckedColumns::with_columns(read, q.output.len()).await;
        guard.disarm();
        match r {
            Ok(rows) => Ok(rows),
            Err(diesel::result::Error::DeserializationError(e)) => {
                match e.downcast::<chakra_dsl::Error>() {
                    Ok(named) => Err(RunError::Decode(*named)),
                    Err(e) => Err(RunError::Db(diesel::result::Error::DeserializationError(e))),
                }
            }
            Err(e) => Err(RunError::Db(e)),
        }
    }

    /// Reads a statement's rows as a stream, handing them to `each` in chunks of `chunk`
    /// rows while later rows are still arriving; returns the rows after the last full chunk
    /// and, in `handed`, how many rows went to `each`.
    pub async fn load_chunked(
        &mut self,
        q: &CompiledQuery,
        chunk: usize,
        each: &mut (dyn FnMut(Vec<Row>) + Send),
        handed: &mut usize,
    ) -> Result<Vec<Row>, RunError> {
        let mut conn: &AsyncPgConnection = &self.conn;
        let guard = self.side.guard(conn);
        let r: Result<Vec<Row>, RunError> = async {
            use futures_util::TryStreamExt;
            let mut rows = DynQuery(q).load_stream::<DynRow>(&mut conn).await?;
            let mut buf = Vec::with_capacity(chunk);
            while let Some(row) = rows.try_next().await? {
                // No catalog look-up while the stream holds the connection: a user-defined
                // type in a streamed row is a named error (compiled queries read enums as
                // text, so only raw SQL meets one).
                if let Some(u) = <[Unresolved]>::first(&row.1) {
                    return Err(RunError::Decode(chakra_dsl::Error::Decode {
                        column: u.column.clone(),
                        reason: format!(
                            "a type the database defined (oid {}, such as a native enum) in a \
                             streamed row: select it as `::text`",
                            u.type_id
                        ),
                    }));
                }
                buf.push(coerce_row(row.0, &q.output).map_err(RunError::Decode)?);
                if buf.len() == chunk {
                    *handed += chunk;
                    each(std::mem::replace(&mut buf, Vec::with_capacity(chunk)));
                }
            }
            Ok(buf)
        }
        .await;
        guard.disarm();
        r
    }

    /// Runs a statement and returns the affected-row count.
    pub async fn execute(&mut self, q: &CompiledQuery) -> QueryResult<usize> {
        let mut conn: &AsyncPgConnection = &self.conn;
        let guard = self.side.guard(conn);
        let r = DynQuery(q).execute(&mut conn).await;
        guard.disarm();
        r
    }

    /// Runs statements pipelined: every statement is sent before the first answer is read
    /// (diesel-async sends a statement when its future is first polled, and the futures are
    /// polled in order; the server runs them one after another), so `n` statements cost one
    /// round trip. Each statement's outcome, in order.
    pub async fn execute_pipelined(&mut self, qs: &[CompiledQuery]) -> Vec<QueryResult<usize>> {
        let shared: &AsyncPgConnection = &self.conn;
        let guard = self.side.guard(shared);
        let futures = qs.iter().map(|q| {
            let mut conn = shared;
            DynQuery(q).execute(&mut conn)
        });
        let results = futures_util::future::join_all(futures).await;
        guard.disarm();
        results
    }

    /// Runs `first`, then `next` pipelined after it: `next` is sent before `first`'s answer
    /// is read, so both cost one round trip. The server runs them in order, `next` only once
    /// `first` has finished (a COMMIT, or a statement outside a transaction with its implicit
    /// commit, is complete before `next` starts). `next` runs whatever `first`'s outcome;
    /// both outcomes are returned. Used to read the WAL position after a commit
    /// ([`crate::databases::wal`]).
    pub async fn batch_then_load(
        &mut self,
        first: &str,
        next: &CompiledQuery,
    ) -> (QueryResult<()>, Result<Vec<Row>, RunError>) {
        let shared: &AsyncPgConnection = &self.conn;
        let a = async move {
            let mut c = shared;
            c.batch_execute(first).await
        };
        pipelined(shared, &self.side, a, next).await
    }

    /// [`PgConn::batch_then_load`] with a statement that returns a row count first.
    pub async fn execute_then_load(
        &mut self,
        first: &CompiledQuery,
        next: &CompiledQuery,
    ) -> (QueryResult<usize>, Result<Vec<Row>, RunError>) {
        let shared: &AsyncPgConnection = &self.conn;
        let a = async move {
            let mut c = shared;
            DynQuery(first).execute(&mut c).await
        };
        pipelined(shared, &self.side, a, next).await
    }

    /// [`PgConn::batch_then_load`] with a statement that returns rows first.
    pub async fn load_then_load(
        &mut self,
        first: &CompiledQuery,
        next: &CompiledQuery,
    ) -> (Result<Vec<Row>, RunError>, Result<Vec<Row>, RunError>) {
        let shared: &AsyncPgConnection = &self.conn;
        let a = async move {
            let mut c = shared;
            DynQuery(first).load::<DynRow>(&mut c).await
        };
        let (a, b) = pipelined(shared, &self.side, a, next).await;
        let a = match a {
            Ok(rows) => self.decode(rows, first).await,
            Err(e) => Err(e.into()),
        };
        (a, b)
    }

    /// [`PgConn::batch_then_load`] with a statement whose rows keep their columns' names
    /// first.
    pub async fn load_named_then_load(
        &mut self,
        first: &CompiledQuery,
        next: &CompiledQuery,
    ) -> (Result<Vec<NamedRow>, RunError>, Result<Vec<Row>, RunError>) {
        let shared: &AsyncPgConnection = &self.conn;
        let a = async move {
            let mut c = shared;
            DynQuery(first).load::<NamedRow>(&mut c).await
        };
        let (a, b) = pipelined(shared, &self.side, a, next).await;
        let a = match a {
            Ok(rows) => self.decode_named(rows).await,
            Err(e) => Err(e.into()),
        };
        (a, b)
    }

    async fn decode(
        &mut self,
        mut rows: Vec<DynRow>,
        q: &CompiledQuery,
    ) -> Result<Vec<Row>, RunError> {
        if rows.iter().any(|r| !r.1.is_empty()) {
            self.resolve(rows.iter_mut().map(|r| (&mut r.0, &mut r.1)))
                .await?;
        }
        rows.into_iter()
            .map(|r| coerce_row(r.0, &q.output))
            .collect::<chakra_dsl::Result<Vec<Row>>>()
            .map_err(RunError::Decode)
    }

    async fn decode_named(&mut self, mut rows: Vec<NamedRow>) -> Result<Vec<NamedRow>, RunError> {
        if rows.iter().any(|r| !r.unresolved.is_empty()) {
            self.resolve(rows.iter_mut().map(|r| (&mut r.values, &mut r.unresolved)))
                .await?;
        }
        Ok(rows)
    }

    /// Runs a statement that returns rows, keeping the columns' names.
    pub async fn load_named(&mut self, q: &CompiledQuery) -> Result<Vec<NamedRow>, RunError> {
        let mut conn: &AsyncPgConnection = &self.conn;
        let guard = self.side.guard(conn);
        let r: QueryResult<Vec<NamedRow>> = DynQuery(q).load(&mut conn).await;
        guard.disarm();
        self.decode_named(r?).await
    }

    /// Decodes the cells of user-defined types in rows already read (a native enum read by
    /// raw SQL): one catalog look-up of their OIDs on this connection, after the statement
    /// (never run again); an enum's cell is its label's text, any other type a `Decode` error
    /// naming the column.
    async fn resolve<'r>(
        &mut self,
        rows: impl Iterator<Item = (&'r mut Vec<Value>, &'r mut Vec<Unresolved>)>,
    ) -> Result<(), RunError> {
        let rows: Vec<_> = rows.collect();
        let mut oids: Vec<i64> = rows
            .iter()
            .flat_map(|(_, u)| u.iter().map(|c| i64::from(c.type_id)))
            .collect();
        oids.sort_unstable();
        oids.dedup();
        let ids: Vec<Value> = oids.into_iter().map(Value::I64).collect();
        let arr = chakra_dsl::ArrayValue::from_values(&ValueType::I64, &ids)
            .expect("an array of integers");
        let lookup = crate::migrate::history::raw(
            crate::Dialect::Postgres,
            &[super::row::enum_types_sql(), ")"],
            vec![Value::Array(arr)],
            vec![ValueType::I64, ValueType::Bool, ValueType::Text],
        );
        let found: Vec<DynRow> = DynQuery(&lookup).load(&mut *self.conn).await?;
        let mut types = std::collections::HashMap::new();
        for r in found {
            let r = coerce_row(r.0, &lookup.output).map_err(RunError::Decode)?;
            if let (Value::I64(oid), Value::Bool(is_enum), Value::Text(name)) =
                (&r[0], &r[1], &r[2])
            {
                types.insert(*oid as u32, (*is_enum, name.clone()));
            }
        }
        super::row::resolve_cells(rows.into_iter(), &types).map_err(RunError::Decode)
    }

    /// Runs SQL text without binds.
    pub async fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
        let mut conn: &AsyncPgConnection = &self.conn;
        let guard = self.side.guard(conn);
        let r = conn.batch_execute(sql).await;
        guard.disarm();
        r
    }

    /// Removes the connection from its pool and closes it; when a cancel request for its
    /// last statement is on its way, once that has been acted on.
    pub fn discard(self) {
        let conn = Object::take(self.conn);
        let pending = self
            .side
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
}

/// Polls `first` and then `next` (sent on its first poll) together on one connection: both
/// are on the wire before either answer is read. A future dropped mid-way sends a cancel
/// request, as a single statement's does. `next` returns rows of its plan, with no type the
/// database defined (its cells are decoded here).
async fn pipelined<T>(
    shared: &AsyncPgConnection,
    side: &PgSide,
    first: impl std::future::Future<Output = T>,
    next: &CompiledQuery,
) -> (T, Result<Vec<Row>, RunError>) {
    let guard = side.guard(shared);
    let second = async move {
        let mut c = shared;
        DynQuery(next).load::<DynRow>(&mut c).await
    };
    // `join` polls `first` before `second`: diesel-async sends a statement on its first poll,
    // so `first` is on the wire (and runs) before `next`.
    let (a, b) = futures_util::future::join(first, second).await;
    guard.disarm();
    let b = b.map_err(RunError::Db).and_then(|rows| {
        rows.into_iter()
            .map(|r| coerce_row(r.0, &next.output))
            .collect::<chakra_dsl::Result<Vec<Row>>>()
            .map_err(RunError::Decode)
    });
    (a, b)
}
