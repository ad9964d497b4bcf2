//! [`Database`]: one named database (a primary pool and its replicas), and [`Scope`], the
//! executor that routes a read-your-writes scope's statements: writes, transactions and
//! locking reads to the primary; plain reads, when replica reads are on, to a replica that
//! has replayed the scope's writes (else the primary).

use super::placement::Placement;
use super::replica::{Ready, Replica};
use super::settings::{DatabaseConfig, ReplicaSettings};
use super::wal::{requirement, Need, WalMark};
use crate::exec::row::NamedRows;
use crate::exec::{Executor, Pool, PoolOptions, Row, Transaction, TxScope};
use crate::sql::{compile_parts, CompiledQuery, Dialect};
use chakra_dsl::relations::Models;
use chakra_dsl::typed::ReadRow;
use chakra_dsl::{Error, ModelMeta, Result, Select, Statement};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Inner {
    name: String,
    primary: Pool,
    replicas: Vec<Replica>,
    settings: ReplicaSettings,
    /// The scope of reads and writes made through the database itself (`&Database` as an
    /// executor): read-your-writes across the whole process.
    shared: WalMark,
    /// Where the next replica choice starts (round robin).
    next: AtomicUsize,
    /// Plain reads served by a replica, and by the primary.
    on_replica: AtomicU64,
    on_primary: AtomicU64,
}

/// How many plain reads of a [`Database`] ran where (monitoring, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadCounts {
    /// Served by a replica.
    pub replica: u64,
    /// Served by the primary (replica reads off, a scope's recent write, no usable replica,
    /// a replica read that failed and ran again).
    pub primary: u64,
}

/// One named database: its primary's pool and its replicas. Cheap to clone (shared).
///
/// `&Database` is an [`Executor`]: statements run on the primary, plain reads on a replica
/// when the database's `replica_reads` is on, with read-your-writes for the whole process.
/// [`Database::scope`] makes a narrower scope (a request, a job) a caller carries.
#[derive(Clone)]
pub struct Database(Arc<Inner>);

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("name", &self.0.name)
            .field("primary", &self.0.primary)
            .field("replicas", &self.0.replicas.len())
            .finish()
    }
}

impl Database {
    /// Connects to the primary (failing at once when it cannot be reached) and makes the
    /// replicas' pools (connected on first use: a replica that is down is skipped).
    /// Replicas are PostgreSQL standbys: a replica of another dialect is an
    /// [`Error::Config`].
    pub async fn connect(name: &str, config: &DatabaseConfig) -> Result<Database> {
        let opts = PoolOptions::default().with_settings(&config.settings);
        let primary = Pool::connect_with(&config.url, opts.clone()).await?;
        Database::with_primary(name, primary, config)
    }

    /// A database around an already connected primary pool.
    pub fn with_primary(name: &str, primary: Pool, config: &DatabaseConfig) -> Result<Database> {
        let mut replicas = Vec::new();
        for url in &config.replicas {
            if crate::config::DatabaseUrl::parse(url)?.dialect() != Dialect::Postgres
                || primary.dialect() != Dialect::Postgres
            {
                return Err(Error::Config(format!(
                    "database {name:?}: replicas are PostgreSQL standbys; {} with a {} primary cannot be one",
                    crate::config::redact(url),
                    primary.dialect().name()
                )));
            }
            let opts = PoolOptions {
                // A replica that does not answer is skipped, not waited for.
                wait_timeout: Duration::from_secs(2),
                ..PoolOptions::default().with_settings(&config.settings)
            };
            replicas.push(Replica::new(url.clone(), Pool::build_with(url, opts)?));
        }
        Ok(Database(Arc::new(Inner {
            name: name.to_owned(),
            primary,
            replicas,
            settings: config.replica.clone(),
            shared: WalMark::new(),
            next: AtomicUsize::new(0),
            on_replica: AtomicU64::new(0),
            on_primary: AtomicU64::new(0),
        })))
    }

    /// Gives the database (its primary's pool, every clone of it, and its replicas' pools)
    /// the placement of the [`super::Databases`] it belongs to (the first one set stays).
    pub(crate) fn set_placement(&self, placement: Arc<Placement>) {
        self.0.primary.set_placement(placement.clone());
        for r in &self.0.replicas {
            r.pool().set_placement(placement.clone());
        }
    }

    /// Refuses a read statement whose tables live on different databases
    /// ([`Error::CrossDatabase`]), when the database belongs to a [`super::Databases`].
    pub fn check_statement(&self, stmt: &Statement) -> Result<()> {
        self.0.primary.check_placement(stmt)
    }

    /// Its name (`default`, `analytics`).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The primary's pool: writes, transactions, sessions and migrations run there.
    pub fn primary(&self) -> &Pool {
        &self.0.primary
    }

    /// Its replicas.
    pub fn replicas(&self) -> &[Replica] {
        &self.0.replicas
    }

    /// How reads use the replicas.
    pub fn replica_settings(&self) -> &ReplicaSettings {
        &self.0.settings
    }

    /// How many plain reads ran on a replica and on the primary so far.
    pub fn read_counts(&self) -> ReadCounts {
        ReadCounts {
            replica: self.0.on_replica.load(Ordering::Relaxed),
            primary: self.0.on_primary.load(Ordering::Relaxed),
        }
    }

    /// The SQL dialect.
    pub fn dialect(&self) -> Dialect {
        self.0.primary.dialect()
    }

    /// A new read-your-writes scope: writes made through it (statements, its transactions,
    /// sessions on [`Scope::pool`]) are seen by its later reads, wherever they run.
    pub fn scope(&self) -> Scope {
        Scope::new(self.clone(), WalMark::new())
    }

    /// A scope sharing `mark` with others (the Python door's contextvar scopes).
    pub fn scope_with(&self, mark: WalMark) -> Scope {
        Scope::new(self.clone(), mark)
    }

    /// The process-wide scope `&Database` runs statements in.
    pub fn shared_scope(&self) -> Scope {
        Scope::new(self.clone(), self.0.shared.clone())
    }

    /// The process-wide scope with replica reads on for its plain reads
    /// (`User::objects().all(&db.replica())`).
    pub fn replica(&self) -> Scope {
        self.shared_scope().replica(true)
    }

    /// The replica a read should run on now, after waiting (up to `replica_wait`) for one
    /// to replay what `mark` recorded; `None`: the primary.
    async fn choose(&self, mark: &WalMark) -> Option<&Replica> {
        let s = &self.0.settings;
        let replicas = &self.0.replicas;
        if replicas.is_empty() {
            return None;
        }
        let need = match requirement(s.policy, mark.written(), s.sticky_for) {
            Need::Any => None,
            Need::Replayed(lsn) => Some(lsn),
            Need::Primary => {
                tracing::debug!(target: "chakra::replicas", database = %self.0.name,
                    policy = s.policy.name(), "read after a write in this scope: on the primary");
                return None;
            }
        };
        let deadline = Instant::now() + s.wait;
        let start = self.0.next.fetch_add(1, Ordering::Relaxed);
        let mut pause = Duration::from_millis(1);
        loop {
            let mut pending = false;
            for i in 0..replicas.len() {
                let r = &replicas[(start + i) % replicas.len()];
                match r.ready(need, s.max_lag, s.retry_after).await {
                    Ready::Yes => return Some(r),
                    Ready::NotYet => pending = true,
                    Ready::No => {}
                }
            }
            let now = Instant::now();
            if !pending || now >= deadline {
                tracing::debug!(target: "chakra::replicas", database = %self.0.name,
                    waited_for = ?need.map(|l| l.to_string()),
                    "no replica usable{}: reading on the primary",
                    if pending { " in time" } else { "" });
                return None;
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

/// A read-your-writes scope on one [`Database`], and the [`Executor`] that routes its
/// statements (`User::objects().all(&scope)`, `user.save(&scope)`). Clones share the scope.
///
/// Writes, statements that lock rows (`FOR UPDATE`), raw SQL not marked read-only, and
/// every statement of a transaction (begun with [`Scope::begin`], or a session on
/// [`Scope::pool`]) run on the primary; after each write commits, the primary's WAL
/// position is recorded in the scope. Plain reads run on a replica when replica reads are
/// on (the database's `replica_reads`, or [`Scope::replica`]) and the scope's policy
/// allows: under `exact`, only on a replica that has replayed the scope's last write,
/// waiting up to `replica_wait`, else on the primary. A read that fails on a replica runs
/// again on the primary (a read changes nothing), and a replica that failed is skipped for
/// `replica_retry`.
#[derive(Clone, Debug)]
pub struct Scope {
    db: Database,
    mark: WalMark,
    writer: Pool,
    replica: Option<bool>,
    raw_reads: bool,
}

/// Which errors on a replica say the replica itself is unusable (rather than the query).
fn replica_broken(e: &Error) -> bool {
    matches!(
        e,
        Error::Connection(_) | Error::ConnectionLost(_) | Error::ConnectionTimeout { .. }
    )
}

enum Read<'q> {
    Stmt(&'q Statement),
    Compiled(&'q CompiledQuery),
    Named(&'q CompiledQuery),
}

enum Out {
    Rows(Vec<Row>),
    Named(NamedRows),
}

/// A plain read a scope routes: run on the pool [`Scope::read`] chooses (a replica's or
/// the primary's).
trait RoutedRead: Sync {
    /// What the read returns.
    type Out: Send;
    /// Runs the read on `pool`.
    fn on<'p>(&'p self, pool: &'p Pool) -> impl Future<Output = Result<Self::Out>> + Send + 'p;
}

impl RoutedRead for Read<'_> {
    type Out = Out;
    async fn on(&self, pool: &Pool) -> Result<Out> {
        Ok(match self {
            Read::Stmt(s) => Out::Rows(pool.fetch_unchecked(s).await?),
            Read::Compiled(q) => Out::Rows(pool.fetch_compiled(q).await?),
            Read::Named(q) => Out::Named(pool.fetch_named_compiled(q).await?),
        })
    }
}

/// A plain read of models, each row read by its generated row reader ([`ReadRow`]) on
/// whichever pool serves it.
struct ModelsRead<'q, M>(&'q CompiledQuery, PhantomData<fn() -> M>);

impl<M: ReadRow> RoutedRead for ModelsRead<'_, M> {
    type Out = Vec<M>;
    fn on<'p>(&'p self, pool: &'p Pool) -> impl Future<Output = Result<Vec<M>>> + Send + 'p {
        pool.fetch_compiled_models::<M>(self.0)
    }
}

impl Scope {
    fn new(db: Database, mark: WalMark) -> Scope {
        let writer = db.0.primary.marking(&mark);
        Scope {
            db,
            mark,
            writer,
            replica: None,
            raw_reads: false,
        }
    }

    /// This scope with its plain reads sent to replicas (`true`) or kept on the primary
    /// (`false`), whatever the database's `replica_reads` says. Shares the scope's writes.
    pub fn replica(mut self, on: bool) -> Scope {
        self.replica = Some(on);
        self
    }

    /// This scope with raw SQL reads (`raw_fetch`, `raw_as`) allowed on a replica: the
    /// caller vouches that the text only reads. Without it raw SQL runs on the primary.
    pub fn raw_read_only(mut self) -> Scope {
        self.raw_reads = true;
        self
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The scope's shared cell (what it has written).
    pub fn mark(&self) -> &WalMark {
        &self.mark
    }

    /// The primary's pool, recording this scope's writes: give it to a [`crate::Session`],
    /// or begin transactions on it.
    pub fn pool(&self) -> &Pool {
        &self.writer
    }

    /// Begins a transaction on the primary; its commit is recorded in the scope.
    pub async fn begin(&self) -> Result<Transaction> {
        self.writer.begin().await
    }

    /// The primary's pool as this scope routes it: a pool whose plain reads outside
    /// transactions go where the scope's reads go (a replica that has replayed the scope's
    /// writes, else the primary) and whose writes and transactions are recorded in the
    /// scope. Anything that takes a [`Pool`] takes it (`Session::new(&routed)`).
    pub fn routed_pool(&self) -> Pool {
        self.db.0.primary.routing(self.clone())
    }

    /// True when raw SQL reads may run on a replica ([`Scope::raw_read_only`]).
    pub fn raw_reads(&self) -> bool {
        self.raw_reads
    }

    /// A plain read routed by this scope (from a [`Scope::routed_pool`]).
    pub(crate) fn routed_rows<'a>(
        &'a self,
        q: &'a CompiledQuery,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Row>>> + Send + 'a>> {
        Box::pin(async move { Ok(rows(self.read(Read::Compiled(q)).await?)) })
    }

    /// A plain read of models routed by this scope (from a [`Scope::routed_pool`]), each
    /// row read by its generated row reader on the pool that serves it.
    pub(crate) fn routed_models<'a, M: ReadRow>(
        &'a self,
        q: &'a CompiledQuery,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Vec<M>>> + Send + 'a>> {
        Box::pin(async move { self.read(ModelsRead(q, PhantomData)).await })
    }

    /// A raw read routed by this scope (from a [`Scope::routed_pool`]).
    pub(crate) fn routed_named<'a>(
        &'a self,
        q: &'a CompiledQuery,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<NamedRows>> + Send + 'a>> {
        Box::pin(async move {
            match self.read(Read::Named(q)).await? {
                Out::Named(n) => Ok(n),
                Out::Rows(_) => unreachable!("a named read returns named rows"),
            }
        })
    }

    fn replica_on(&self) -> bool {
        self.replica.unwrap_or(self.db.0.settings.reads)
    }

    /// Runs a plain read: on a replica when one may serve it, else (or when it fails there)
    /// on the primary.
    async fn read<R: RoutedRead>(&self, op: R) -> Result<R::Out> {
        if self.replica_on() {
            if let Some(r) = self.db.choose(&self.mark).await {
                match op.on(r.pool()).await {
                    Ok(out) => {
                        tracing::trace!(target: "chakra::replicas", replica = %r.url(), "read on a replica");
                        self.db.0.on_replica.fetch_add(1, Ordering::Relaxed);
                        return Ok(out);
                    }
                    Err(e) => {
                        if replica_broken(&e) {
                            r.mark_down(&e.to_string(), self.db.0.settings.retry_after);
                        } else {
                            tracing::info!(target: "chakra::replicas", replica = %r.url(), error = %e,
                                "read failed on a replica: running it on the primary");
                        }
                    }
                }
            }
        }
        self.db.0.on_primary.fetch_add(1, Ordering::Relaxed);
        op.on(&self.writer).await
    }
}

/// True for a statement that only reads and locks nothing.
fn plain_read(stmt: &Statement) -> bool {
    match stmt {
        Statement::Select(s) | Statement::Count(s) | Statement::Exists(s) => s.lock.is_none(),
        _ => false,
    }
}

fn rows(out: Out) -> Vec<Row> {
    match out {
        Out::Rows(r) => r,
        Out::Named(n) => n.rows,
    }
}

impl Scope {
    /// A write's error, with a read-only server named by its database.
    fn named<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| match e {
            Error::ReadOnlyDatabase { database, reason }
                if database == crate::exec::errors::READ_ONLY_SERVER =>
            {
                Error::ReadOnlyDatabase {
                    database: format!("{:?} (primary)", self.db.name()),
                    reason,
                }
            }
            other => other,
        })
    }
}

impl Executor for &Scope {
    fn dialect(&self) -> Dialect {
        self.writer.dialect()
    }
    async fn fetch(&mut self, stmt: &Statement) -> Result<Vec<Row>> {
        self.db.check_statement(stmt)?;
        if plain_read(stmt) {
            return Ok(rows(self.read(Read::Stmt(stmt)).await?));
        }
        self.named(self.writer.fetch_unchecked(stmt).await)
    }
    async fn execute(&mut self, stmt: &Statement) -> Result<u64> {
        self.named(self.writer.execute(stmt).await)
    }
    async fn fetch_compiled(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        if q.is_plain_select() {
            return Ok(rows(self.read(Read::Compiled(q)).await?));
        }
        self.named(self.writer.fetch_compiled(q).await)
    }
    async fn execute_compiled(&mut self, q: &CompiledQuery) -> Result<u64> {
        self.named(self.writer.execute_compiled(q).await)
    }
    async fn fetch_models<M: ReadRow>(&mut self, stmt: &Statement) -> Result<Vec<M>> {
        self.db.check_statement(stmt)?;
        if let Statement::Select(_) = stmt {
            let mut parts = compile_parts(stmt, self.dialect())?;
            if parts.len() == 1 {
                return self.fetch_compiled_models(&parts.remove(0)).await;
            }
        }
        let rows = self.fetch(stmt).await?;
        rows.into_iter().map(M::from_values).collect()
    }
    async fn fetch_compiled_models<M: ReadRow>(&mut self, q: &CompiledQuery) -> Result<Vec<M>> {
        if q.is_plain_select() {
            return self.read(ModelsRead(q, PhantomData)).await;
        }
        self.named(self.writer.fetch_compiled_models(q).await)
    }
    async fn fetch_named_compiled(&mut self, q: &CompiledQuery) -> Result<NamedRows> {
        if self.raw_reads && q.is_plain_select() {
            return match self.read(Read::Named(q)).await? {
                Out::Named(n) => Ok(n),
                Out::Rows(_) => unreachable!("a named read returns named rows"),
            };
        }
        self.named(self.writer.fetch_named_compiled(q).await)
    }
    async fn delete_with_rules(
        &mut self,
        keys: &Select,
        meta: &ModelMeta,
        models: &(dyn Models + Sync),
    ) -> Result<u64> {
        let mut w = &self.writer;
        let r = w.delete_with_rules(keys, meta, models).await;
        self.named(r)
    }
    async fn tx_scope(&mut self) -> Result<TxScope<'_>> {
        Ok(TxScope::Own(Box::new(self.writer.begin().await?)))
    }
}

impl Executor for &Database {
    fn dialect(&self) -> Dialect {
        Database::dialect(self)
    }
    async fn fetch(&mut self, stmt: &Statement) -> Result<Vec<Row>> {
        (&self.shared_scope()).fetch(stmt).await
    }
    async fn execute(&mut self, stmt: &Statement) -> Result<u64> {
        (&self.shared_scope()).execute(stmt).await
    }
    async fn fetch_compiled(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        (&self.shared_scope()).fetch_compiled(q).await
    }
    async fn execute_compiled(&mut self, q: &CompiledQuery) -> Result<u64> {
        (&self.shared_scope()).execute_compiled(q).await
    }
    async fn fetch_named_compiled(&mut self, q: &CompiledQuery) -> Result<NamedRows> {
        (&self.shared_scope()).fetch_named_compiled(q).await
    }
    async fn fetch_models<M: ReadRow>(&mut self, stmt: &Statement) -> Result<Vec<M>> {
        (&self.shared_scope()).fetch_models(stmt).await
    }
    async fn fetch_compiled_models<M: ReadRow>(&mut self, q: &CompiledQuery) -> Result<Vec<M>> {
        (&self.shared_scope()).fetch_compiled_models(q).await
    }
    async fn delete_with_rules(
        &mut self,
        keys: &Select,
        meta: &ModelMeta,
        models: &(dyn Models + Sync),
    ) -> Result<u64> {
        (&self.shared_scope())
            .delete_with_rules(keys, meta, models)
            .await
    }
    async fn tx_scope(&mut self) -> Result<TxScope<'_>> {
        let tx = self.shared_scope().begin().await?;
        Ok(TxScope::Own(Box::new(tx)))
    }
}
