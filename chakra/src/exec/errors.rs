//! Turning diesel and pool errors into [`chakra_dsl::Error`].

use chakra_dsl::{Error, Violation};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Converts a diesel error raised while running `sql`.
pub fn from_diesel(e: DieselError, sql: impl FnOnce() -> String) -> Error {
    match e {
        DieselError::DatabaseError(kind, info) => {
            let mut v = Violation {
                constraint: info.constraint_name().map(str::to_owned),
                table: info.table_name().map(str::to_owned),
                column: info.column_name().map(str::to_owned),
                message: info.message().to_owned(),
            };
            fill_from_sqlite_message(&mut v);
            match kind {
                DatabaseErrorKind::UniqueViolation => Error::UniqueViolation(v),
                DatabaseErrorKind::ForeignKeyViolation => foreign_key_error(v, sql),
                DatabaseErrorKind::NotNullViolation => Error::NotNullViolation(v),
                DatabaseErrorKind::CheckViolation => Error::CheckViolation(v),
                DatabaseErrorKind::ClosedConnection => Error::Connection(v.message),
                // SQLite reports some foreign-key failures (RESTRICT on delete) without the
                // extended code diesel classifies.
                _ if v.message == "FOREIGN KEY constraint failed" => foreign_key_error(v, sql),
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

/// Converts a pool error.
pub fn from_pool<E: std::fmt::Display>(e: deadpool::managed::PoolError<E>) -> Error {
    Error::Connection(e.to_string())
}
