//! [`Pool`]: a deadpool of diesel-async connections to one database, PostgreSQL or SQLite
//! (chosen from the URL at run time).

use super::conn::{Conn, Row, SqliteConn};
use super::errors::from_pool;
use super::sqlite_setup;
use super::transaction::Transaction;
use crate::config::{default_url, DatabaseUrl};
use crate::sql::{compile, compile_parts, CompiledQuery, Dialect};
use chakra_dsl::{Error, Result, Statement};
use diesel_async::pooled_connection::deadpool::Pool as DeadPool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use futures_util::FutureExt;
use std::sync::Arc;
use std::time::Duration;

/// Options for [`Pool::connect_with`].
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Most connections open at once (an in-memory SQLite pool always has one).
    pub max_size: usize,
    /// How long a caller waits for a free connection before getting an error.
    pub wait_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 10,
            wait_timeout: Duration::from_secs(30),
        }
    }
}

enum Backend {
    Postgres(DeadPool<AsyncPgConnection>),
    Sqlite(DeadPool<SqliteConn>),
}

/// A pool of connections to one database. Cheap to clone (shared).
#[derive(Clone)]
pub struct Pool {
    backend: Arc<Backend>,
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
    /// Connects with default options. Fails at once with a clear error when the URL is
    /// malformed or the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Pool> {
        Pool::connect_with(url, PoolOptions::default()).await
    }

    /// Connects to the default database: `CHAKRA_DATABASE_URL`, else `chakra.toml`, else
    /// `sqlite://chakra.db`.
    pub async fn connect_default() -> Result<Pool> {
        Pool::connect(&default_url()?).await
    }

    /// Connects with options.
    pub async fn connect_with(url: &str, opts: PoolOptions) -> Result<Pool> {
        let parsed = DatabaseUrl::parse(url)?;
        let build_err = |e: deadpool::managed::BuildError| Error::Config(e.to_string());
        let backend = match parsed {
            DatabaseUrl::Postgres(u) => {
                let mut cfg = ManagerConfig::<AsyncPgConnection>::default();
                // A broken or mid-transaction connection is still detected and dropped;
                // `Verified` would add a `SELECT 1` round trip to every checkout.
                cfg.recycling_method = RecyclingMethod::Fast;
                let mgr = AsyncDieselConnectionManager::new_with_config(u, cfg);
                Backend::Postgres(
                    DeadPool::builder(mgr)
                        .max_size(opts.max_size.max(1))
                        .wait_timeout(Some(opts.wait_timeout))
                        .create_timeout(Some(Duration::from_secs(15)))
                        .runtime(deadpool::Runtime::Tokio1)
                        .build()
                        .map_err(build_err)?,
                )
            }
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => {
                let (target, is_file, size) = match &parsed {
                    DatabaseUrl::SqliteFile(p) => {
                        (p.to_string_lossy().into_owned(), true, opts.max_size.max(1))
                    }
                    _ => (":memory:".to_owned(), false, 1),
                };
                let mut cfg = ManagerConfig::<SqliteConn>::default();
                cfg.recycling_method = RecyclingMethod::Fast;
                cfg.custom_setup = Box::new(move |url: &str| {
                    let url = url.to_owned();
                    async move {
                        tokio::task::spawn_blocking(move || sqlite_setup::establish(&url, is_file))
                            .await
                            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?
                            .map(SyncConnectionWrapper::new)
                            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
                    }
                    .boxed()
                });
                let mgr = AsyncDieselConnectionManager::new_with_config(target, cfg);
                Backend::Sqlite(
                    DeadPool::builder(mgr)
                        .max_size(size)
                        .wait_timeout(Some(opts.wait_timeout))
                        .create_timeout(Some(Duration::from_secs(15)))
                        .runtime(deadpool::Runtime::Tokio1)
                        .build()
                        .map_err(build_err)?,
                )
            }
        };
        let pool = Pool {
            backend: Arc::new(backend),
        };
        // Fail now, naming the database, rather than at the first query.
        drop(pool.acquire().await.map_err(|e| match e {
            Error::Connection(m) => Error::Connection(format!(
                "cannot connect to {}: {m}",
                crate::config::redact(url)
            )),
            other => other,
        })?);
        Ok(pool)
    }

    /// The SQL dialect of this pool's database.
    pub fn dialect(&self) -> Dialect {
        match &*self.backend {
            Backend::Postgres(_) => Dialect::Postgres,
            Backend::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Pool occupancy, for monitoring and tests.
    pub fn status(&self) -> PoolStatus {
        let s = match &*self.backend {
            Backend::Postgres(p) => p.status(),
            Backend::Sqlite(p) => p.status(),
        };
        PoolStatus {
            size: s.size,
            available: s.available,
            max_size: s.max_size,
        }
    }

    /// Checks a connection out of the pool.
    pub async fn acquire(&self) -> Result<Conn> {
        Ok(match &*self.backend {
            Backend::Postgres(p) => Conn::Postgres(p.get().await.map_err(from_pool)?),
            Backend::Sqlite(p) => Conn::Sqlite(p.get().await.map_err(from_pool)?),
        })
    }

    /// Compiles a statement for this pool's dialect.
    pub fn compile(&self, stmt: &Statement) -> Result<CompiledQuery> {
        compile(stmt, self.dialect())
    }

    /// Runs a statement and returns its rows (a SELECT, or a write with RETURNING).
    /// Large inserts are split into chunks that run in one transaction.
    pub async fn fetch(&self, stmt: &Statement) -> Result<Vec<Row>> {
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

    /// Runs an already compiled statement and returns its rows.
    pub async fn fetch_compiled(&self, q: &CompiledQuery) -> Result<Vec<Row>> {
        self.acquire().await?.fetch(q).await
    }

    /// Runs an already compiled statement and returns the affected-row count.
    pub async fn execute_compiled(&self, q: &CompiledQuery) -> Result<u64> {
        self.acquire().await?.execute(q).await
    }

    /// Runs a select that must match exactly one row; see [`Executor::fetch_one`].
    pub async fn fetch_one(
        &self,
        select: &chakra_dsl::Select,
        model: &str,
        detail: Option<String>,
    ) -> Result<Row> {
        let mut me = self;
        super::Executor::fetch_one(&mut me, select, model, detail).await
    }

    /// Runs SQL text without parameters (DDL, scripts).
    pub async fn batch_execute(&self, sql: &str) -> Result<()> {
        self.acquire().await?.batch_execute(sql).await
    }

    /// Starts a transaction on a connection of its own.
    pub async fn begin(&self) -> Result<Transaction> {
        Transaction::begin(self.acquire().await?).await
    }
}
