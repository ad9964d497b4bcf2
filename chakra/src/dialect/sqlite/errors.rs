//! SQLite's errors as Chakra's: its busy timeout, and the constraint names its messages carry.

use crate::exec::errors::Named;
use chakra_dsl::Violation;

/// The named failure `m` stands for on SQLite: its busy timeout (`database is locked`) is a
/// lock timeout. SQLite has no SQLSTATE.
pub fn recognise(m: &str) -> Option<(Named, Option<&'static str>)> {
    (m.starts_with("database is locked") || m.starts_with("database table is locked"))
        .then_some((Named::LockTimeout, None))
}

/// SQLite reports some foreign-key failures (RESTRICT on delete) without the extended code
/// diesel classifies.
pub fn is_foreign_key_failure(m: &str) -> bool {
    m == "FOREIGN KEY constraint failed"
}

/// SQLite names no constraint; its messages read `UNIQUE constraint failed: users.email`
/// (table and column) or `CHECK constraint failed: positive_balance` (the constraint).
pub fn fill_from_message(v: &mut Violation) {
    if v.constraint.is_some() || v.table.is_some() {
        return;
    }
    let Some((_, rest)) = v.message.split_once("constraint failed: ") else {
        return;
    };
    let first = rest.split(", ").next().unwrap_or(rest).trim();
    if v.message.starts_with("CHECK") {
        v.constraint = Some(first.to_owned());
    } else if let Some((t, c)) = first.split_once('.') {
        v.table = Some(t.to_owned());
        v.column = Some(c.to_owned());
    }
}
