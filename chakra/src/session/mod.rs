//! The unit of work: [`Session`] collects models to write (`add`, `delete`) and writes them in
//! one transaction at `commit`; [`Session::transaction`] runs a closure in a transaction whose
//! [`Tracked`] rows are written back when it commits.
//!
//! - [`pending`]: the work a session holds until commit.
//! - [`tx`]: [`Tx`], the handle a transaction closure gets (nested transactions are
//!   savepoints).
//! - [`tracked`]: [`Tracked<M>`], a row whose field changes are flushed at commit.
//! - [`tx_error`]: [`TransactionError<E>`], how a transaction with the caller's own error
//!   type ([`Session::try_transaction`]) failed.

pub mod pending;
pub mod tracked;
pub mod tx;
pub mod tx_error;

pub use tracked::Tracked;
pub use tx::Tx;
pub use tx_error::TransactionError;

use crate::exec::{Isolation, Pool};
use crate::model::Model;
use chakra_dsl::typed::{Column, ColumnType};
use chakra_dsl::{Error, Result, Value};
use pending::{KeyLink, Pending, PendingWork};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A model added to a [`Session`] ([`Session::add`]): the parent children added with
/// [`Session::add_child`] take their foreign key from, and its key once written
/// ([`Added::key`]), readable while the model itself is still lent to the session.
pub struct Added<M> {
    index: usize,
    generation: u64,
    key: Arc<OnceLock<Value>>,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for Added<M> {
    fn clone(&self) -> Self {
        Added {
            index: self.index,
            generation: self.generation,
            key: self.key.clone(),
            _m: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Added<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Added")
            .field("index", &self.index)
            .field("key", &self.key.get())
            .finish()
    }
}

impl<M: Model> Added<M> {
    /// The model's primary key once the transaction that wrote it committed (the generated
    /// one for a new row); `None` before.
    pub fn key(&self) -> Option<M::PrimaryKey>
    where
        M::PrimaryKey: ColumnType,
    {
        self.key
            .get()
            .and_then(|v| <M::PrimaryKey as ColumnType>::from_value(v.clone()).ok())
    }
}

/// The links and key cells of the work pending in a session.
#[derive(Default)]
struct Handles {
    /// Children whose foreign key is their parent's key.
    links: Vec<KeyLink>,
    /// Added models whose key is reported through an [`Added`].
    keys: Vec<(usize, Arc<OnceLock<Value>>)>,
}

/// How [`Session::transaction_with`] runs its closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionOptions {
    /// How many times the closure may run in all: a retryable error
    /// ([`chakra_dsl::Error::retryable`]: a concurrent update, a deadlock, a serialization
    /// failure, a lost connection, a lock timeout) rolls back and runs it again, up to this
    /// many attempts; the last error is returned. `1` never re-runs. Default 3.
    pub attempts: u32,
    /// The first wait before a re-run; each further one doubles it, and each is jittered
    /// (between half and one and a half times). Default 5 ms.
    pub backoff: Duration,
    /// The isolation level. Default: the server's.
    pub isolation: Isolation,
}

impl Default for TransactionOptions {
    fn default() -> Self {
        TransactionOptions {
            attempts: 3,
            backoff: Duration::from_millis(5),
            isolation: Isolation::Default,
        }
    }
}

impl TransactionOptions {
    /// At most `n` attempts (at least one).
    pub fn attempts(mut self, n: u32) -> Self {
        self.attempts = n.max(1);
        self
    }

    /// The isolation level.
    pub fn isolation(mut self, level: Isolation) -> Self {
        self.isolation = level;
        self
    }

    /// The first backoff.
    pub fn backoff(mut self, d: Duration) -> Self {
        self.backoff = d;
        self
    }

    /// The wait before re-run number `retry` (1 for the first re-run), jittered.
    pub fn delay(&self, retry: u32) -> Duration {
        let base = self
            .backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(10));
        // Cheap jitter without a random-number dependency: the clock's nanoseconds mixed.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mixed = nanos.wrapping_mul(2_654_435_761) >> 16;
        let factor = 0.5 + f64::from(mixed % 1000) / 1000.0;
        base.mul_f64(factor)
    }
}

/// Whether a failed attempt may run again: a retryable error
/// ([`chakra_dsl::Error::retryable`]), or a connection refused before the transaction
/// started (nothing ran, so running it again is safe).
fn rerunnable(e: &chakra_dsl::Error, started: bool) -> bool {
    e.retryable() || (!started && matches!(e, chakra_dsl::Error::Connection(_)))
}

/// A unit of work on one pool. Models added with [`Session::add`] stay borrowed until
/// [`Session::commit`], which writes everything in one transaction and then writes generated
/// keys and database defaults back into them. A session dropped without `commit` writes
/// nothing.
///
/// ```no_run
/// # use chakra::prelude::*;
/// # #[derive(Debug, Clone, Model)]
/// # #[chakra(table = "users")]
/// # struct User { #[chakra(primary_key, auto_increment)] id: i64, username: String }
/// # async fn demo(pool: &Pool) -> chakra::Result<()> {
/// let session = Session::new(pool);
/// let mut user = User { id: 0, username: "alice".into() };
/// session.add(&mut user);
/// session.commit().await?;
/// assert!(user.id > 0);
/// # Ok(()) }
/// ```
pub struct Session<'a> {
    pool: &'a Pool,
    pending: Mutex<Vec<Pending<'a>>>,
    handles: Mutex<Handles>,
    /// Bumped each time the pending work is written: handles of earlier work are stale.
    generation: AtomicU64,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("pool", self.pool)
            .field("pending", &self.lock().len())
            .finish()
    }
}

impl<'a> Session<'a> {
    /// A session on `pool` with nothing pending.
    pub fn new(pool: &'a Pool) -> Session<'a> {
        Session {
            pool,
            pending: Mutex::new(Vec::new()),
            handles: Mutex::new(Handles::default()),
            generation: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pending<'a>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pool this session writes to.
    pub fn pool(&self) -> &'a Pool {
        self.pool
    }

    fn handles(&self) -> std::sync::MutexGuard<'_, Handles> {
        self.handles.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Schedules `model` to be saved at commit: inserted when its auto-increment key is
    /// unset (the generated key is written back), else updated by primary key (inserted if
    /// no row has that key). The session borrows the model until it commits or is dropped;
    /// the returned [`Added`] is what children ([`Session::add_child`]) point at, and says
    /// the key once written ([`Added::key`]).
    pub fn add<M: Model>(&self, model: &'a mut M) -> Added<M> {
        let mut pending = self.lock();
        let index = pending.len();
        pending.push(Pending::Save(model));
        let key = Arc::new(OnceLock::new());
        self.handles().keys.push((index, key.clone()));
        Added {
            index,
            generation: self.generation.load(Ordering::SeqCst),
            key,
            _m: PhantomData,
        }
    }

    /// Schedules `child` like [`Session::add`], with its foreign key `fk` set, when it is
    /// written, to the key of `parent` — a model added to this session before it, whose key
    /// may not exist yet (a new row's generated key). Parents are written first; the key
    /// the child is written with is its parent's.
    ///
    /// ```no_run
    /// # use chakra::prelude::*;
    /// # #[derive(Debug, Clone, Model)]
    /// # #[chakra(table = "orders")]
    /// # struct Order { #[chakra(primary_key, auto_increment)] id: i64, customer: String }
    /// # #[derive(Debug, Clone, Model)]
    /// # #[chakra(table = "order_lines")]
    /// # struct Line { #[chakra(primary_key, auto_increment)] id: i64, order_id: i64, qty: i32 }
    /// # async fn demo(pool: &Pool) -> chakra::Result<()> {
    /// let mut order = Order { id: 0, customer: "ann".into() };
    /// let mut line = Line { id: 0, order_id: 0, qty: 2 };
    /// let session = Session::new(pool);
    /// let o = session.add(&mut order);
    /// session.add_child(&mut line, Line::order_id(), &o)?;
    /// session.commit().await?;
    /// assert_eq!(line.order_id, order.id);
    /// # Ok(()) }
    /// ```
    ///
    /// A `parent` from work this session already wrote is refused (its key is known: set
    /// the field directly).
    pub fn add_child<C: Model, P: Model>(
        &self,
        child: &'a mut C,
        fk: Column<C, P::PrimaryKey>,
        parent: &Added<P>,
    ) -> Result<Added<C>>
    where
        P::PrimaryKey: ColumnType,
    {
        if parent.generation != self.generation.load(Ordering::SeqCst) {
            return Err(Error::InvalidQuery(format!(
                "the {} given as parent of a {} was already written by this session: set {}.{} \
                 to its key directly",
                P::NAME,
                C::NAME,
                C::NAME,
                fk.field_name()
            )));
        }
        let field = C::meta()
            .fields
            .iter()
            .position(|f| f.name == fk.field_name())
            .ok_or_else(|| Error::UnknownField {
                model: C::NAME.to_owned(),
                field: fk.field_name().to_owned(),
                choices: C::meta().fields.iter().map(|f| f.name.clone()).collect(),
            })?;
        let added = self.add(child);
        self.handles().links.push(KeyLink {
            child: added.index,
            field,
            parent: parent.index,
        });
        Ok(added)
    }

    /// Schedules the row of `model` to be deleted at commit, by primary key.
    pub fn delete<M: Model>(&self, model: &M) {
        self.lock().push(Pending::delete(model));
    }

    /// How many writes are pending.
    pub fn pending_len(&self) -> usize {
        self.lock().len()
    }

    /// Writes everything pending in one transaction, in the order it was added, then writes
    /// generated keys and defaults back into the added models. New rows of one model share
    /// one multi-row `INSERT … RETURNING` (keys come back in the order the models were
    /// added; see [`pending`]). On error nothing is written.
    pub async fn commit(self) -> Result<()> {
        if self.lock().is_empty() {
            return Ok(());
        }
        self.transaction(|_| async { Ok(()) }).await
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err` or panics. Work pending in the session is written first, in the same
    /// transaction. Rows fetched with [`Tx::get`] are [`Tracked`]: their changed fields are
    /// written before the commit, each only if the row still holds what was read.
    ///
    /// On a retryable error ([`chakra_dsl::Error::retryable`]) the transaction is rolled
    /// back and `f` runs again (3 attempts in all, with a short jittered backoff): `f` must
    /// be safe to run more than once. [`Session::transaction_with`] sets the attempts and the
    /// isolation level; [`Session::try_transaction`] lets `f` return an error of its own.
    pub async fn transaction<F, Fut, R>(&self, f: F) -> Result<R>
    where
        F: Fn(Tx) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        self.transaction_with(TransactionOptions::default(), f)
            .await
    }

    /// [`Session::transaction`] with options: attempts, backoff, isolation level.
    pub async fn transaction_with<F, Fut, R>(&self, opts: TransactionOptions, f: F) -> Result<R>
    where
        F: Fn(Tx) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        self.run_transaction(opts, f, chakra_dsl::Error::retryable)
            .await
            .map_err(TransactionError::into_error)
    }

    /// Runs `f` in a transaction like [`Session::transaction`], with the caller's own error
    /// type (SeaORM's `TransactionError<E>`; sqlx lets any error roll back too): when `f`
    /// returns `Err(e)` everything is rolled back and the result is
    /// [`TransactionError::Aborted`]`(e)`; when Chakra fails outside `f` (BEGIN, the
    /// pending or tracked writes, COMMIT) it is [`TransactionError::Chakra`]. Inside `f`,
    /// `?` on Chakra's errors works when `E: From<chakra::Error>`.
    ///
    /// `f` runs again only for Chakra's retryable errors: a retryable failure of BEGIN,
    /// COMMIT or the tracked writes, or an `Err` returned after one of `f`'s statements
    /// failed with a retryable error (a deadlock, a serialization failure, a lost
    /// connection… however `f` converted it). An error of `f`'s own otherwise ends it at
    /// once.
    ///
    /// ```no_run
    /// # use chakra::prelude::*;
    /// # #[derive(Debug, Clone, Model)]
    /// # #[chakra(table = "products")]
    /// # struct Product { #[chakra(primary_key)] id: i64, stock: i32 }
    /// #[derive(Debug)]
    /// enum OrderError { OutOfStock, Db(chakra::Error) }
    /// impl From<chakra::Error> for OrderError {
    ///     fn from(e: chakra::Error) -> Self { OrderError::Db(e) }
    /// }
    /// # async fn demo(pool: &Pool) -> Result<(), OrderError> {
    /// let session = Session::new(pool);
    /// let left = session
    ///     .try_transaction(|tx| async move {
    ///         let mut p = tx.get::<Product>(1).await?.ok_or(OrderError::OutOfStock)?;
    ///         if p.stock < 1 {
    ///             return Err(OrderError::OutOfStock); // rolled back
    ///         }
    ///         p.stock -= 1;
    ///         Ok(p.stock)
    ///     })
    ///     .await
    ///     .map_err(TransactionError::into_inner)?;
    /// # Ok(()) }
    /// ```
    pub async fn try_transaction<F, Fut, R, E>(
        &self,
        f: F,
    ) -> std::result::Result<R, TransactionError<E>>
    where
        F: Fn(Tx) -> Fut,
        Fut: Future<Output = std::result::Result<R, E>>,
    {
        self.try_transaction_with(TransactionOptions::default(), f)
            .await
    }

    /// [`Session::try_transaction`] with options: attempts, backoff, isolation level.
    pub async fn try_transaction_with<F, Fut, R, E>(
        &self,
        opts: TransactionOptions,
        f: F,
    ) -> std::result::Result<R, TransactionError<E>>
    where
        F: Fn(Tx) -> Fut,
        Fut: Future<Output = std::result::Result<R, E>>,
    {
        self.run_transaction(opts, f, |_| false).await
    }

    /// The attempts of a transaction: `retryable` says whether an error `f` returned is one
    /// to run again for (besides an error returned after a retryable statement failure).
    async fn run_transaction<F, Fut, R, E>(
        &self,
        opts: TransactionOptions,
        f: F,
        retryable: impl Fn(&E) -> bool,
    ) -> std::result::Result<R, TransactionError<E>>
    where
        F: Fn(Tx) -> Fut,
        Fut: Future<Output = std::result::Result<R, E>>,
    {
        let (links, keys) = {
            let mut h = self.handles();
            (std::mem::take(&mut h.links), std::mem::take(&mut h.keys))
        };
        let mut work = PendingWork::new(std::mem::take(&mut *self.lock())).with_links(links);
        // Models added from here on (inside `f`) are new work, with handles of their own.
        let generation = self.generation.fetch_add(1, Ordering::SeqCst);
        let mut attempt = 1;
        let mut relock = Vec::new();
        let result = loop {
            let a = tx::run_top(self.pool, &mut work, opts.isolation, &relock, &f).await;
            let again = match &a.result {
                Ok(_) => false,
                Err(TransactionError::Chakra(e)) => rerunnable(e, a.started),
                Err(TransactionError::Aborted(e)) => a.retryable_seen || retryable(e),
            };
            if again && attempt < opts.attempts.max(1) {
                tracing::debug!(target: "chakra::sql", attempt, "retryable error: running the transaction again");
                if a.started {
                    // The re-run locks what this attempt read (escalating from optimistic
                    // to pessimistic for the contended rows only).
                    relock = a.read;
                }
                tokio::time::sleep(opts.delay(attempt)).await;
                attempt += 1;
                continue;
            }
            break a.result;
        };
        match result {
            Ok(r) => {
                // The written work's handles report their keys.
                for (i, cell) in keys {
                    if let Some(k) = work.key_of(i) {
                        let _ = cell.set(k);
                    }
                }
                work.apply_returned()?;
                Ok(r)
            }
            Err(e) => {
                // The work goes back in front of what was added meanwhile, with its links and
                // key cells (those added meanwhile shift behind it).
                let links = work.links().to_vec();
                let mut pending = self.lock();
                let later = std::mem::take(&mut *pending);
                *pending = work.into_items();
                let offset = pending.len();
                let mut h = self.handles();
                let later_links = std::mem::take(&mut h.links);
                let later_keys = std::mem::take(&mut h.keys);
                if later.is_empty() {
                    // Nothing was added meanwhile: the handles of the work are current again.
                    self.generation.store(generation, Ordering::SeqCst);
                }
                h.links = links;
                h.links.extend(later_links.into_iter().map(|l| KeyLink {
                    child: l.child + offset,
                    field: l.field,
                    parent: l.parent + offset,
                }));
                h.keys = keys;
                h.keys
                    .extend(later_keys.into_iter().map(|(i, c)| (i + offset, c)));
                pending.extend(later);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rerunnable;
    use chakra_dsl::Error;

    #[test]
    fn a_connection_refused_before_begin_is_rerun_only_then() {
        let refused = Error::Connection("connection refused".into());
        assert!(rerunnable(&refused, false));
        assert!(!rerunnable(&refused, true));
        let conflict = Error::ConcurrentUpdate {
            model: "Account".into(),
            table: "accounts".into(),
            key: "1".into(),
        };
        assert!(rerunnable(&conflict, true));
        assert!(!rerunnable(&Error::InvalidQuery("x".into()), false));
    }
}
