//! [`Pool`]: a deadpool of diesel-async connections to one database, PostgreSQL or SQLite
//! (chosen from the URL at run time).

use super::conn::{Conn, MysqlManager, Row, RowByRow, SqliteManager};
use super::errors::from_pool;
use super::transaction::Transaction;
use crate::config::{default_url, DatabaseUrl, PoolSettings, Pooler, SchemaCheck};
use crate::dialect::postgres::cancel::CancelTarget;
use crate::dialect::sqlite::setup::{JournalMode, Synchronous};
use crate::sql::{compile, compile_parts, CompiledQuery, Dialect};
use chakra_dsl::typed::ReadRow;
use chakra_dsl::{Error, Result, Statement};
use diesel_async::pooled_connection::deadpool::Pool as DeadPool;
use diesel_async::AsyncPgConnection;
use std::sync::Arc;
use std::time::Duration;

/// Options for [`Pool::connect_with`]. The same settings can be written in `chakra.toml`
/// (`[database] max_size = 20`, `wait_timeout = "5s"`, `statement_timeout = "30s"`) and as
/// URL query parameters (`postgres://…/db?statement_timeout=30s`), which win over
/// `chakra.toml`, which wins over these.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Most connections open at once (an in-memory SQLite pool always has one).
    pub max_size: usize,
    /// How long a caller waits for a free connection before getting
    /// [`chakra_dsl::Error::ConnectionTimeout`].
    pub wait_timeout: Duration,
    /// PostgreSQL: the `statement_timeout` of every connection (a statement running longer
    /// is cancelled with [`chakra_dsl::Error::StatementTimeout`]). SQLite: the busy timeout,
    /// how long a statement waits for another connection's write lock before
    /// [`chakra_dsl::Error::LockTimeout`] (default 10 s). `None`: the server's setting.
    pub statement_timeout: Option<Duration>,
    /// What sits between Chakra and PostgreSQL: [`Pooler::Transaction`] for PgBouncer in
    /// transaction mode (no prepared-statement cache, every statement in a transaction,
    /// `statement_timeout` per transaction). Ignored on SQLite.
    pub pooler: Pooler,
    /// SQLite files: `PRAGMA journal_mode` (default WAL; URL `journal_mode=delete`).
    pub journal_mode: JournalMode,
    /// SQLite files: `PRAGMA synchronous` (default NORMAL; URL `synchronous=full`).
    pub synchronous: Synchronous,
    /// MySQL: the flavour whose code paths run, instead of the one detected at connect
    /// (`Some(Flavour::Mysql)` against MariaDB runs MySQL's inserts without `RETURNING`;
    /// tests use it; URL `flavour=mysql`). `None`: detected.
    pub mysql_flavour: Option<crate::dialect::mysql::server::Flavour>,
    /// What connecting does when a generated model layer linked into the program disagrees
    /// with the database's applied migrations ([`SchemaCheck`]; URL `schema_check=warn`).
    pub schema_check: SchemaCheck,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 10,
            wait_timeout: Duration::from_secs(30),
            statement_timeout: None,
            pooler: Pooler::None,
            journal_mode: JournalMode::default(),
            synchronous: Synchronous::default(),
            mysql_flavour: None,
            schema_check: SchemaCheck::Error,
        }
    }
}

impl PoolOptions {
    /// These options with `settings` laid over them.
    pub fn with_settings(mut self, s: &PoolSettings) -> PoolOptions {
        if let Some(n) = s.max_size {
            self.max_size = n;
        }
        if let Some(d) = s.wait_timeout {
            self.wait_timeout = d;
        }
        if s.statement_timeout.is_some() {
            self.statement_timeout = s.statement_timeout;
        }
        if let Some(p) = s.pooler {
            self.pooler = p;
        }
        if let Some(j) = s.journal_mode {
            self.journal_mode = j;
        }
        if let Some(v) = s.synchronous {
            self.synchronous = v;
        }
        if let Some(f) = s.mysql_flavour {
            self.mysql_flavour = Some(f);
        }
        if let Some(c) = s.schema_check {
            self.schema_check = c;
        }
        self
    }
}

enum Backend {
    Postgres(DeadPool<AsyncPgConnection>),
    Sqlite(deadpool::managed::Pool<SqliteManager>),
    Mysql(deadpool::managed::Pool<MysqlManager>),
}

/// A pool of connections to one database. Cheap to clone (shared).
#[derive(Clone)]
pub struct Pool {
    backend: Arc<Backend>,
    opts: Arc<PoolOptions>,
    /// Where cancel requests for abandoned PostgreSQL statements go.
    cancel: Option<Arc<CancelTarget>>,
    /// The tables the database was seen to hold, shared by the pool's connections.
    tables: super::KnownTables,
    /// The read-your-writes scope this handle's writes are recorded in ([`Pool::marking`]).
    mark: Option<crate::databases::wal::WalMark>,
    /// The scope whose plain reads this handle routes to replicas
    /// ([`crate::databases::Scope::routed_pool`]).
    route: Option<Arc<crate::databases::Scope>>,
    /// Which database each model lives on, when the pool is a database of a
    /// [`crate::databases::Databases`] (set when the set is made; shared by every clone).
    placement: Arc<std::sync::OnceLock<Arc<crate::databases::Placement>>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.status();
        f.debug_struct("Pool")
            .field("dialect", &self.dialect())
            .field("size", &s.size)
            .field("available", &s.available)
            .finish()
    }
}

/// Pool occupancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open.
    pub size: usize,
    /// Connections idle in the pool.
    pub available: usize,
    /// Most connections allowed.
    pub max_size: usize,
}

impl Pool {
    /// Connects with default options (and, for the database `chakra.toml` configures, its
    /// `[database]` settings; then the URL's query parameters). Fails at once with a clear error when the URL is
    /// malformed or the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Pool> {
        let opts = PoolOptions::default().with_settings(&PoolSettings::from_config_file(url)?);
        Pool::connect_with(url, opts).await
    }

    /// Connects to the default database: `CHAKRA_DATABASE_URL`, else `chakra.toml`, else
    /// `sqlite://chakra.db`.
    pub async fn connect_default() -> Result<Pool> {
        Pool::connect(&default_url()?).await
    }

    /// Connects with options (the URL's query parameters win over them).
    ///
    /// Then, unless [`PoolOptions::schema_check`] is off, the generated model layers linked
    /// into the program (`chakra generate models --lang rust`) are compared with the
    /// database's applied migrations on that same connection (one read of the history
    /// table per pool; replicas are built without connecting and are not read): a stale
    /// layer is [`Error::StaleModels`], or a warning in `warn` mode.
    pub async fn connect_with(url: &str, opts: PoolOptions) -> Result<Pool> {
        Pool::connect_checked(url, opts, true).await
    }

    /// [`Pool::connect_with`] without the stale-models check, whatever the options or the
    /// URL's `schema_check` say: the migration paths (`Migrator::connect`, `chakra migrate`)
    /// bring the database to the models, so a layer ahead of the database must not stop them.
    pub(crate) async fn connect_for_migrations(url: &str, opts: PoolOptions) -> Result<Pool> {
        Pool::connect_checked(url, opts, false).await
    }

    async fn connect_checked(url: &str, opts: PoolOptions, check: bool) -> Result<Pool> {
        let pool = Pool::build_with(url, opts)?;
        // Fail now, naming the database, rather than at the first query.
        let mut conn = pool.acquire().await.map_err(|e| match e {
            Error::Connection(m) => Error::Connection(format!(
                "cannot connect to {}: {m}",
                crate::config::redact(url)
            )),
            other => other,
        })?;
        if check {
            crate::generate::check::at_connect(&mut conn, pool.opts.schema_check, url).await?;
        }
        drop(conn);
        Ok(pool)
    }

    /// Makes a pool without connecting: the first statement opens the first connection
    /// (a replica that is down when the process starts is found down on its first read,
    /// and skipped, instead of failing start-up). A malformed URL is an error at once.
    pub fn build_with(url: &str, opts: PoolOptions) -> Result<Pool> {
        let (_, from_url) = PoolSettings::split_url(url)?;
        let opts = opts.with_settings(&from_url);
        let parsed = DatabaseUrl::parse(url)?;
        let mut cancel = None;
        let tables = super::KnownTables::default();
        let backend = match parsed {
            DatabaseUrl::Postgres(u) => {
                cancel = CancelTarget::from_url(&u).map(Arc::new);
                Backend::Postgres(crate::dialect::postgres::pool::build(u, &opts)?)
            }
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => Backend::Sqlite(
                crate::dialect::sqlite::pool::build(&parsed, &opts, tables.clone())?,
            ),
            DatabaseUrl::Mysql(u) => Backend::Mysql(crate::dialect::mysql::pool::build_pool(
                &u,
                &opts,
                tables.clone(),
            )?),
        };
        Ok(Pool {
            backend: Arc::new(backend),
            opts: Arc::new(opts),
            cancel,
            tables,
            mark: None,
            route: None,
            placement: Arc::default(),
        })
    }

    /// The same pool (the same connections), with every write it commits recorded in
    /// `mark`: after a transaction that wrote commits, or a statement outside a transaction
    /// that may have written, the primary's WAL position is read (PostgreSQL; one more
    /// round trip on the same connection) so that reads of the same read-your-writes scope
    /// on a replica wait for it ([`crate::databases`]). Elsewhere nothing is recorded.
    pub fn marking(&self, mark: &crate::databases::wal::WalMark) -> Pool {
        Pool {
            mark: Some(mark.clone()),
            ..self.clone()
        }
    }

    /// The same pool with its plain reads outside transactions (`fetch_compiled`, and raw
    /// reads when the scope allows them) routed by `scope` (to a replica that has replayed
    /// the scope's writes, else the primary), and its writes recorded in the scope.
    /// Made by [`crate::databases::Scope::routed_pool`].
    pub(crate) fn routing(&self, scope: crate::databases::Scope) -> Pool {
        Pool {
            mark: Some(scope.mark().clone()),
            route: Some(Arc::new(scope)),
            ..self.clone()
        }
    }

    /// Gives the pool the placement of the [`crate::databases::Databases`] it is a database
    /// of (the first one set stays).
    pub(crate) fn set_placement(&self, placement: Arc<crate::databases::Placement>) {
        let _ = self.placement.set(placement);
    }

    /// Refuses a read statement whose tables belong to models living on different databases
    /// ([`chakra_dsl::Error::CrossDatabase`]), when the pool is a database of a
    /// [`crate::databases::Databases`]. A pool made on its own (`Pool::connect`) belongs to
    /// no set: there are no bindings and no other database, every model is on it, so there
    /// is nothing to refuse (one atomic load).
    pub fn check_placement(&self, stmt: &Statement) -> Result<()> {
        match self.placement.get() {
            Some(p) => p.check(stmt),
            None => Ok(()),
        }
    }

    /// The read-your-writes mark of this handle ([`Pool::marking`]), if any.
    pub fn mark(&self) -> Option<&crate::databases::wal::WalMark> {
        self.mark.as_ref()
    }

    /// True when two handles share one pool of connections.
    pub fn same_pool(&self, other: &Pool) -> bool {
        Arc::ptr_eq(&self.backend, &other.backend)
    }

    /// The mark a write that commits outside a transaction on this handle is recorded in:
    /// PostgreSQL only, and not behind a transaction pooler (statements there run in a
    /// transaction of their own, whose commit records it).
    fn lsn_mark(&self) -> Option<&crate::databases::wal::WalMark> {
        self.mark
            .as_ref()
            .filter(|_| self.dialect() == Dialect::Postgres && !self.behind_transaction_pooler())
    }

    /// The SQL dialect of this pool's database.
    pub fn dialect(&self) -> Dialect {
        match &*self.backend {
            Backend::Postgres(_) => Dialect::Postgres,
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Mysql(_) => Dialect::Mysql,
        }
    }

    /// Pool occupancy, for monitoring and tests.
    pub fn status(&self) -> PoolStatus {
        let s = match &*self.backend {
            Backend::Postgres(p) => p.status(),
            Backend::Sqlite(p) => p.status(),
            Backend::Mysql(p) => p.status(),
        };
        PoolStatus {
            size: s.size,
            available: s.available,
            max_size: s.max_size,
        }
    }

    /// The options the pool was made with.
    pub fn options(&self) -> &PoolOptions {
        &self.opts
    }

    /// Checks a connection out of the pool. A connection whose server side has gone (the
    /// driver saw it close while idle) is dropped and replaced, never handed out. Waiting
    /// longer than the wait timeout is [`Error::ConnectionTimeout`].
    pub async fn acquire(&self) -> Result<Conn> {
        let err = |e| from_pool(e, self.opts.max_size, self.opts.wait_timeout);
        Ok(match &*self.backend {
            Backend::Postgres(p) => Conn::Postgres(super::conn::PgConn::new(
                p.get().await.map_err(err)?,
                super::conn::PgSide::new(self.cancel.clone(), self.tables.clone()),
            )),
            Backend::Sqlite(p) => Conn::Sqlite(sqlite_checkout(p).await.map_err(|e| match e {
                // Opening failed: the error says which file and why.
                deadpool::managed::PoolError::Backend(e) => e,
                e => from_pool(e, self.opts.max_size, self.opts.wait_timeout),
            })?),
            Backend::Mysql(p) => Conn::Mysql(p.get().await.map_err(|e| match e {
                deadpool::managed::PoolError::Backend(e) => e,
                e => from_pool(e, self.opts.max_size, self.opts.wait_timeout),
            })?),
        })
    }

    /// After a statement failed on a pooled connection: true (and the connection closed)
    /// when it should run again on another one. That is only when the connection turned
    /// out to be dead ([`Error::ConnectionLost`]) in a way that says the statement cannot
    /// have taken effect ([`lost_before_running`]). Up to once per pooled connection plus
    /// one: after a server restart every idle connection may be dead.
    fn run_again(&self, r: &Result<impl Sized>, conn: Conn, attempt: usize) -> bool {
        let again = self.pooled_again(r, attempt);
        if again {
            tracing::debug!(target: "chakra::sql", "connection lost before the statement ran: running it on another connection");
            conn.discard();
        }
        again
    }

    /// [`Pool::run_again`] for a statement run in a transaction of its own behind a
    /// transaction pooler (the failed transaction has closed its connection already).
    fn pooled_again(&self, r: &Result<impl Sized>, attempt: usize) -> bool {
        match r {
            Err(Error::ConnectionLost(fail)) => {
                attempt <= self.opts.max_size && lost_before_running(fail)
            }
            _ => false,
        }
    }

    /// Compiles a statement for this pool's dialect.
    pub fn compile(&self, stmt: &Statement) -> Result<CompiledQuery> {
        compile(stmt, self.dialect())
    }

    /// Runs a statement and returns its rows (a SELECT, or a write with RETURNING).
    /// Large inserts are split into chunks that run in one transaction.
    ///
    /// A pool of a [`crate::databases::Databases`] (`db.primary()`, a pool given to its
    /// builder, their clones) first refuses a read joining models that live on different
    /// databases ([`Pool::check_placement`]).
    pub async fn fetch(&self, stmt: &Statement) -> Result<Vec<Row>> {
        self.check_placement(stmt)?;
        self.fetch_unchecked(stmt).await
    }

    /// [`Pool::fetch`] without the one-database check (its caller ran it).
    pub(crate) async fn fetch_unchecked(&self, stmt: &Statement) -> Result<Vec<Row>> {
        if let Some(each) = RowByRow::of(stmt, self.dialect())? {
            return Ok(self.run_each(&each, true).await?.0);
        }
        let mut parts = compile_parts(stmt, self.dialect())?;
        if parts.len() == 1 {
            return self.fetch_compiled(&parts.remove(0)).await;
        }
        let mut tx = self.begin().await?;
        let mut out = Vec::new();
        for q in &parts {
            out.extend(tx.fetch_compiled(q).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(&self, stmt: &Statement) -> Result<u64> {
        if let Some(each) = RowByRow::of(stmt, self.dialect())? {
            return Ok(self.run_each(&each, false).await?.1);
        }
        let mut parts = compile_parts(stmt, self.dialect())?;
        if parts.len() == 1 {
            return self.execute_compiled(&parts.remove(0)).await;
        }
        let mut tx = self.begin().await?;
        let mut n = 0;
        for q in &parts {
            n += tx.execute_compiled(q).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Runs a multi-row insert's one-row statement once per row, in a transaction of its own
    /// ([`RowByRow`]).
    async fn run_each(&self, each: &RowByRow<'_>, want_rows: bool) -> Result<(Vec<Row>, u64)> {
        let mut tx = self.begin().await?;
        match tx.fetch_each(each, want_rows).await {
            Ok(out) => {
                tx.commit().await?;
                Ok(out)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// True when statements go through a transaction pooler (see [`Pooler::Transaction`]).
    fn behind_transaction_pooler(&self) -> bool {
        self.opts.pooler == Pooler::Transaction && matches!(&*self.backend, Backend::Postgres(_))
    }

    /// Runs an already compiled statement and returns its rows.
    pub async fn fetch_compiled(&self, q: &CompiledQuery) -> Result<Vec<Row>> {
        if let Some(scope) = self.route.as_deref().filter(|_| q.is_plain_select()) {
            return scope.routed_rows(q).await;
        }
        self.run_one(q).await
    }

    /// Runs an already compiled statement and reads each row into an `M` by its generated
    /// row reader ([`Conn::fetch_models`]); a routed read (replicas) runs where its scope
    /// sends it, read by the same reader there.
    pub async fn fetch_compiled_models<M: ReadRow>(&self, q: &CompiledQuery) -> Result<Vec<M>> {
        if let Some(scope) = self.route.as_deref().filter(|_| q.is_plain_select()) {
            return scope.routed_models::<M>(q).await;
        }
        Ok(self.run_one::<Models<M>>(q).await?.0)
    }

    /// Runs a statement and reads each row into an `M` by its generated row reader: a
    /// statement compiled to one part runs through [`Pool::fetch_compiled_models`], any
    /// other through [`Pool::fetch`]. Like [`Pool::fetch`], a pool of a
    /// [`crate::databases::Databases`] first refuses a read joining models that live on
    /// different databases ([`Pool::check_placement`]).
    pub async fn fetch_models<M: ReadRow>(&self, stmt: &Statement) -> Result<Vec<M>> {
        self.check_placement(stmt)?;
        if let Statement::Select(_) = stmt {
            let mut parts = compile_parts(stmt, self.dialect())?;
            if parts.len() == 1 {
                return self.fetch_compiled_models(&parts.remove(0)).await;
            }
        }
        let rows = self.fetch_unchecked(stmt).await?;
        rows.into_iter().map(M::from_values).collect()
    }

    /// Runs an already compiled read and hands its rows to `each` in chunks of `chunk` rows
    /// as they arrive (PostgreSQL, on a leased connection: the caller can convert one chunk
    /// while the next is read); returns the rows after the last full chunk. Behind a
    /// transaction pooler, and on SQLite, every row comes back in the return value. A
    /// connection found dead before any row arrived is replaced, as for
    /// [`Pool::fetch_compiled`]; once a chunk was handed over, an error is returned as is.
    pub async fn fetch_compiled_chunked(
        &self,
        q: &CompiledQuery,
        chunk: usize,
        each: &mut (dyn FnMut(Vec<Row>) + Send),
    ) -> Result<Vec<Row>> {
        if self.route.is_some() && q.is_plain_select() {
            return self.fetch_compiled(q).await;
        }
        if self.behind_transaction_pooler() || !super::caps(self.dialect()).streams {
            return self.run_one(q).await;
        }
        let mut attempt = 0;
        loop {
            let mut lease = Lease::new(self.acquire().await?);
            let mut handed = false;
            let r = lease
                .conn()
                .fetch_chunked(q, chunk, &mut |rows| {
                    handed = true;
                    each(rows)
                })
                .await;
            let conn = lease.finish();
            if handed {
                return r;
            }
            if !self.run_again(&r, conn, attempt) {
                return r;
            }
            attempt += 1;
        }
    }

    /// Runs an already compiled statement and returns its rows with their column names
    /// (raw SQL). Behind a transaction pooler it runs in a transaction of its own; a
    /// connection found dead before a read ran is replaced, as for [`Pool::fetch_compiled`].
    pub async fn fetch_named_compiled(&self, q: &CompiledQuery) -> Result<super::row::NamedRows> {
        if let Some(scope) = self
            .route
            .as_deref()
            .filter(|s| s.raw_reads() && q.is_plain_select())
        {
            return scope.routed_named(q).await;
        }
        self.run_one(q).await
    }

    /// Runs an already compiled statement and returns the affected-row count.
    pub async fn execute_compiled(&self, q: &CompiledQuery) -> Result<u64> {
        self.run_one(q).await
    }

    /// Runs one statement outside any transaction of the caller's. Behind a transaction
    /// pooler it runs in a transaction of its own (parse and execute must reach the same
    /// server session); otherwise on a leased connection. Either way it runs again on another
    /// connection when the first turned out dead before the statement could take effect
    /// ([`Pool::run_again`], [`Pool::pooled_again`]).
    async fn run_one<T: OneStatement>(&self, q: &CompiledQuery) -> Result<T> {
        let mut attempt = 0;
        let writes = self.mark.is_some() && (T::RAW || !q.is_plain_select());
        if self.behind_transaction_pooler() {
            loop {
                let r = async {
                    let mut tx = self.begin().await?;
                    let out = T::in_tx(&mut tx, q).await?;
                    tx.commit().await?;
                    Ok(out)
                }
                .await;
                if !self.pooled_again(&r, attempt) {
                    return r;
                }
                attempt += 1;
            }
        }
        loop {
            let mut lease = Lease::new(self.acquire().await?);
            let r = match self.lsn_mark().filter(|_| writes) {
                // The WAL position read pipelined behind the statement, whose implicit
                // commit completes before the read starts (see `Transaction::commit`).
                Some(mark) => {
                    let lsn = crate::databases::wal::current_lsn_query();
                    let (r, read) = T::on_conn_then(lease.conn(), q, &lsn).await;
                    if r.is_ok() {
                        mark.record_read(read);
                    }
                    r
                }
                None => T::on_conn(lease.conn(), q).await,
            };
            if !self.run_again(&r, lease.finish(), attempt) {
                return r;
            }
            attempt += 1;
        }
    }

    /// Runs a select that must match exactly one row; see [`super::Executor::fetch_one`].
    pub async fn fetch_one(
        &self,
        select: &chakra_dsl::Select,
        model: &str,
        detail: Option<String>,
    ) -> Result<Row> {
        let mut me = self;
        super::Executor::fetch_one(&mut me, select, model, detail).await
    }

    /// Runs SQL text without parameters (DDL, scripts). Behind a transaction pooler with a
    /// statement timeout, the text runs in a transaction of its own so the timeout (a
    /// `SET LOCAL`) covers it; statements that refuse a transaction block (`CREATE INDEX
    /// CONCURRENTLY`, `VACUUM`) then need a direct connection.
    pub async fn batch_execute(&self, sql: &str) -> Result<()> {
        if self.behind_transaction_pooler() && self.opts.statement_timeout.is_some() {
            let mut tx = self.begin().await?;
            tx.batch_execute(sql).await?;
            return tx.commit().await;
        }
        let mut lease = Lease::new(self.acquire().await?);
        let r = match self.lsn_mark() {
            Some(mark) => {
                let lsn = crate::databases::wal::current_lsn_query();
                let (r, read) = lease.conn().batch_then_fetch(sql, &lsn).await;
                if r.is_ok() {
                    mark.record_read(read);
                }
                r
            }
            None => {
                let r = lease.conn().batch_execute(sql).await;
                // Behind a transaction pooler the text ran outside a transaction: its
                // position is read after it, in a transaction of its own.
                if let Some(mark) = self.mark.as_ref().filter(|_| {
                    r.is_ok()
                        && self.dialect() == Dialect::Postgres
                        && self.behind_transaction_pooler()
                }) {
                    mark.record_after_commit(lease.conn(), true).await;
                }
                r
            }
        };
        drop(lease.finish());
        r
    }

    /// Starts a transaction on a connection of its own (a connection found dead at `BEGIN`
    /// is replaced: nothing had run on it).
    pub async fn begin(&self) -> Result<Transaction> {
        self.begin_with(crate::exec::transaction::TxOptions::default())
            .await
    }

    /// Starts a transaction with options (isolation level).
    pub async fn begin_with(
        &self,
        opts: crate::exec::transaction::TxOptions,
    ) -> Result<Transaction> {
        // Behind a transaction pooler the statement timeout is the transaction's own.
        let setup = match (
            self.behind_transaction_pooler(),
            self.opts.statement_timeout,
        ) {
            (true, Some(d)) => {
                Some(crate::dialect::postgres::transaction::local_statement_timeout(d))
            }
            _ => None,
        };
        let mut attempt = 0;
        loop {
            let conn = self.acquire().await?;
            match Transaction::begin_with_setup(conn, opts, setup.as_deref()).await {
                Err(Error::ConnectionLost(_)) if attempt <= self.opts.max_size => attempt += 1,
                Ok(mut tx) => {
                    tx.set_mark(self.mark.clone(), self.behind_transaction_pooler());
                    return Ok(tx);
                }
                other => return other,
            }
        }
    }
}

/// Checks a SQLite connection out of `p`: first without waiting (a free permit of the
/// pool's semaphore, no timer armed: the usual case, ~400 instructions less than arming
/// the wait timeout), else through deadpool's timed wait as before. The pool's rules are
/// deadpool's either way: its semaphore caps the connections, hands a returned permit to
/// the longest waiter before any newcomer can take it (so trying first never jumps the
/// queue), and is closed by `close()`; a connection is recycled or created the same way.
async fn sqlite_checkout(
    p: &deadpool::managed::Pool<SqliteManager>,
) -> std::result::Result<
    deadpool::managed::Object<SqliteManager>,
    deadpool::managed::PoolError<Error>,
> {
    use deadpool::managed::{PoolError, TimeoutType, Timeouts};
    let mut now = p.timeouts();
    let waits = now.wait;
    now.wait = Some(Duration::ZERO);
    match p.timeout_get(&now).await {
        // No free permit now: wait for one as configured (a zero wait timeout already failed).
        Err(PoolError::Timeout(TimeoutType::Wait)) if waits != Some(Duration::ZERO) => {
            p.timeout_get(&Timeouts { wait: waits, ..now }).await
        }
        other => other,
    }
}

/// A pooled connection checked out for one statement. When the statement's future is
/// dropped before it finished (a timeout, a cancelled task), a PostgreSQL connection is
/// closed instead of going back to the pool: the statement was sent a cancel request, and a
/// late cancel must not hit the next statement on that connection. (A SQLite statement runs
/// inline within one poll, so it can only be dropped while waiting for a lock, before it
/// ran: its connection goes back to the pool.)
struct Lease(Option<Conn>);

impl Lease {
    fn new(conn: Conn) -> Lease {
        Lease(Some(conn))
    }

    fn conn(&mut self) -> &mut Conn {
        self.0.as_mut().expect("leased until finished")
    }

    /// The statement finished: the connection, to return to the pool.
    fn finish(mut self) -> Conn {
        self.0.take().expect("leased until finished")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(c) = self.0.take().filter(Conn::closes_when_abandoned) {
            c.discard();
        }
    }
}

/// True when a lost connection's failure says the statement never ran, so running it again
/// cannot repeat an effect: the driver found the connection already closed (`08003`: the
/// server ended it while it sat idle), or the server answered `57P01 terminating connection`
/// (a terminating backend commits nothing). Not after a socket error mid-statement
/// (`08006`), whatever the statement: it may have run and committed, and even a `SELECT`
/// can write (a function with side effects, `nextval`, `SELECT … INTO`), so such a
/// failure reaches the caller as [`Error::ConnectionLost`].
fn lost_before_running(fail: &chakra_dsl::Failure) -> bool {
    matches!(fail.sqlstate.as_deref(), Some("57P01" | "08003"))
}

/// What one statement run by [`Pool::run_one`] returns: rows, rows with column names, or an
/// affected-row count, read on a bare connection or inside a transaction.
trait OneStatement: Sized + Send {
    /// Raw SQL (rows with column names): may write whatever its text says.
    const RAW: bool = false;
    /// Runs `q` on a leased connection.
    fn on_conn(
        conn: &mut Conn,
        q: &CompiledQuery,
    ) -> impl std::future::Future<Output = Result<Self>> + Send;
    /// Runs `q` on a leased connection, then `next` pipelined behind it
    /// ([`Conn::batch_then_fetch`]).
    fn on_conn_then<'a>(
        conn: &'a mut Conn,
        q: &'a CompiledQuery,
        next: &'a CompiledQuery,
    ) -> impl std::future::Future<Output = (Result<Self>, Result<Vec<Row>>)> + Send + 'a;
    /// Runs `q` in a transaction.
    fn in_tx(
        tx: &mut Transaction,
        q: &CompiledQuery,
    ) -> impl std::future::Future<Output = Result<Self>> + Send;
}

impl OneStatement for Vec<Row> {
    fn on_conn_then<'a>(
        conn: &'a mut Conn,
        q: &'a CompiledQuery,
        next: &'a CompiledQuery,
    ) -> impl std::future::Future<Output = (Result<Self>, Result<Vec<Row>>)> + Send + 'a {
        conn.fetch_then_fetch(q, next)
    }
    fn on_conn(
        conn: &mut Conn,
        q: &CompiledQuery,
    ) -> impl std::future::Future<Output = Result<Self>> + Send {
        conn.fetch(q)
    }
    fn in_tx(
        tx: &mut Transaction,
        q: &CompiledQuery,
    ) -> impl std::future::Future<Output = Result<Self>> + Send {
        tx.fetch_compiled(q)
    }
}

/// Rows read into structs by their generated row reader ([`Pool::fetch_compiled_models`]).
struct Models<M>(Vec<M>);

impl<M: ReadRow> OneStatement for Models<M> {
    async fn on_conn(conn: &mut Conn, q: &CompiledQuery) -> Result<Self> {
        conn.fetch_models(q).await.map(Models)
    }
    /// Not pipelined: a plain `SELECT` of models records no WAL position, so this runs only
    /// for a read the compiler does not call plain (a locking read, a CTE); `next` runs
    /// after `q` has finished, as on the other backends.
    async fn on_conn_then<'a>(
        conn: &'a mut Conn,
        q: &'a CompiledQuery,
        next: &'a CompiledQuery,
    ) -> (Result<Self>, Result<Vec<Row>>) {
        let a = conn.fetch_models(q).await.map(Models);
        (a, conn.fetch(next).await)
    }
    async fn in_tx(tx: &mut Transaction, q: &CompiledQuery) -> Result<Self> {
        tx.fetch_compiled_models(q).await.map(Models)
    }
}

impl OneStatement for super::row::NamedRows {
    fn on_conn_then<'a>(
        conn: &'a mut Conn,
        q: &'a CompiledQuery,
        next: &'a CompiledQuery,
    ) -> impl std::future::Future<Output = (Result<Self>, Result<Vec<Row>>)> + Send + 'a {
        conn.fetch_named_then_fetch(q, next)
    }
    const RAW: bool = true;
    fn on_conn(
        conn: &mut Conn,
        q: &CompiledQuery,
    ) -> impl std::future::Future<Output = Result<Self>> + Send {
        conn.fetch_named(q)
    }
    fn in_tx(
        tx: &mut Transaction,
        q: &CompiledQuery,
    ) -> impl std::future::Future<Output = Result<Self>> + Send {
        tx.fetch_named_compiled(q)
    }
}

impl OneStatement for u64 {
    fn on_conn_then<'a>(
        conn: &'a mut Conn,
        q: &'a CompiledQuery,
        next: &'a CompiledQuery,
    ) -> impl std::future::Future<Output = (Result<Self>, Result<Vec<Row>>)> + Send + 'a {
        conn.execute_then_fetch(q, next)
    }
    fn on_conn(
        conn: &mut Conn,
        q: &CompiledQuery,
    ) -> impl std::future::Future<Output = Result<Self>> + Send {
        conn.execute(q)
    }
    fn in_tx(
        tx: &mut Transaction,
        q: &CompiledQuery,
    ) -> impl std::future::Future<Output = Result<Self>> + Send {
        tx.execute_compiled(q)
    }
}

#[cfg(test)]
mod tests {
    use super::lost_before_running;
    use chakra_dsl::Failure;

    fn lost(sqlstate: Option<&str>) -> Failure {
        Failure {
            table: None,
            sqlstate: sqlstate.map(str::to_owned),
            message: "connection lost".into(),
        }
    }

    #[test]
    fn only_a_connection_lost_before_the_statement_ran_is_run_again() {
        assert!(lost_before_running(&lost(Some("08003"))));
        assert!(lost_before_running(&lost(Some("57P01"))));
        // Mid-statement: the statement (even a SELECT calling a function) may have run.
        assert!(!lost_before_running(&lost(Some("08006"))));
        assert!(!lost_before_running(&lost(Some("08P01"))));
        assert!(!lost_before_running(&lost(None)));
    }
}
