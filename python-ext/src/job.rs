//! [`Job`]: one unit of database work handed from Python to the runtime: an [`Op`] that runs
//! on the runtime (no Python objects, no GIL) and a [`Finish`] that turns its [`Outcome`]
//! into Python objects on the calling (event-loop) thread.

use crate::hydrate;
use crate::model::ModelInfo;
use crate::pools::{closed, PoolSlot};
use chakra::exec::Row;
use chakra::load::Loaded;
use chakra::query::delete_rules::delete_with_rules;
use chakra::sql::ddl;
use chakra::Transaction;
use chakra_dsl::relations::ResolvedRelation;
use chakra_dsl::{Error, LoadPlan, ModelMeta, Result, Statement, Value};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use std::sync::{Arc, Mutex};

/// The slot of an open transaction, shared by the Python `TxHandle` and running jobs, and
/// the dialect of the pool it is opened on: fixed when the slot is made, so a job reads it
/// without taking the lock (a job holding the transaction does not change what SQL another
/// job is compiled to).
pub struct TxCell {
    dialect: chakra::Dialect,
    slot: tokio::sync::Mutex<Option<Transaction>>,
}

impl TxCell {
    /// An empty slot for a transaction on a pool of `dialect`.
    pub fn new(dialect: chakra::Dialect) -> Self {
        TxCell {
            dialect,
            slot: tokio::sync::Mutex::new(None),
        }
    }

    /// The dialect of the transaction (that of its pool).
    pub fn dialect(&self) -> chakra::Dialect {
        self.dialect
    }

    /// Waits for the transaction slot.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, Option<Transaction>> {
        self.slot.lock().await
    }

    /// The transaction slot if no job holds it.
    pub fn try_lock(
        &self,
    ) -> std::result::Result<
        tokio::sync::MutexGuard<'_, Option<Transaction>>,
        tokio::sync::TryLockError,
    > {
        self.slot.try_lock()
    }
}

/// Where statements run.
#[derive(Clone)]
pub enum Target {
    /// Any pooled connection.
    Pool(Arc<PoolSlot>),
    /// The connection of an open transaction.
    Tx(Arc<TxCell>),
}

/// Transaction control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxOp {
    /// `SAVEPOINT`.
    Savepoint,
    /// `RELEASE SAVEPOINT`.
    Release,
    /// `ROLLBACK TO SAVEPOINT`.
    RollbackTo,
    /// `COMMIT`.
    Commit,
    /// `ROLLBACK`.
    Rollback,
}

/// The database side of a job. Owns all its inputs (`Send + 'static`).
pub enum Op {
    /// Rows of a statement.
    Fetch(Target, Statement),
    /// Affected-row count of a statement.
    Execute(Target, Statement),
    /// Affected-row counts of statements run in order, pipelined on PostgreSQL
    /// ([`chakra::Transaction::execute_pipelined`]; on a pool target, in a transaction of
    /// their own).
    ExecuteMany(Target, Vec<Statement>),
    /// `CREATE TABLE` (foreign keys, indexes) for resolved tables, referenced ones first, in
    /// one transaction; `if_not_exists` skips existing ones.
    CreateTables(Target, Vec<ModelMeta>, bool),
    /// `DROP TABLE IF EXISTS` for resolved tables, referencing ones first.
    DropTables(Target, Vec<ModelMeta>),
    /// A query with its `select_related` joins and one statement per prefetch level.
    Load(Target, Box<LoadPlan>),
    /// Changes to the many-to-many links of one row (its key), returning how many join
    /// rows were written or deleted.
    Links(Target, Box<ResolvedRelation>, Value, LinkOp),
    /// Opens a transaction into the cell.
    Begin(Arc<PoolSlot>, Arc<TxCell>, chakra::TxOptions),
    /// Transaction control on the cell.
    Tx(Arc<TxCell>, TxOp),
    /// SQL text without parameters (DDL, scripts, admin statements).
    Batch(Target, String),
    /// Nothing: measures the bridge.
    Noop,
    /// Raw SQL with bound parameters (`crate::raw`).
    Raw(Target, Box<RawOp>),
    /// The row of a model with this primary key: the core's cached get-by-key statement
    /// (`chakra::model::select_by_pk`, compiled once per model and dialect).
    GetByPk(Target, &'static Arc<ModelMeta>, Value),
    /// A delete carrying out the models' CASCADE / SET NULL rules in the ORM
    /// (`chakra::query::delete_rules`), in a transaction; returns the count.
    DeleteRules(Target, Box<DeleteRules>),
    /// The database's plan for a statement (`chakra::query::explain`): one row, one cell,
    /// the plan text.
    Explain(Target, Statement),
    /// An op already polled once on the loop thread that has to wait (a SQLite lock, a
    /// pool connection): the rest of it ([`crate::bridge::start_inline`]). It runs on the
    /// runtime, never inline again.
    Started(Running),
}

/// An op's future, boxed ([`Op::Started`]).
pub type Running = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Outcome>> + Send>>;

/// What [`Op::DeleteRules`] needs: the select of the keys to delete, the model, and the
/// registered models as they were when the delete was asked for.
pub struct DeleteRules {
    /// A one-column select of the primary keys of the rows to delete.
    pub keys: chakra_dsl::Select,
    /// The model whose rows are deleted.
    pub meta: Arc<ModelMeta>,
    /// Every registered model.
    pub models: crate::registry::Snapshot,
}

/// Raw SQL and its parameters, with the model its rows become (`None`: run for the
/// affected-row count). Compiled on the runtime, for the target's dialect.
pub struct RawOp {
    /// The SQL text, `%s` placeholders.
    pub sql: String,
    /// One value per placeholder (already checked against them).
    pub params: Vec<Value>,
    /// The model whose fields the result's columns are matched to.
    pub meta: Option<Arc<ModelMeta>>,
    /// Without a model: the rows with their column names (`chakra.fetch`), not a count.
    pub rows: bool,
}

impl RawOp {
    async fn run(self, target: Target) -> Result<Outcome> {
        use chakra::sql::raw::{compile_raw, Placeholders};
        let d = ddl_for(&target).await?;
        let q = compile_raw(&self.sql, Placeholders::Percent, self.params, d)?;
        match (self.meta, &target) {
            (Some(meta), Target::Pool(slot)) => {
                let named = slot.get().await?.fetch_named_compiled(&q).await?;
                Ok(Outcome::Rows(chakra::query::raw::model_rows(&meta, named)?))
            }
            (Some(meta), Target::Tx(cell)) => {
                let named = with_tx(cell, async |tx| tx.fetch_named_compiled(&q).await).await?;
                Ok(Outcome::Rows(chakra::query::raw::model_rows(&meta, named)?))
            }
            (None, Target::Pool(slot)) if self.rows => Ok(Outcome::Named(
                slot.get().await?.fetch_named_compiled(&q).await?,
            )),
            (None, Target::Tx(cell)) if self.rows => Ok(Outcome::Named(
                with_tx(cell, async |tx| tx.fetch_named_compiled(&q).await).await?,
            )),
            (None, Target::Pool(slot)) => Ok(Outcome::Count(
                slot.get().await?.execute_compiled(&q).await?,
            )),
            (None, Target::Tx(cell)) => Ok(Outcome::Count(
                with_tx(cell, async |tx| tx.execute_compiled(&q).await).await?,
            )),
        }
    }
}

/// A change to one row's many-to-many links.
pub enum LinkOp {
    /// Links these targets (those already linked are left alone).
    Add(Vec<Value>),
    /// Unlinks these targets.
    Remove(Vec<Value>),
    /// Unlinks every target.
    Clear,
    /// Makes these the only linked targets.
    Set(Vec<Value>),
}

/// What an op produced.
pub enum Outcome {
    /// A row tree: the queried rows and their loaded relations.
    Loaded(Loaded),
    /// Rows.
    Rows(Vec<Row>),
    /// Rows with their column names (raw SQL).
    Named(chakra::exec::NamedRows),
    /// A count.
    Count(u64),
    /// Counts, one per statement.
    Counts(Vec<u64>),
    /// Nothing.
    Unit,
}

async fn with_tx<T>(
    cell: &TxCell,
    f: impl AsyncFnOnce(&mut Transaction) -> Result<T>,
) -> Result<T> {
    let mut guard = cell.lock().await;
    match guard.as_mut() {
        Some(tx) => f(tx).await,
        None => Err(Error::Transaction(
            "the session has no open transaction (it was committed or rolled back)".into(),
        )),
    }
}

async fn ddl_for(target: &Target) -> Result<chakra::Dialect> {
    Ok(match target {
        Target::Pool(slot) => slot.get().await?.dialect(),
        Target::Tx(cell) => cell.dialect(),
    })
}

async fn batch(target: &Target, sql: &str) -> Result<()> {
    match target {
        Target::Pool(slot) => slot.get().await?.batch_execute(sql).await,
        Target::Tx(cell) => with_tx(cell, async |tx| tx.batch_execute(sql).await).await,
    }
}

impl Target {
    /// The dialect of the target (a pool's from its URL, a transaction's fixed when its
    /// cell was made: never looked up under the lock, which another job may hold).
    pub fn dialect(&self) -> chakra::Dialect {
        match self {
            Target::Pool(slot) => slot.dialect(),
            Target::Tx(cell) => cell.dialect(),
        }
    }

    /// What its backend's executor can do.
    fn caps(&self) -> &'static chakra::exec::ExecCaps {
        chakra::exec::caps(self.dialect())
    }
}

impl Op {
    /// True when the op is a read whose rows can be handed over in chunks while later rows
    /// are still arriving ([`Op::run_in_parts`]): a statement on a PostgreSQL pool.
    pub fn streams(&self) -> bool {
        matches!(self, Op::Fetch(t @ Target::Pool(_), Statement::Select(_)) if t.caps().streams)
    }

    /// Runs the op; a read that [`Op::streams`] hands its rows to `each` in chunks of
    /// `chunk` as they arrive, and its outcome holds the rows after the last chunk.
    pub async fn run_in_parts(
        self,
        chunk: usize,
        each: &mut (dyn FnMut(Vec<Row>) + Send),
    ) -> Result<Outcome> {
        match self {
            Op::Fetch(Target::Pool(slot), stmt @ Statement::Select(_))
                if chakra::exec::caps(slot.dialect()).streams =>
            {
                let pool = slot.get().await?;
                let q = pool.compile(&stmt)?;
                Ok(Outcome::Rows(
                    pool.fetch_compiled_chunked(&q, chunk, each).await?,
                ))
            }
            other => other.run().await,
        }
    }

    /// The executor capabilities of the backend the op runs on (`None` for a no-op).
    fn caps(&self) -> Option<&'static chakra::exec::ExecCaps> {
        match self {
            Op::Fetch(t, _)
            | Op::Execute(t, _)
            | Op::ExecuteMany(t, _)
            | Op::CreateTables(t, _, _)
            | Op::DropTables(t, _)
            | Op::Load(t, _)
            | Op::Links(t, _, _, _)
            | Op::Raw(t, _)
            | Op::GetByPk(t, _, _)
            | Op::DeleteRules(t, _)
            | Op::Explain(t, _)
            | Op::Batch(t, _) => Some(t.caps()),
            Op::Begin(slot, _, _) => Some(chakra::exec::caps(slot.dialect())),
            Op::Tx(cell, _) => Some(chakra::exec::caps(cell.dialect())),
            Op::Noop | Op::Started(_) => None,
        }
    }

    /// True when the op's statements run inline (SQLite: no I/O to wait for), so the bridge
    /// first polls it on the calling thread ([`crate::bridge::Completer::submit`]).
    pub fn runs_inline(&self) -> bool {
        self.caps().is_some_and(|c| c.runs_inline)
    }

    /// True when aborting the op mid-statement is safe and useful: PostgreSQL (the
    /// statement is cancelled on the server, its connection closed). A SQLite statement
    /// cannot be interrupted (it runs inline, within one poll of the thread that drives the
    /// op): SQLite ops run to the end and their result is dropped.
    pub fn abortable(&self) -> bool {
        self.caps().is_some_and(|c| c.cancels_mid_statement)
    }

    /// Runs the op (on the runtime, or on a thread blocking on it).
    ///
    /// A get by key on a pool runs in this future itself; every other op in a boxed future
    /// of its own ([`Op::run_other`]). An `async fn`'s future is as large as the state of its
    /// largest branch (13.5 KB for all ops together, 7.5 KB for the get alone), and the
    /// bridge boxes each awaited op's future, copying all of it.
    pub async fn run(self) -> Result<Outcome> {
        match self {
            Op::GetByPk(Target::Pool(slot), meta, key) => {
                let q = chakra::model::select_by_pk(
                    meta,
                    chakra::sql::cache::ShapeKind::GetByPk,
                    slot.dialect(),
                    vec![key],
                )?;
                Ok(Outcome::Rows(slot.get().await?.fetch_compiled(&q).await?))
            }
            Op::Started(running) => running.await,
            op => Box::pin(op.run_other()).await,
        }
    }

    /// [`Op::run`] for every op but a get by key on a pool.
    async fn run_other(self) -> Result<Outcome> {
        match self {
            Op::Noop => Ok(Outcome::Unit),
            Op::Started(running) => running.await,
            Op::Raw(target, raw) => raw.run(target).await,
            Op::Batch(target, sql) => {
                batch(&target, &sql).await?;
                Ok(Outcome::Unit)
            }
            Op::GetByPk(target, meta, key) => {
                let dialect = target.dialect();
                let q = chakra::model::select_by_pk(
                    meta,
                    chakra::sql::cache::ShapeKind::GetByPk,
                    dialect,
                    vec![key],
                )?;
                Ok(Outcome::Rows(match target {
                    Target::Pool(slot) => slot.get().await?.fetch_compiled(&q).await?,
                    Target::Tx(cell) => {
                        with_tx(&cell, async |tx| tx.fetch_compiled(&q).await).await?
                    }
                }))
            }
            Op::Fetch(Target::Pool(slot), stmt) => {
                Ok(Outcome::Rows(slot.get().await?.fetch(&stmt).await?))
            }
            Op::Explain(Target::Pool(slot), stmt) => {
                let pool = slot.get().await?;
                let mut exec = &pool;
                let plan = chakra::query::explain(&mut exec, &stmt).await?;
                Ok(Outcome::Rows(vec![vec![chakra_dsl::Value::Text(plan)]]))
            }
            Op::Explain(Target::Tx(cell), stmt) => {
                let plan =
                    with_tx(&cell, async |tx| chakra::query::explain(tx, &stmt).await).await?;
                Ok(Outcome::Rows(vec![vec![chakra_dsl::Value::Text(plan)]]))
            }
            Op::Fetch(Target::Tx(cell), stmt) => Ok(Outcome::Rows(
                with_tx(&cell, async |tx| tx.fetch(&stmt).await).await?,
            )),
            Op::Execute(Target::Pool(slot), stmt) => {
                Ok(Outcome::Count(slot.get().await?.execute(&stmt).await?))
            }
            Op::Execute(Target::Tx(cell), stmt) => Ok(Outcome::Count(
                with_tx(&cell, async |tx| tx.execute(&stmt).await).await?,
            )),
            Op::DeleteRules(Target::Pool(slot), d) => {
                let mut tx = slot.get().await?.begin().await?;
                let n = delete_with_rules(&mut tx, &d.keys, &d.meta, &d.models).await?;
                tx.commit().await?;
                Ok(Outcome::Count(n))
            }
            Op::DeleteRules(Target::Tx(cell), d) => Ok(Outcome::Count(
                with_tx(&cell, async |tx| {
                    delete_with_rules(tx, &d.keys, &d.meta, &d.models).await
                })
                .await?,
            )),
            Op::ExecuteMany(Target::Pool(slot), stmts) => {
                let mut tx = slot.get().await?.begin().await?;
                let counts = tx.execute_pipelined(&stmts).await?;
                tx.commit().await?;
                Ok(Outcome::Counts(counts))
            }
            Op::ExecuteMany(Target::Tx(cell), stmts) => Ok(Outcome::Counts(
                with_tx(&cell, async |tx| tx.execute_pipelined(&stmts).await).await?,
            )),
            Op::CreateTables(target, tables, if_not_exists) => {
                let d = ddl_for(&target).await?;
                let stmts = ddl::create_tables(&tables, d, if_not_exists)?;
                match &target {
                    Target::Pool(slot) => {
                        let mut tx = slot.get().await?.begin().await?;
                        for sql in &stmts {
                            tx.batch_execute(sql).await?;
                        }
                        tx.commit().await?;
                    }
                    Target::Tx(_) => {
                        for sql in &stmts {
                            batch(&target, sql).await?;
                        }
                    }
                }
                Ok(Outcome::Unit)
            }
            Op::DropTables(target, tables) => {
                let d = ddl_for(&target).await?;
                for sql in ddl::drop_tables(&tables, d)? {
                    batch(&target, &sql).await?;
                }
                Ok(Outcome::Unit)
            }
            Op::Load(Target::Pool(slot), plan) => {
                let pool = slot.get().await?;
                let mut exec = &pool;
                Ok(Outcome::Loaded(chakra::load::run(&mut exec, &plan).await?))
            }
            Op::Load(Target::Tx(cell), plan) => Ok(Outcome::Loaded(
                with_tx(&cell, async |tx| chakra::load::run(tx, &plan).await).await?,
            )),
            Op::Links(Target::Pool(slot), rel, key, op) => {
                let pool = slot.get().await?;
                let n = match op {
                    // Two statements (which exist, then insert; or delete, then insert): one
                    // transaction.
                    LinkOp::Add(_) | LinkOp::Set(_) => {
                        let mut tx = pool.begin().await?;
                        let n = crate::links::run(&mut tx, &rel, key, op).await?;
                        tx.commit().await?;
                        n
                    }
                    _ => {
                        let mut exec = &pool;
                        crate::links::run(&mut exec, &rel, key, op).await?
                    }
                };
                Ok(Outcome::Count(n))
            }
            Op::Links(Target::Tx(cell), rel, key, op) => Ok(Outcome::Count(
                with_tx(&cell, async |tx| crate::links::run(tx, &rel, key, op).await).await?,
            )),
            Op::Begin(slot, cell, opts) => {
                let pool = slot.get().await?;
                let mut guard = cell.lock().await;
                if guard.is_some() {
                    return Err(Error::Transaction(
                        "a transaction is already open on this session".into(),
                    ));
                }
                *guard = Some(pool.begin_with(opts).await?);
                Ok(Outcome::Unit)
            }
            Op::Tx(cell, op) => {
                let mut guard = cell.lock().await;
                let tx = guard.as_mut().ok_or_else(|| {
                    Error::Transaction("the session has no open transaction".into())
                })?;
                match op {
                    TxOp::Savepoint => tx.savepoint().await?,
                    TxOp::Release => tx.release_savepoint().await?,
                    TxOp::RollbackTo => tx.rollback_to_savepoint().await?,
                    TxOp::Commit => guard.take().expect("checked").commit().await?,
                    TxOp::Rollback => guard.take().expect("checked").rollback().await?,
                }
                Ok(Outcome::Unit)
            }
        }
    }
}

/// What `values()` / `values_list()` return per row.
pub enum Shape {
    /// Dicts keyed by these names.
    Dicts(Vec<Py<PyString>>),
    /// Tuples.
    Tuples,
    /// The single column's values.
    Flat,
}

/// How an outcome becomes a Python object.
pub enum Finish {
    /// A list of model instances.
    Models(Arc<ModelInfo>),
    /// A list of model instances with annotations (named here) after the fields.
    Annotated(Arc<ModelInfo>, Vec<Py<PyString>>),
    /// Exactly one instance, else the model's `DoesNotExist` / `MultipleObjectsReturned`.
    Get(Arc<ModelInfo>, String),
    /// [`Finish::Get`] of `get(name=value)`: the detail (`name=repr(value)`) is made only
    /// for the error.
    GetKey(Arc<ModelInfo>, Py<PyString>, Py<PyAny>),
    /// The first instance or `None`.
    First(Arc<ModelInfo>),
    /// Rows as dicts, tuples or flat values.
    Values(Shape),
    /// The integer in the first cell (`COUNT(*)`).
    Scalar,
    /// The boolean in the first cell (`EXISTS`).
    Bool,
    /// The affected-row count.
    RowCount,
    /// Raw rows as dicts keyed by column name (`true`) or tuples.
    RawRows(bool),
    /// `None`.
    Nothing,
    /// Inserted rows written back into these instances (generated keys, defaults): each
    /// row's values go to these fields (indices into the model's fields), in order.
    Created(Arc<ModelInfo>, Vec<Py<PyAny>>, Vec<usize>),
    /// Instances with their loaded relations, built from a row tree.
    Tree(crate::hydrate::Tree),
    /// One chunk of a streamed read: recorded in the cursor's state, then finished as the
    /// inner finish.
    Chunk(Arc<crate::chunks::ChunkState>, Box<Finish>),
    /// The inner finish, then these (deferred) fields removed from each instance's
    /// `__dict__` and recorded in its `_chakra_deferred`, so reading one raises `NotLoaded`.
    Deferred(Box<Finish>, Vec<Py<PyString>>),
    /// A tracked object's guarded UPDATE: no row matched is `ConcurrentUpdate`; else the
    /// version field's new value (or `None`).
    Guarded {
        /// Model name.
        model: String,
        /// Table name.
        table: String,
        /// The row's key, for the message (`(a, b)` for a composite key).
        key: String,
        /// The version field's value after the write.
        new_version: Option<Value>,
    },
    /// Several guarded UPDATEs' counts, each finished as its [`Finish::Guarded`]: the first
    /// that matched no row is `ConcurrentUpdate`; else the list of new versions.
    GuardedMany(Vec<Finish>),
}

/// The model's `DoesNotExist` (`count` 0) or `MultipleObjectsReturned` for a `get()`.
pub fn get_error(py: Python<'_>, info: &ModelInfo, count: usize, detail: String) -> PyErr {
    let cls = info.cls.bind(py).clone().into_any();
    let e = if count == 0 {
        Error::NotFound {
            model: info.meta.name.clone(),
            detail: Some(detail),
        }
    } else {
        Error::MultipleObjectsReturned {
            model: info.meta.name.clone(),
            count,
        }
    };
    crate::errors::to_py_in(py, &e, Some(&cls))
}

fn first_cell(rows: &[Row]) -> Option<&Value> {
    rows.first().and_then(|r| r.first())
}

/// Pauses Python's cyclic garbage collector while one job's result is converted. Building
/// 10,000 instances allocates 20,000 containers, which would trigger a collection every 700
/// allocations, each traversing the young objects (a fifth of W3's time in a profile); the
/// objects form no cycles, so the collector is simply resumed afterwards (if it was on).
struct GcPause(bool);

impl GcPause {
    fn new(_py: Python<'_>) -> GcPause {
        // SAFETY: called with the GIL held (the `Python` token); returns the previous state.
        GcPause(unsafe { pyo3::ffi::PyGC_Disable() } == 1)
    }
}

impl Drop for GcPause {
    fn drop(&mut self) {
        if self.0 {
            // SAFETY: still under the GIL of `GcPause::new` (dropped before it is released).
            unsafe { pyo3::ffi::PyGC_Enable() };
        }
    }
}

impl Finish {
    /// True when rows can be converted a chunk at a time ([`Finish::apply_part`]): a plain
    /// list of model instances.
    pub fn takes_parts(&self) -> bool {
        matches!(self, Finish::Models(_))
    }

    /// Converts one chunk of rows of a [`Finish::takes_parts`] job into instances appended
    /// to `into` (created on the first chunk). Runs with the GIL.
    pub fn apply_part(
        &self,
        py: Python<'_>,
        rows: Vec<Row>,
        into: &mut Option<Py<PyList>>,
    ) -> PyResult<()> {
        let Finish::Models(info) = self else {
            return Ok(());
        };
        let _gc = (rows.len() >= 256).then(|| GcPause::new(py));
        let list = into.get_or_insert_with(|| PyList::empty(py).unbind());
        let list = list.bind(py);
        for r in rows {
            list.append(hydrate::instance(py, info, r)?)?;
        }
        Ok(())
    }

    /// Converts the outcome. Runs with the GIL, once per job.
    pub fn apply(self, py: Python<'_>, out: Outcome) -> PyResult<Py<PyAny>> {
        let _gc = match &out {
            Outcome::Rows(rows) if rows.len() >= 256 => Some(GcPause::new(py)),
            Outcome::Loaded(_) => Some(GcPause::new(py)),
            _ => None,
        };
        self.apply_inner(py, out)
    }

    fn apply_inner(self, py: Python<'_>, out: Outcome) -> PyResult<Py<PyAny>> {
        match (self, out) {
            (Finish::Nothing, _) => Ok(py.None()),
            (Finish::Deferred(inner, names), out) => {
                let result = inner.apply(py, out)?;
                crate::hydrate::mark_deferred(py, result.bind(py), &names)?;
                Ok(result)
            }
            (Finish::Chunk(state, inner), Outcome::Rows(rows)) => {
                state.record(&rows);
                inner.apply(py, Outcome::Rows(rows))
            }
            (Finish::RowCount, Outcome::Count(n)) => n.into_py_any(py),
            (Finish::Models(info), Outcome::Rows(rows)) => {
                Ok(hydrate::hydrate(py, &info, rows)?.into_any().unbind())
            }
            (Finish::Annotated(info, names), Outcome::Rows(rows)) => {
                Ok(hydrate::hydrate_annotated(py, &info, &names, rows)?
                    .into_any()
                    .unbind())
            }
            (Finish::First(info), Outcome::Rows(rows)) => match rows.into_iter().next() {
                Some(r) => Ok(hydrate::instance(py, &info, r)?.unbind()),
                None => Ok(py.None()),
            },
            (Finish::Get(info, detail), Outcome::Rows(mut rows)) => match rows.len() {
                1 => Ok(hydrate::instance(py, &info, rows.pop().expect("one"))?.unbind()),
                n => Err(get_error(py, &info, n, detail)),
            },
            (Finish::GetKey(info, name, value), Outcome::Rows(mut rows)) => match rows.len() {
                1 => Ok(hydrate::instance(py, &info, rows.pop().expect("one"))?.unbind()),
                n => {
                    let detail = format!("{}={}", name.bind(py), value.bind(py).repr()?);
                    Err(get_error(py, &info, n, detail))
                }
            },
            (Finish::Values(shape), Outcome::Rows(rows)) => values(py, shape, rows),
            (Finish::RawRows(dicts), Outcome::Named(named)) => {
                let shape = if dicts {
                    Shape::Dicts(
                        named
                            .columns
                            .iter()
                            .map(|c| PyString::new(py, c).unbind())
                            .collect(),
                    )
                } else {
                    Shape::Tuples
                };
                values(py, shape, named.rows)
            }
            (Finish::Scalar, Outcome::Rows(rows)) => match first_cell(&rows) {
                Some(v) => Ok(crate::convert::to_py::value(py, v)?.unbind()),
                None => 0i64.into_py_any(py),
            },
            (Finish::Bool, Outcome::Rows(rows)) => {
                let b = matches!(first_cell(&rows), Some(Value::Bool(true)))
                    || matches!(first_cell(&rows), Some(Value::I64(x)) if *x != 0);
                b.into_py_any(py)
            }
            (Finish::Tree(tree), Outcome::Loaded(loaded)) => tree.apply(py, loaded),
            (
                Finish::Guarded {
                    model, table, key, ..
                },
                Outcome::Count(0),
            ) => Err(crate::errors::to_py_in(
                py,
                &Error::ConcurrentUpdate { model, table, key },
                None,
            )),
            (Finish::Guarded { new_version, .. }, Outcome::Count(_)) => match new_version {
                Some(v) => Ok(crate::convert::to_py::value(py, &v)?.unbind()),
                None => Ok(py.None()),
            },
            (Finish::GuardedMany(guards), Outcome::Counts(counts))
                if guards.len() == counts.len() =>
            {
                let out = PyList::empty(py);
                for (g, n) in guards.into_iter().zip(counts) {
                    out.append(g.apply_inner(py, Outcome::Count(n))?)?;
                }
                Ok(out.into_any().unbind())
            }
            (Finish::Created(info, objs, write), Outcome::Rows(rows)) => {
                hydrate::write_back(py, &info, &objs, rows, &write)?;
                Ok(py.None())
            }
            (_, _) => Err(crate::errors::to_py_in(
                py,
                &Error::InvalidQuery("internal: the job's result did not match its kind".into()),
                None,
            )),
        }
    }
}

fn values(py: Python<'_>, shape: Shape, rows: Vec<Row>) -> PyResult<Py<PyAny>> {
    let out = PyList::empty(py);
    match shape {
        Shape::Dicts(names) => {
            for r in rows {
                let d = PyDict::new(py);
                for (k, v) in names.iter().zip(r.iter()) {
                    d.set_item(k.bind(py), crate::convert::to_py::value(py, v)?)?;
                }
                out.append(d)?;
            }
        }
        Shape::Tuples => {
            for r in rows {
                let items = r
                    .iter()
                    .map(|v| crate::convert::to_py::value(py, v))
                    .collect::<PyResult<Vec<_>>>()?;
                out.append(PyTuple::new(py, items)?)?;
            }
        }
        Shape::Flat => {
            for r in rows {
                match r.first() {
                    Some(v) => out.append(crate::convert::to_py::value(py, v)?)?,
                    None => out.append(py.None())?,
                }
            }
        }
    }
    Ok(out.into_any().unbind())
}

/// A job handed from Python to the runtime (Python: `chakra._chakra.Job`). Each job runs
/// once, either awaited through the event loop's bridge or with `run_sync()`.
#[pyclass(module = "chakra._chakra")]
pub struct Job {
    inner: Mutex<Option<(Op, Finish)>>,
}

impl Job {
    /// A job.
    pub fn new(op: Op, finish: Finish) -> Job {
        Job {
            inner: Mutex::new(Some((op, finish))),
        }
    }

    /// Takes the op and finish out (a job runs once).
    pub fn take(&self) -> PyResult<(Op, Finish)> {
        self.inner.lock().expect("job lock").take().ok_or_else(|| {
            crate::errors::to_py(Error::InvalidQuery("this job has already run".into()))
        })
    }
}

#[pymethods]
impl Job {
    /// Runs the job on the calling thread with the GIL released (the runtime thread drives
    /// the I/O), and converts its result. Safe inside and outside a running event loop: it
    /// never waits on the loop.
    fn run_sync(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        crate::statement_log::refresh(py);
        let (op, finish) = self.take()?;
        run_now(py, op, finish)
    }
}

/// Runs `op` on the calling thread with the GIL released (the runtime thread drives the
/// I/O) and converts its result ([`Job`]'s `run_sync`; the caller refreshed the statement
/// log's settings).
pub fn run_now(py: Python<'_>, op: Op, finish: Finish) -> PyResult<Py<PyAny>> {
    let out = py.detach(|| {
        // Pinned where it is made: the op's future is never copied (see `block_on_pinned`).
        let running = std::pin::pin!(op.run());
        crate::runtime::block_on_pinned(running).unwrap_or_else(|| Err(closed()))
    });
    finished(py, finish, out)
}

/// The statement log emitted, then `out` converted by `finish`.
pub fn finished(py: Python<'_>, finish: Finish, out: Result<Outcome>) -> PyResult<Py<PyAny>> {
    let logged = crate::statement_log::emit(py);
    let result = match out {
        Ok(o) => finish.apply(py, o),
        Err(e) => Err(crate::errors::to_py_in(py, &e, None)),
    };
    // An interrupt raised while logging wins over the result: never swallowed.
    logged?;
    result
}

/// Runs SQL text without parameters (DDL, admin statements such as `CREATE DATABASE`).
/// The text is run as given: never build it from untrusted input.
#[pyfunction]
pub fn batch_job(target: &Bound<'_, PyAny>, sql: String) -> PyResult<Job> {
    Ok(Job::new(
        Op::Batch(crate::session::target_of(target)?, sql),
        Finish::Nothing,
    ))
}

/// A job that does nothing: `await bridge.run(noop_job())` measures the bridge alone.
#[pyfunction]
pub fn noop_job() -> Job {
    Job::new(Op::Noop, Finish::Nothing)
}

/// The op deleting the rows `q` matches: one `DELETE` when no model references `q`'s model
/// with CASCADE or SET NULL, else [`Op::DeleteRules`] (the ORM carries those rules out, so
/// the declared behaviour holds whatever the database's constraints say).
pub fn delete_op(target: Target, q: &chakra_dsl::ModelQuery) -> Result<Op> {
    let models = crate::registry::snapshot();
    let meta = &q.meta;
    if meta.primary_key().is_none()
        || !chakra_dsl::relations::on_delete::has_delete_actions(&models, meta)
    {
        return Ok(Op::Execute(target, q.delete()?));
    }
    let keys = chakra::query::delete_rules::keys_select(q)?;
    Ok(Op::DeleteRules(
        target,
        Box::new(DeleteRules {
            keys,
            meta: meta.clone(),
            models,
        }),
    ))
}
