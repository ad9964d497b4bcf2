//! SQLite's transaction statements.

use crate::exec::Isolation;

/// The statement that begins a transaction: `BEGIN IMMEDIATE` whatever the isolation level
/// (SQLite's transactions are serializable), so two writers queue on the busy timeout
/// instead of failing on lock upgrade.
pub fn begin_sql(_isolation: Isolation) -> &'static str {
    "BEGIN IMMEDIATE"
}
