//! [`ExecCaps`]: what a backend's executor can do, one `&'static` table per dialect (each
//! defined in its room), asked by [`caps`] instead of matching on the dialect.

use crate::sql::Dialect;

/// What running statements on one backend is like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecCaps {
    /// A statement runs inline on the thread that polls it (a call into a library, no I/O
    /// to wait for): a caller may poll it to completion on its own thread.
    pub runs_inline: bool,
    /// A statement dropped mid-flight is cancelled on the server (a cancel request) and its
    /// connection closed rather than pooled; a statement that runs inline can only be
    /// dropped before it ran.
    pub cancels_mid_statement: bool,
    /// Rows can be read as a stream, handed over in chunks while later rows arrive.
    pub streams: bool,
    /// Several statements sent at once save round trips (pipelining).
    pub pipelines: bool,
    /// A deadlock rolls the whole transaction back on the server (InnoDB), not only the
    /// statement: the transaction then refuses further statements (they would run outside
    /// it). PostgreSQL aborts the transaction itself (and a savepoint can recover it).
    pub deadlock_ends_transaction: bool,
}

/// The executor capabilities of `dialect`.
pub fn caps(dialect: Dialect) -> &'static ExecCaps {
    match dialect {
        Dialect::Postgres => &crate::dialect::postgres::caps::EXEC,
        Dialect::Sqlite => &crate::dialect::sqlite::caps::EXEC,
        Dialect::Mysql => &crate::dialect::mysql::caps::EXEC,
    }
}
