//! MySQL's transaction statements: the isolation level is set for the next transaction
//! only (`SET TRANSACTION ISOLATION LEVEL …`), then `START TRANSACTION`.

use crate::exec::Isolation;

/// The statement(s) that begin a transaction at `isolation` (InnoDB's default is
/// REPEATABLE READ).
pub fn begin_sql(isolation: Isolation) -> &'static str {
    match isolation {
        Isolation::Default => "START TRANSACTION",
        Isolation::ReadCommitted => {
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
