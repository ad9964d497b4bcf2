//! PostgreSQL's errors as Chakra's: the failures it names, recognised from diesel's error.
//!
//! diesel-async (0.9) keeps the driver's `DbError` inside a private wrapper and maps only
//! eight SQLSTATEs to a [`DatabaseErrorKind`] (unique, foreign-key, restrict, exclusion, not
//! null and check violations, serialization failure, read-only transaction); every other
//! code becomes `Unknown`, and diesel's `DatabaseErrorInformation` has no way to ask for the
//! code. So deadlock (`40P01`), lock timeout (`55P03`), statement timeout (`57014`) and
//! administrator shutdown (`57P01`) are recognised by PostgreSQL's English message text
//! (a server whose `lc_messages` is not English makes them plain database errors), and the
//! SQLSTATE Chakra reports for them is the one that message stands for.

use crate::exec::errors::Named;
use chakra_dsl::Violation;
use diesel::result::DatabaseErrorKind;

/// The named failure `kind` and `m` stand for on PostgreSQL (or PgBouncer), with its
/// SQLSTATE.
pub fn recognise(kind: &DatabaseErrorKind, m: &str) -> Option<(Named, Option<&'static str>)> {
    Some(match kind {
        DatabaseErrorKind::SerializationFailure => (Named::SerializationFailure, Some("40001")),
        DatabaseErrorKind::ClosedConnection => (Named::ConnectionLost, Some("08006")),
        // The driver's own errors (no SQLSTATE): only a closed connection or a broken
        // socket is a lost connection.
        // `connection closed`: the driver found the connection already gone (the server
        // terminated it while idle, or before the statement ran): 08003, nothing ran.
        DatabaseErrorKind::UnableToSendCommand if m.starts_with("connection closed") => {
            (Named::ConnectionLost, Some("08003"))
        }
        // A broken socket mid-statement: 08006, the statement may or may not have run.
        DatabaseErrorKind::UnableToSendCommand
            if m.starts_with("error communicating with the server") =>
        {
            (Named::ConnectionLost, Some("08006"))
        }
        _ if m.starts_with("deadlock detected") => (Named::Deadlock, Some("40P01")),
        _ if m.starts_with("could not serialize access") => {
            (Named::SerializationFailure, Some("40001"))
        }
        _ if m.starts_with("canceling statement due to lock timeout")
            || m.starts_with("could not obtain lock") =>
        {
            (Named::LockTimeout, Some("55P03"))
        }
        _ if m.starts_with("canceling statement due to statement timeout") => {
            (Named::StatementTimeout, Some("57014"))
        }
        _ if m.starts_with("terminating connection") => (Named::ConnectionLost, Some("57P01")),
        // PgBouncer closing the client after its server connection failed (`08P01`): at
        // link time (`invalid server parameter`: the idle server it picked had been
        // terminated; nothing ran) or mid-transaction (`server conn crashed?`).
        _ if m == "invalid server parameter" || m.starts_with("server conn crashed") => {
            (Named::ConnectionLost, Some("08P01"))
        }
        _ => return None,
    })
}

/// `prepared statement "s12" does not exist` / `… already exists`: what a statement cached
/// on one server session says when a transaction pooler ran it on another.
pub fn lost_prepared_statement(message: &str) -> bool {
    message.starts_with("prepared statement \"")
        && (message.ends_with("does not exist") || message.ends_with("already exists"))
}

/// PostgreSQL names the constraint and the table of a unique violation but not the column;
/// its detail does (`Key (username)=(bob) already exists.`): the first column is taken, as
/// SQLite's message gives it, so both backends fill the same attributes.
pub fn fill_from_detail(v: &mut Violation) {
    if v.column.is_some() {
        return;
    }
    let Some(cols) = v
        .detail
        .as_deref()
        .and_then(|d| d.strip_prefix("Key ("))
        .and_then(|d| d.split_once(")=(").map(|(cols, _)| cols))
    else {
        return;
    };
    let first = cols.split(", ").next().unwrap_or(cols).trim_matches('"');
    if !first.is_empty() && !first.contains('(') {
        v.column = Some(first.to_owned());
    }
}
