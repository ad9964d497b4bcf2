//! A PostgreSQL pool's connection manager: how its connections are opened (directly, or
//! behind a transaction pooler) and set up (`statement_timeout`).

use crate::config::Pooler;
use crate::exec::PoolOptions;
use chakra_dsl::{Error, Result};
use diesel_async::pooled_connection::deadpool::Pool as DeadPool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::AsyncPgConnection;
use futures_util::FutureExt;
use std::time::Duration;

/// A deadpool of PostgreSQL connections to `url`, set up as `opts` say.
pub fn build(url: String, opts: &PoolOptions) -> Result<DeadPool<AsyncPgConnection>> {
    let statement_ms = opts.statement_timeout.map(|d| d.as_millis().max(1) as u64);
    let mut cfg = ManagerConfig::<AsyncPgConnection>::default();
    // A broken or mid-transaction connection is still detected and dropped;
    // `Verified` would add a `SELECT 1` round trip to every checkout.
    cfg.recycling_method = RecyclingMethod::Fast;
    let pooled = opts.pooler == Pooler::Transaction;
    // Behind a transaction pooler a session `SET` would land on whichever server
    // connection runs it: the timeout is set per transaction instead
    // (`Transaction::begin_with`), and no statement is cached (a statement
    // prepared in one transaction may be gone, or another client's, in the next).
    let session_ms = statement_ms.filter(|_| !pooled);
    if pooled || session_ms.is_some() {
        cfg.custom_setup = Box::new(move |url: &str| {
            let url = url.to_owned();
            async move {
                use diesel_async::{AsyncConnection, SimpleAsyncConnection};
                let mut c = if pooled {
                    super::pooler::establish(&url).await?
                } else {
                    AsyncPgConnection::establish(&url).await?
                };
                if let Some(ms) = session_ms {
                    c.batch_execute(&format!("SET statement_timeout = {ms}"))
                        .await
                        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                }
                Ok(c)
            }
            .boxed()
        });
    }
    let mgr = AsyncDieselConnectionManager::new_with_config(url, cfg);
    DeadPool::builder(mgr)
        .max_size(opts.max_size.max(1))
        .wait_timeout(Some(opts.wait_timeout))
        .create_timeout(Some(Duration::from_secs(15)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| Error::Config(e.to_string()))
}
