//! A SQLite pool's connection manager: the file (or memory) it opens, how many
//! connections, the busy timeout and durability pragmas.

use super::conn::SqliteManager;
use super::setup::Durability;
use crate::config::DatabaseUrl;
use crate::exec::{KnownTables, PoolOptions};
use chakra_dsl::{Error, Result};
use std::time::Duration;

/// A deadpool of SQLite connections to `parsed` (a file or memory), set up as `opts` say.
pub fn build(
    parsed: &DatabaseUrl,
    opts: &PoolOptions,
    tables: KnownTables,
) -> Result<deadpool::managed::Pool<SqliteManager>> {
    let (target, is_file, size) = match parsed {
        DatabaseUrl::SqliteFile(p) => {
            (p.to_string_lossy().into_owned(), true, opts.max_size.max(1))
        }
        _ => (":memory:".to_owned(), false, 1),
    };
    let busy = opts
        .statement_timeout
        .unwrap_or(Duration::from_secs(10))
        .max(Duration::from_millis(1));
    let durability = Durability {
        journal_mode: opts.journal_mode,
        synchronous: opts.synchronous,
    };
    let mgr = SqliteManager::new(target, is_file, busy, durability, tables);
    deadpool::managed::Pool::builder(mgr)
        .max_size(size)
        .wait_timeout(Some(opts.wait_timeout))
        .create_timeout(Some(Duration::from_secs(15)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| Error::Config(e.to_string()))
}
