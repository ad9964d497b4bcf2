//! Turning diesel and pool errors into [`chakra_dsl::Error`].

use chakra_dsl::{Error, Failure, Violation};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Why running a statement failed: the database's error (as diesel would have reported it)
/// or a cell that does not read as its declared type.
#[derive(Debug)]
pub enum RunError {
    /// The database refused or failed the statement.
    Db(DieselError),
    /// A cell did not decode ([`Error::Decode`]), or the statement was refused before it
    /// ran.
    Decode(Error),
    /// The database's error, already recognised by the backend's room (MySQL's by error
    /// number, `dialect::mysql::errors`).
    Mapped(Error),
}

impl From<DieselError> for RunError {
    fn from(e: DieselError) -> Self {
        RunError::Db(e)
    }
}

/// The database an [`Error::ReadOnlyDatabase`] names when the executor does not know its
/// name (a bare pool): its server.
pub const READ_ONLY_SERVER: &str = "server";

/// A statement's failure as Chakra's error.
pub fn from_run(e: RunError, sql: impl FnOnce() -> String) -> Error {
    match e {
        RunError::Db(e) => from_diesel(e, sql),
        RunError::Decode(e) | RunError::Mapped(e) => e,
    }
}

/// The table a statement writes (`INSERT INTO "t"`, `UPDATE "t"`, `DELETE FROM "t"`) or
/// reads first (`… FROM "t"`), from the compiled SQL.
pub(crate) fn statement_table(sql: &str) -> Option<String> {
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

/// A failure Chakra names (retryable or not) that a backend recognised in a database error,
/// with the SQLSTATE it stands for when the backend has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// [`Error::Deadlock`].
    Deadlock,
    /// [`Error::SerializationFailure`].
    SerializationFailure,
    /// [`Error::LockTimeout`].
    LockTimeout,
    /// [`Error::StatementTimeout`].
    StatementTimeout,
    /// [`Error::ConnectionLost`].
    ConnectionLost,
}

/// The concurrency, timeout and lost-connection failures, recognised by the backend that
/// raised them (each room's `errors::recognise`; their messages do not overlap): diesel
/// classifies only a few kinds, so most are recognised by message text (see
/// [`crate::dialect::postgres::errors`] for why PostgreSQL's SQLSTATE is not at hand).
fn concurrency_failure(
    kind: &DatabaseErrorKind,
    message: &str,
    table: Option<String>,
    sql: &str,
) -> Option<Error> {
    let (named, code) = crate::dialect::postgres::errors::recognise(kind, message)
        .or_else(|| crate::dialect::sqlite::errors::recognise(message))?;
    let fail = Failure {
        table: table.or_else(|| statement_table(sql)),
        sqlstate: code.map(str::to_owned),
        message: message.to_owned(),
    };
    Some(match named {
        Named::Deadlock => Error::Deadlock(fail),
        Named::SerializationFailure => Error::SerializationFailure(fail),
        Named::LockTimeout => Error::LockTimeout(fail),
        Named::StatementTimeout => Error::StatementTimeout(fail),
        Named::ConnectionLost => Error::ConnectionLost(fail),
    })
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
            crate::dialect::sqlite::errors::fill_from_message(&mut v);
            crate::dialect::postgres::errors::fill_from_detail(&mut v);
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
                // SQLSTATE 25006: the server takes no writes (a standby, a primary demoted
                // or set `default_transaction_read_only`). [`crate::databases`] puts the
                // database's name in place of the placeholder.
                DatabaseErrorKind::ReadOnlyTransaction => Error::ReadOnlyDatabase {
                    database: READ_ONLY_SERVER.to_owned(),
                    reason: format!(
                        "{} (SQLSTATE 25006): a standby, or a primary set read-only                          (default_transaction_read_only, a standby promoted elsewhere); writes                          need the primary",
                        v.message
                    ),
                },
                _ if crate::dialect::sqlite::errors::is_foreign_key_failure(&v.message) => {
                    foreign_key_error(v, sql)
                }
                _ if crate::dialect::postgres::errors::lost_prepared_statement(&v.message) => {
                    Error::Database {
                        message: format!(
                        "{}: the connection goes through a transaction pooler (such as PgBouncer \
                         in pool_mode = transaction), which runs each transaction on any server \
                         session; open the pool with pooler=transaction (a URL parameter, \
                         chakra.toml [database] pooler, or PoolOptions::pooler)",
                        v.message
                    ),
                        sql: Some(sql()),
                    }
                }
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
