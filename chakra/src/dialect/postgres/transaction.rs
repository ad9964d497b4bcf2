//! PostgreSQL's transaction statements: `BEGIN` per isolation level, and the
//! transaction-local statement timeout used behind a transaction pooler.

use crate::exec::Isolation;
use std::time::Duration;

/// The statement that begins a transaction at `isolation`.
pub fn begin_sql(isolation: Isolation) -> &'static str {
    match isolation {
        Isolation::Default => "BEGIN",
        Isolation::ReadCommitted => "BEGIN ISOLATION LEVEL READ COMMITTED",
        Isolation::RepeatableRead => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        Isolation::Serializable => "BEGIN ISOLATION LEVEL SERIALIZABLE",
    }
}

/// The setting that makes `timeout` the statement timeout of the current transaction only
/// (behind a transaction pooler a session `SET` would land on whichever server session runs
/// it).
pub fn local_statement_timeout(timeout: Duration) -> String {
    format!(
        "SET LOCAL statement_timeout = {}",
        timeout.as_millis().max(1)
    )
}
