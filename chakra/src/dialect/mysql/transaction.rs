//! MySQL's transaction statements: the isolation level is set for the next transaction
//! only (`SET TRANSACTION ISOLATION LEVEL …`), then `START TRANSACTION`. The default level
//! is READ COMMITTED, as on PostgreSQL (InnoDB's own default, REPEATABLE READ, reads every
//! plain `SELECT` of a transaction from one snapshot, so a compare-and-set write after a
//! re-read would keep failing against rows other transactions committed meanwhile).

use crate::exec::Isolation;

/// The statement(s) that begin a transaction at `isolation`.
pub fn begin_sql(isolation: Isolation) -> &'static str {
    match isolation {
        Isolation::Default | Isolation::ReadCommitted => {
            "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION"
        }
        Isolation::RepeatableRead => {
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; START TRANSACTION"
        }
        Isolation::Serializable => {
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE; START TRANSACTION"
        }
    }
}
