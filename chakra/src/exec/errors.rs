//! Turning diesel and pool errors into [`chakra_dsl::Error`].

use chakra_dsl::{Error, Failure, Violation};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Why running a statement failed: the database's error (as diesel would have reported it)
/// or a cell that does not read as its declared type.
#[derive(Debug)]
pub enum RunError {
    /// The database refused or failed the statement.
    Db(DieselError),
    /// A cell did not decode ([`Error::Decode`]).
    Decode(Error),
}

impl From<DieselError> for RunError {
    fn from(e: DieselError) -> Self {
        RunError::Db(e)
    }
}

/// A statement's failure as Chakra's error.
pub fn from_run(e: RunError, sql: impl FnOnce() -> String) -> Error {
    match e {
        RunError::Db(e) => from_diesel(e, sql),
        RunError::Decode(e) => e,
    }
}

/// The table a statement writes (`INSERT INTO "t"`, `UPDATE "t"`, `DELETE FROM "t"`) or
/// reads first (`… FROM "t"`), from the compiled SQL.
fn statement_table(sql: &str) -> Option<String> {
    let head = sql.trim_start();
    let upper = head
        .get(..6)
        .map(str::to_ascii_uppercase)
        .unwrap_or_default();
    let from = if matches!(upper.as_str(), "INSERT" | "UPDATE" | "DELETE") {
        head
    } else {
        let i = head.find(" FROM \"")?;
        &head[i..]
    };
    from.split('"')
        .nth(1)
        .map(str::to_owned)
        .filter(|t| !t.is_empty())
}

/// Diesel gives no SQLSTATE for the kinds it does not classify (diesel-async keeps the
/// driver's `DbError` private), so the concurrency and timeout failures are recognised by
/// kind where diesel has one and by PostgreSQL's (English) message otherwise; SQLite reports
/// its busy timeout as `database is locked`.
fn concurrency_failure(
    kind: &DatabaseErrorKind,
    message: &str,
    table: Option<String>,
    sql: &str,
) -> Option<Error> {
    let fail = |code: Option<&str>| Failure {
        table: table.clone().or_else(|| statement_table(sql)),
        sqlstate: code.map(str::to_owned),
        message: message.to_owned(),
    };
    let m = message;
    Some(match kind {
        DatabaseErrorKind::SerializationFailure => Error::SerializationFailure(fail(Some("40001"))),
        DatabaseErrorKind::ClosedConnection => Error::ConnectionLost(fail(Some("08006"))),
        // The driver's own errors (no SQLSTATE): only a closed connection or a broken
        // socket is a lost connection.
        // `connection closed`: the driver found the connection already gone (the server
        // terminated it while idle, or before the statement ran): 08003, nothing ran.
        DatabaseErrorKind::UnableToSendCommand if m.starts_with("connection closed") => {
            Error::ConnectionLost(fail(Some("08003")))
        }
        // A broken socket mid-statement: 08006, the statement may or may not have run.
        DatabaseErrorKind::UnableToSendCommand
            if m.starts_with("error communicating with the server") =>
        {
            Error::ConnectionLost(fail(Some("08006")))
        }
        _ if m.starts_with("deadlock detected") => Error::Deadlock(fail(Some("40P01"))),
        _ if m.starts_with("could not serialize access") => {
            Error::SerializationFailure(fail(Some("40001")))
        }
        _ if m.starts_with("canceling statement due to lock timeout")
            || m.starts_with("could not obtain lock") =>
        {
            Error::LockTimeout(fail(Some("55P03")))
        }
        _ if m.starts_with("canceling statement due to statement timeout") => {
            Error::StatementTimeout(fail(Some("57014")))
        }
        _ if m.starts_with("terminating connection") => Error::ConnectionLost(fail(Some("57P01"))),
        // PgBouncer closing the client after its server connection failed (`08P01`): at
        // link time (`invalid server parameter`: the idle server it picked had been
        // terminated; nothing ran) or mid-transaction (`server conn crashed?`).
        _ if m == "invalid server parameter" || m.starts_with("server conn crashed") => {
            Error::ConnectionLost(fail(Some("08P01")))
        }
        _ if m.starts_with("database is locked") || m.starts_with("database table is locked") => {
            Error::LockTimeout(fail(None))
        }
        _ => return None,
    })
}

/// `prepared statement "s12" does not exist` / `… already exists`: what a statement cached
/// on one server session says when a transaction pooler ran it on another.
fn lost_prepared_statement(message: &str) -> bool {
    message.starts_with("prepared statement \"")
        && (message.ends_with("does not exist") || message.ends_with("already exists"))
}

/// Converts a diesel error raised while running `sql`.
pub fn from_diesel(e: DieselError, sql: impl FnOnce() -> String) -> Error {
    match e {
        DieselError::DatabaseError(kind, info) => {
            let mut v = Violation {
                constraint: info.constraint_name().map(str::to_owned),
                table: info.table_name().map(str::to_owned),
                column: info.column_name().map(str::to_owned),
                message: info.message().to_owned(),
                detail: info.details().map(Box::from),
            };
            fill_from_sqlite_message(&mut v);
            fill_from_postgres_detail(&mut v);
            if v.detail.is_none() {
                v.detail = Some(v.message.as_str().into());
            }
            let sql_text = sql();
            if let Some(e) = concurrency_failure(&kind, &v.message, v.table.clone(), &sql_text) {
                return e;
            }
            let sql = move || sql_text;
            match kind {
                DatabaseErrorKind::UniqueViolation => Error::UniqueViolation(v),
                DatabaseErrorKind::ForeignKeyViolation => foreign_key_error(v, sql),
                DatabaseErrorKind::NotNullViolation => Error::NotNullViolation(v),
                DatabaseErrorKind::CheckViolation => Error::CheckViolation(v),
                // SQLite reports some foreign-key failures (RESTRICT on delete) without the
                // extended code diesel classifies.
                _ if v.message == "FOREIGN KEY constraint failed" => foreign_key_error(v, sql),
                _ if lost_prepared_statement(&v.message) => Error::Database {
                    message: format!(
                        "{}: the connection goes through a transaction pooler (such as PgBouncer \
                         in pool_mode = transaction), which runs each transaction on any server \
                         session; open the pool with pooler=transaction (a URL parameter, \
                         chakra.toml [database] pooler, or PoolOptions::pooler)",
                        v.message
                    ),
                    sql: Some(sql()),
                },
                _ => Error::Database {
                    message: v.message,
                    sql: Some(sql()),
                },
            }
        }
        DieselError::NotFound => Error::NotFound {
            model: "row".into(),
            detail: None,
        },
        DieselError::DeserializationError(e) => Error::Decode {
            column: "?".into(),
            reason: e.to_string(),
        },
        other => Error::Database {
            message: other.to_string(),
            sql: Some(sql()),
        },
    }
}

/// A foreign-key failure: a DELETE refused because rows still reference the row
/// (PostgreSQL: "update or delete on table …"; SQLite names nothing, so the statement
/// tells), else a row pointing at a missing one.
fn foreign_key_error(mut v: Violation, sql: impl FnOnce() -> String) -> Error {
    if v.message.starts_with("update or delete on table") {
        return Error::DeleteRestricted(v);
    }
    let sql = sql();
    let head = sql.trim_start();
    let is_delete = head.len() >= 6 && head[..6].eq_ignore_ascii_case("DELETE");
    if v.table.is_none() {
        // `INSERT INTO "posts"` / `DELETE FROM "users"` / `UPDATE "posts"`: the first
        // quoted name is the table.
        v.table = head
            .split('"')
            .nth(1)
            .map(|t| t.to_owned())
            .filter(|t| !t.is_empty());
    }
    if is_delete {
        Error::DeleteRestricted(v)
    } else {
        Error::ForeignKeyViolation(v)
    }
}

/// SQLite names no constraint; its messages read `UNIQUE constraint failed: users.email`
/// (table and column) or `CHECK constraint failed: positive_balance` (the constraint).
fn fill_from_sqlite_message(v: &mut Violation) {
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

/// PostgreSQL names the constraint and the table of a unique violation but not the column;
/// its detail does (`Key (username)=(bob) already exists.`): the first column is taken, as
/// SQLite's message gives it, so both backends fill the same attributes.
fn fill_from_postgres_detail(v: &mut Violation) {
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

/// Converts a pool error: a wait that timed out is [`Error::ConnectionTimeout`] naming the
/// pool's size.
pub fn from_pool<E: std::fmt::Display>(
    e: deadpool::managed::PoolError<E>,
    pool_size: usize,
    waited: std::time::Duration,
) -> Error {
    match e {
        deadpool::managed::PoolError::Timeout(deadpool::managed::TimeoutType::Wait) => {
            Error::ConnectionTimeout {
                pool_size,
                waited_ms: waited.as_millis() as u64,
            }
        }
        other => Error::Connection(other.to_string()),
    }
}
