//! [`Tx`]: the handle a transaction closure receives. It runs queries in the transaction
//! (`User::query().all(&tx)`), fetches [`Tracked`] rows (`tx.get::<User>(1)`), and opens nested
//! transactions as savepoints (`tx.transaction(|tx| …)`).

use super::pending::{Pendable, PendingWork};
use super::tracked::Tracked;
use super::TransactionError;
use crate::exec::{Executor, Pool, Row, Transaction};
use crate::model::hooks::Hook;
use crate::model::{select_by_pk, Model};
use crate::sql::cache::ShapeKind;
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::meta::ModelMeta;
use chakra_dsl::typed::KeyType;
use chakra_dsl::{Error, Result, Statement};
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// A write recorded by a [`Tracked`] row when it was dropped, at a savepoint depth.
pub(crate) struct DirtyWrite {
    pub(crate) depth: u32,
    pub(crate) model: &'static str,
    pub(crate) table: String,
    /// The row's key, one value per key field (several for a composite key).
    pub(crate) key: Vec<chakra_dsl::Value>,
    /// The guarded UPDATE: zero rows matched is a concurrent update.
    pub(crate) stmt: Result<Statement>,
    /// A copy of the row as it will be written, whose save hooks run around the UPDATE
    /// (`pre_save`, then `post_save` with `created` false); `None` for a model without
    /// hooks.
    pub(crate) hooks: Option<Box<dyn Pendable>>,
}

pub(crate) struct TxShared {
    conn: tokio::sync::Mutex<Option<Transaction>>,
    dialect: Dialect,
    depth: AtomicU32,
    dirty: Mutex<Vec<DirtyWrite>>,
    /// The rows read with [`Tx::get`] (model, key): a re-run after a conflict locks them.
    read: Mutex<Vec<ReadRow>>,
    /// Whether a statement of this transaction failed with a retryable error: an attempt
    /// that then ends with the caller's own error (which may carry the converted Chakra
    /// error) is run again.
    retryable_seen: std::sync::atomic::AtomicBool,
}

/// A row a transaction read: its model and primary key (one value per key field).
pub(crate) type ReadRow = (Arc<ModelMeta>, Vec<chakra_dsl::Value>);

impl TxShared {
    /// Records the changes of a tracked row, to be written before the enclosing
    /// transaction or savepoint ends.
    pub(crate) fn record(&self, mut w: DirtyWrite) {
        w.depth = self.depth.load(Ordering::SeqCst);
        self.dirty.lock().unwrap_or_else(|e| e.into_inner()).push(w);
    }

    /// Notes a statement's result: a retryable error marks the attempt as one to re-run.
    fn seen<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.retryable() {
                self.retryable_seen.store(true, Ordering::SeqCst);
            }
        }
        r
    }

    fn take_dirty(&self, from_depth: u32) -> Vec<DirtyWrite> {
        let mut all = self.dirty.lock().unwrap_or_else(|e| e.into_inner());
        let (take, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut *all)
            .into_iter()
            .partition(|w| w.depth >= from_depth);
        *all = keep;
        take
    }
}

/// A transaction in progress, as handed to a `transaction` closure. Cheap to clone; every
/// clone is the same transaction.
#[derive(Clone)]
pub struct Tx {
    shared: Arc<TxShared>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("dialect", &self.shared.dialect)
            .field("depth", &self.shared.depth.load(Ordering::SeqCst))
            .finish()
    }
}

fn ended() -> Error {
    Error::Transaction("the transaction has already ended".into())
}

impl Tx {
    fn new(t: Transaction) -> Tx {
        Tx {
            shared: Arc::new(TxShared {
                dialect: t.dialect(),
                conn: tokio::sync::Mutex::new(Some(t)),
                depth: AtomicU32::new(0),
                dirty: Mutex::new(Vec::new()),
                read: Mutex::new(Vec::new()),
                retryable_seen: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// The SQL dialect.
    pub fn dialect(&self) -> Dialect {
        self.shared.dialect
    }

    /// How deep in nested transactions this is (0 = the outer transaction).
    pub fn depth(&self) -> u32 {
        self.shared.depth.load(Ordering::SeqCst)
    }

    /// The row of `M` with primary key `pk` (a tuple for a composite key: `tx.get::<M>((1,
    /// 2))`), tracked: field changes made through it are written when the transaction (or
    /// savepoint) commits. `None` when there is no such row.
    pub async fn get<M: Model>(&self, pk: M::PrimaryKey) -> Result<Option<Tracked<M>>> {
        let keys = pk.key_values();
        let key = keys.clone();
        let q = select_by_pk(M::meta(), ShapeKind::GetByPk, self.dialect(), keys)?;
        let mut exec = self;
        let mut rows = exec.fetch_compiled(&q).await?;
        self.shared
            .read
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((M::meta().clone(), key));
        match rows.pop() {
            Some(row) => Ok(Some(self.track(M::from_row(row)?))),
            None => Ok(None),
        }
    }

    /// [`Tx::get`] with the row locked until the transaction ends (`SELECT … FOR UPDATE`):
    /// a concurrent transaction wanting it waits, so this one's write cannot conflict. On
    /// SQLite a plain read (its transactions are serialised anyway).
    pub async fn get_for_update<M: Model>(&self, pk: M::PrimaryKey) -> Result<Option<Tracked<M>>> {
        let q = select_by_pk(
            M::meta(),
            ShapeKind::GetByPkForUpdate,
            self.dialect(),
            pk.key_values(),
        )?;
        let mut exec = self;
        let mut rows = exec.fetch_compiled(&q).await?;
        match rows.pop() {
            Some(row) => Ok(Some(self.track(M::from_row(row)?))),
            None => Ok(None),
        }
    }

    /// Tracks a model loaded in this transaction (for instance by a query run on `&tx`), so
    /// its field changes are written at commit.
    pub fn track<M: Model>(&self, model: M) -> Tracked<M> {
        Tracked::new(model, self.shared.clone())
    }

    /// Runs `f` in a nested transaction (a savepoint): its work is kept when it returns
    /// `Ok`, undone when it returns `Err` or panics, and the outer transaction goes on either
    /// way. [`Tx::try_transaction`] takes a closure with an error type of its own.
    pub async fn transaction<F, Fut, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        self.try_transaction(f)
            .await
            .map_err(TransactionError::into_error)
    }

    /// [`Tx::transaction`] with the caller's error type: a savepoint undone when `f` returns
    /// `Err(e)` ([`TransactionError::Aborted`]`(e)`); Chakra's own failures (the savepoint,
    /// the tracked rows' writes) are [`TransactionError::Chakra`].
    pub async fn try_transaction<F, Fut, R, E>(
        &self,
        f: F,
    ) -> std::result::Result<R, TransactionError<E>>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = std::result::Result<R, E>>,
    {
        self.flush(0).await?;
        self.with_conn(|t| Box::pin(t.savepoint())).await?;
        let depth = self.shared.depth.fetch_add(1, Ordering::SeqCst) + 1;
        let outcome = call_caught(f, self.clone()).await;
        let result = match outcome {
            Ok(Ok(r)) => match self.flush(depth).await {
                Ok(()) => Ok(r),
                Err(e) => Err(TransactionError::Chakra(e)),
            },
            Ok(Err(e)) => Err(TransactionError::Aborted(e)),
            Err(panic) => {
                self.shared.take_dirty(depth);
                self.shared.depth.fetch_sub(1, Ordering::SeqCst);
                let _ = self
                    .with_conn(|t| Box::pin(t.rollback_to_savepoint()))
                    .await;
                std::panic::resume_unwind(panic);
            }
        };
        self.shared.depth.fetch_sub(1, Ordering::SeqCst);
        match result {
            Ok(r) => {
                self.with_conn(|t| Box::pin(t.release_savepoint())).await?;
                Ok(r)
            }
            Err(e) => {
                self.shared.take_dirty(depth);
                self.with_conn(|t| Box::pin(t.rollback_to_savepoint()))
                    .await?;
                Err(e)
            }
        }
    }

    /// Writes the changes tracked rows recorded at depth `from_depth` or deeper: per table
    /// in primary-key order (so concurrent transactions lock shared rows in one order), each
    /// a compare-and-set UPDATE; one that matches no row is [`Error::ConcurrentUpdate`]. The
    /// UPDATEs are pipelined (one round trip on PostgreSQL); the server runs them in order.
    /// A row of a model with hooks gets `pre_save` before the UPDATEs and
    /// `post_save(created = false)` after them, in flush order, in this transaction.
    async fn flush(&self, from_depth: u32) -> Result<()> {
        let r = self.flush_writes(from_depth).await;
        self.shared.seen(r)
    }

    /// [`Tx::flush`]'s writes.
    async fn flush_writes(&self, from_depth: u32) -> Result<()> {
        let mut writes = self.shared.take_dirty(from_depth);
        if writes.is_empty() {
            return Ok(());
        }
        chakra_dsl::tracked::flush_order(&mut writes, |w| &w.table, |w| &w.key);
        let mut guard = self.shared.conn.lock().await;
        let t = guard.as_mut().ok_or_else(ended)?;
        for h in writes.iter().filter_map(|w| w.hooks.as_ref()) {
            h.hook(Hook::PreSave, t).await?;
        }
        let mut stmts = Vec::with_capacity(writes.len());
        let mut rows = Vec::with_capacity(writes.len());
        for w in writes {
            stmts.push(w.stmt?);
            rows.push((w.model, w.table, w.key, w.hooks));
        }
        let counts = t.execute_pipelined(&stmts).await?;
        if let Some(k) = counts.iter().position(|&n| n == 0) {
            let (model, table, key, _) = rows.swap_remove(k);
            return Err(Error::ConcurrentUpdate {
                model: model.to_owned(),
                table,
                key: chakra_dsl::tracked::key_text(&key),
            });
        }
        for h in rows.iter().filter_map(|r| r.3.as_ref()) {
            h.hook(Hook::PostSave { created: false }, t).await?;
        }
        Ok(())
    }

    async fn with_conn<T>(
        &self,
        f: impl for<'c> FnOnce(&'c mut Transaction) -> futures_util::future::BoxFuture<'c, Result<T>>,
    ) -> Result<T> {
        let mut guard = self.shared.conn.lock().await;
        let t = guard.as_mut().ok_or_else(ended)?;
        f(t).await
    }

    async fn take_conn(&self) -> Result<Transaction> {
        self.shared.conn.lock().await.take().ok_or_else(ended)
    }
}

/// Calls `f(tx)` and awaits it, catching a panic in either.
async fn call_caught<F, Fut, T>(
    f: F,
    tx: Tx,
) -> std::result::Result<T, Box<dyn std::any::Any + Send>>
where
    F: FnOnce(Tx) -> Fut,
    Fut: Future<Output = T>,
{
    match std::panic::catch_unwind(AssertUnwindSafe(|| f(tx))) {
        Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
        Err(panic) => Err(panic),
    }
}

/// What one attempt of a top-level transaction came to.
pub(crate) struct Attempt<R, E> {
    /// Its result.
    pub(crate) result: std::result::Result<R, TransactionError<E>>,
    /// Whether a statement of it failed with a retryable error (so an error of the caller's
    /// own, returned after it, is worth a re-run too).
    pub(crate) retryable_seen: bool,
    /// The rows it read with [`Tx::get`] (a re-run locks them first).
    pub(crate) read: Vec<ReadRow>,
    /// False when the transaction never started (BEGIN was not reached: the connection was
    /// refused), so running it again is safe whatever the error.
    pub(crate) started: bool,
}

/// Runs a top-level transaction on `pool`: the session's pending `work` first, then (on a
/// re-run, where rows can be locked) locks on the rows of `relock` ([`chakra_dsl::tracked::relock_statements`]),
/// then `f`, then the tracked rows' changes, then COMMIT. Rolls back on `Err` and on panic
/// (and resumes the panic).
pub(crate) async fn run_top<F, Fut, R, E>(
    pool: &Pool,
    work: &mut PendingWork<'_>,
    isolation: crate::exec::Isolation,
    relock: &[ReadRow],
    f: F,
) -> Attempt<R, E>
where
    F: FnOnce(Tx) -> Fut,
    Fut: Future<Output = std::result::Result<R, E>>,
{
    let mut t = match pool.begin_with(crate::exec::TxOptions { isolation }).await {
        Ok(t) => t,
        Err(e) => {
            return Attempt {
                result: Err(TransactionError::Chakra(e)),
                retryable_seen: false,
                read: Vec::new(),
                started: false,
            }
        }
    };
    let done = |result, read| Attempt {
        result,
        retryable_seen: false,
        read,
        started: true,
    };
    if let Err(e) = work.write(&mut t).await {
        let _ = t.rollback().await;
        return done(Err(TransactionError::Chakra(e)), Vec::new());
    }
    // Where rows can be locked (PostgreSQL, MySQL; SQLite's transactions serialise writers).
    if !relock.is_empty() && t.dialect().sql().row_locks() {
        let locked = match chakra_dsl::tracked::relock_statements(relock) {
            Ok(stmts) => t.execute_pipelined(&stmts).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = locked {
            let _ = t.rollback().await;
            return done(Err(TransactionError::Chakra(e)), relock.to_vec());
        }
    }
    let tx = Tx::new(t);
    let outcome = call_caught(f, tx.clone()).await;
    let read = std::mem::take(&mut *tx.shared.read.lock().unwrap_or_else(|e| e.into_inner()));
    let seen = tx.shared.retryable_seen.load(Ordering::SeqCst);
    let done = |result, read| Attempt {
        result,
        retryable_seen: seen,
        read,
        started: true,
    };
    let result = match outcome {
        Ok(Ok(r)) => tx
            .flush(0)
            .await
            .map_err(TransactionError::Chakra)
            .map(|()| r),
        Ok(Err(e)) => Err(TransactionError::Aborted(e)),
        Err(panic) => {
            tx.shared.take_dirty(0);
            if let Ok(t) = tx.take_conn().await {
                let _ = t.rollback().await;
            }
            std::panic::resume_unwind(panic);
        }
    };
    let t = match tx.take_conn().await {
        Ok(t) => t,
        Err(e) => return done(Err(TransactionError::Chakra(e)), read),
    };
    match result {
        Ok(r) => done(
            t.commit()
                .await
                .map(|()| r)
                .map_err(TransactionError::Chakra),
            read,
        ),
        Err(e) => {
            tx.shared.take_dirty(0);
            let _ = t.rollback().await;
            done(Err(e), read)
        }
    }
}

impl Executor for &Tx {
    fn dialect(&self) -> Dialect {
        self.shared.dialect
    }
    async fn fetch(&mut self, stmt: &Statement) -> Result<Vec<Row>> {
        let mut guard = self.shared.conn.lock().await;
        let r = guard.as_mut().ok_or_else(ended)?.fetch(stmt).await;
        self.shared.seen(r)
    }
    async fn execute(&mut self, stmt: &Statement) -> Result<u64> {
        let mut guard = self.shared.conn.lock().await;
        let r = guard.as_mut().ok_or_else(ended)?.execute(stmt).await;
        self.shared.seen(r)
    }
    async fn fetch_compiled(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        let mut guard = self.shared.conn.lock().await;
        let r = guard.as_mut().ok_or_else(ended)?.fetch_compiled(q).await;
        self.shared.seen(r)
    }
    async fn execute_compiled(&mut self, q: &CompiledQuery) -> Result<u64> {
        let mut guard = self.shared.conn.lock().await;
        let r = guard.as_mut().ok_or_else(ended)?.execute_compiled(q).await;
        self.shared.seen(r)
    }
    async fn fetch_models<M: chakra_dsl::typed::ReadRow>(
        &mut self,
        stmt: &Statement,
    ) -> Result<Vec<M>> {
        let mut guard = self.shared.conn.lock().await;
        let tx = guard.as_mut().ok_or_else(ended)?;
        let r = Executor::fetch_models::<M>(tx, stmt).await;
        self.shared.seen(r)
    }
    async fn fetch_compiled_models<M: chakra_dsl::typed::ReadRow>(
        &mut self,
        q: &CompiledQuery,
    ) -> Result<Vec<M>> {
        let mut guard = self.shared.conn.lock().await;
        let r = guard
            .as_mut()
            .ok_or_else(ended)?
            .fetch_compiled_models::<M>(q)
            .await;
        self.shared.seen(r)
    }
    async fn fetch_named_compiled(&mut self, q: &CompiledQuery) -> Result<crate::exec::NamedRows> {
        let mut guard = self.shared.conn.lock().await;
        let r = guard
            .as_mut()
            .ok_or_else(ended)?
            .fetch_named_compiled(q)
            .await;
        self.shared.seen(r)
    }
    async fn delete_with_rules(
        &mut self,
        keys: &chakra_dsl::Select,
        meta: &chakra_dsl::ModelMeta,
        models: &(dyn chakra_dsl::relations::Models + Sync),
    ) -> Result<u64> {
        let mut guard = self.shared.conn.lock().await;
        let tx = guard.as_mut().ok_or_else(ended)?;
        crate::query::delete_rules::delete_with_rules(tx, keys, meta, models).await
    }
    async fn tx_scope(&mut self) -> Result<crate::exec::TxScope<'_>> {
        let tx: &Tx = self;
        Ok(crate::exec::TxScope::Guarded(
            tx.shared.conn.lock().await,
            &tx.shared.retryable_seen,
        ))
    }
}
