//! A MySQL/MariaDB pool's connection manager: where connections go, the session each one
//! gets ([`super::setup`]), the flavour detected (or forced), and the check at checkout.

use super::conn::{MysqlConn, STATEMENT_CACHE};
use super::server::{Flavour, ServerInfo};
use super::setup;
use crate::exec::KnownTables;
use chakra_dsl::{Error, Result};
use mysql_async::prelude::Queryable;
use std::time::Duration;

/// How long a pooled connection may sit idle before it is pinged at checkout.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(2);

/// A pool's connection manager: where connections go, how they are set up, which flavour
/// is forced (tests run MySQL's code paths against MariaDB).
#[derive(Debug, Clone)]
pub struct MysqlManager {
    opts: mysql_async::Opts,
    statement_timeout: Option<Duration>,
    forced: Option<Flavour>,
    tables: KnownTables,
}

impl MysqlManager {
    /// A manager for the driver URL `url` (`mysql://…`).
    pub fn new(
        url: &str,
        statement_timeout: Option<Duration>,
        forced: Option<Flavour>,
        tables: KnownTables,
    ) -> Result<MysqlManager> {
        let opts = mysql_async::Opts::from_url(url).map_err(|e| Error::InvalidUrl {
            url: crate::config::redact(url),
            reason: e.to_string(),
        })?;
        let opts = mysql_async::OptsBuilder::from_opts(opts)
            .stmt_cache_size(STATEMENT_CACHE)
            .client_found_rows(true)
            .into();
        Ok(MysqlManager {
            opts,
            statement_timeout,
            forced,
            tables,
        })
    }
}

impl deadpool::managed::Manager for MysqlManager {
    type Type = MysqlConn;
    type Error = Error;

    async fn create(&self) -> Result<MysqlConn> {
        let connect_err = |e: mysql_async::Error| Error::Connection(e.to_string());
        let mut conn = mysql_async::Conn::new(self.opts.clone())
            .await
            .map_err(connect_err)?;
        conn.query_drop(setup::session_sql())
            .await
            .map_err(connect_err)?;
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(connect_err)?;
        let mut server = ServerInfo::from_version(version.as_deref().unwrap_or(""));
        if let Some(f) = self.forced {
            server.flavour = f;
        }
        if let Some(t) = self.statement_timeout {
            conn.query_drop(setup::statement_timeout_sql(
                ServerInfo::from_version(version.as_deref().unwrap_or("")).flavour,
                t,
            ))
            .await
            .map_err(connect_err)?;
        }
        Ok(MysqlConn::new(conn, server, self.tables.clone()))
    }

    /// A connection the driver saw break is not handed out again; one idle for longer than
    /// [`PING_AFTER_IDLE`] is pinged first (the server may have closed it meanwhile: a
    /// restart, `wait_timeout`, a `KILL`), so a dead one is replaced rather than failing the
    /// next statement.
    async fn recycle(
        &self,
        conn: &mut MysqlConn,
        metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<Error> {
        if conn.usable(metrics.last_used() > PING_AFTER_IDLE).await {
            Ok(())
        } else {
            Err(deadpool::managed::RecycleError::message(
                "the connection broke or no longer answers",
            ))
        }
    }
}

/// A deadpool of MySQL/MariaDB connections to the driver URL `url`.
pub fn build_pool(
    url: &str,
    opts: &crate::exec::PoolOptions,
    tables: KnownTables,
) -> Result<deadpool::managed::Pool<MysqlManager>> {
    let mgr = MysqlManager::new(url, opts.statement_timeout, opts.mysql_flavour, tables)?;
    deadpool::managed::Pool::builder(mgr)
        .max_size(opts.max_size.max(1))
        .wait_timeout(Some(opts.wait_timeout))
        .create_timeout(Some(Duration::from_secs(15)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| Error::Config(e.to_string()))
}
