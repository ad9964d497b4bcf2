//! MySQL's and MariaDB's errors as Chakra's, recognised by the server's error NUMBER (never
//! by message text, which the server translates): the driver hands the number over with
//! every server error. The constraint and column a violation names are read from the
//! message's quoted names (MySQL and MariaDB quote them the same way in every language).

use chakra_dsl::{Error, Failure, Violation};
use mysql_async::Error as MyError;

/// Deadlock found when trying to get lock.
pub const DEADLOCK: u16 = 1213;
/// Lock wait timeout exceeded (also MariaDB's `NOWAIT`).
pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
/// MySQL's `NOWAIT`: lock(s) could not be acquired immediately.
pub const LOCK_NOWAIT: u16 = 3572;
/// Duplicate entry for a unique key (and its variants).
pub const UNIQUE: [u16; 3] = [1062, 1586, 1859];
/// Cannot delete or update a parent row (a row still references it).
pub const FK_PARENT: [u16; 2] = [1451, 1217];
/// Cannot add or update a child row (the referenced row is missing).
pub const FK_CHILD: [u16; 2] = [1452, 1216];
/// Column cannot be null; field has no default value.
pub const NOT_NULL: [u16; 2] = [1048, 1364];
/// A CHECK constraint failed: MySQL's 3819, MariaDB's 4025.
pub const CHECK: [u16; 2] = [3819, 4025];
/// Data too long for column.
pub const TOO_LONG: u16 = 1406;
/// Out of range value for column.
pub const OUT_OF_RANGE: u16 = 1264;
/// MySQL server has gone away; lost connection during query (client errors, also sent as
/// server errors by proxies); the connection was killed; the server is shutting down.
pub const LOST: [u16; 5] = [2006, 2013, 1927, 1053, 4031];
/// Division by 0: a warning in a `SELECT` (read by the connection and raised as an error).
pub const DIVISION_BY_ZERO: u32 = 1365;
/// The statement ran past `max_execution_time` (MySQL) or `max_statement_time` (MariaDB).
pub const STATEMENT_TIMEOUT: [u16; 2] = [3024, 1969];

/// The server's error number and message, when the error came from the server.
pub fn server_code(e: &MyError) -> Option<(u16, &str)> {
    match e {
        MyError::Server(s) => Some((s.code, s.message.as_str())),
        _ => None,
    }
}

/// True when the error says the connection is no longer usable (closed, broken socket,
/// protocol out of step): it must not go back to the pool.
pub fn breaks_connection(e: &MyError) -> bool {
    match e {
        MyError::Server(s) => LOST.contains(&s.code),
        MyError::Io(_) | MyError::Driver(_) => true,
        MyError::Other(_) | MyError::Url(_) => false,
    }
}

/// The first `'…'`, `` `…` `` or `"…"` quoted name after `after` in `m` (under
/// `ANSI_QUOTES` the server quotes identifiers with `"`).
fn quoted_after<'a>(m: &'a str, after: &str) -> Option<&'a str> {
    let rest = &m[m.find(after)? + after.len()..];
    let start = rest.find(['\'', '`', '"'])?;
    let q = rest[start..].chars().next()?;
    let body = &rest[start + 1..];
    Some(&body[..body.find(q)?])
}

/// A failure with the table the statement names.
fn failure(code: u16, message: &str, table: Option<String>) -> Failure {
    Failure {
        table,
        sqlstate: Some(
            match code {
                DEADLOCK => "40001",
                _ if LOST.contains(&code) => "08S01",
                _ => "HY000",
            }
            .to_owned(),
        ),
        message: format!("{message} (error {code})"),
    }
}

/// `e`, raised while running `sql`, as Chakra's error.
pub fn to_error(e: MyError, sql: &str) -> Error {
    let table = || crate::exec::errors::statement_table(sql);
    let (code, m) = match &e {
        MyError::Server(s) => (s.code, s.message.clone()),
        MyError::Io(io) => {
            return Error::ConnectionLost(Failure {
                table: table(),
                sqlstate: Some("08S01".into()),
                message: format!("connection to the MySQL server lost: {io}"),
            })
        }
        MyError::Driver(d) => {
            return Error::ConnectionLost(Failure {
                table: table(),
                sqlstate: Some("08S01".into()),
                message: format!("MySQL driver: {d}"),
            })
        }
        other => {
            return Error::Database {
                message: other.to_string(),
                sql: Some(sql.to_owned()),
            }
        }
    };
    let violation = |constraint: Option<String>, column: Option<String>| Violation {
        constraint,
        table: table(),
        column,
        detail: Some(m.as_str().into()),
        message: m.clone(),
    };
    match code {
        DEADLOCK => Error::Deadlock(failure(code, &m, table())),
        LOCK_WAIT_TIMEOUT | LOCK_NOWAIT => Error::LockTimeout(failure(code, &m, table())),
        _ if STATEMENT_TIMEOUT.contains(&code) => {
            Error::StatementTimeout(failure(code, &m, table()))
        }
        _ if LOST.contains(&code) => Error::ConnectionLost(failure(code, &m, table())),
        _ if UNIQUE.contains(&code) => {
            // `Duplicate entry 'bob' for key 'username'` (MySQL 8: `'users.username'`); the
            // key's column is read from the catalog by the connection.
            let key = quoted_after(&m, " for key ").map(|k| {
                let k = k.rsplit('.').next().unwrap_or(k);
                k.to_owned()
            });
            Error::UniqueViolation(violation(key, None))
        }
        _ if FK_PARENT.contains(&code) => {
            let c = quoted_after(&m, "CONSTRAINT ").map(str::to_owned);
            Error::DeleteRestricted(violation(c, None))
        }
        _ if FK_CHILD.contains(&code) => {
            let c = quoted_after(&m, "CONSTRAINT ").map(str::to_owned);
            let col = quoted_after(&m, "FOREIGN KEY (").map(str::to_owned);
            Error::ForeignKeyViolation(violation(c, col))
        }
        _ if NOT_NULL.contains(&code) => {
            let col = quoted_after(&m, "olumn").or_else(|| quoted_after(&m, "ield"));
            Error::NotNullViolation(violation(None, col.map(str::to_owned)))
        }
        _ if CHECK.contains(&code) => {
            // MySQL: `Check constraint 'c' is violated.`; MariaDB: ``CONSTRAINT `c` failed``.
            let c = quoted_after(&m, "onstraint")
                .or_else(|| quoted_after(&m, "CONSTRAINT"))
                .map(str::to_owned);
            Error::CheckViolation(violation(c, None))
        }
        TOO_LONG | OUT_OF_RANGE => Error::Database {
            message: format!(
                "{m} (error {code}: the value does not fit the column's MySQL type; the \
                 server refuses it in Chakra's strict session instead of cutting it)"
            ),
            sql: Some(sql.to_owned()),
        },
        _ => Error::Database {
            message: format!("{m} (error {code})"),
            sql: Some(sql.to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::quoted_after;

    #[test]
    fn names_are_read_from_the_quotes() {
        assert_eq!(
            quoted_after(
                "Duplicate entry 'bob' for key 'users.username'",
                " for key "
            ),
            Some("users.username")
        );
        assert_eq!(
            quoted_after(
                "Cannot add or update a child row: a foreign key constraint fails (`d`.`p`, \
                 CONSTRAINT `p_fk` FOREIGN KEY (`author_id`) REFERENCES `u` (`id`))",
                "FOREIGN KEY ("
            ),
            Some("author_id")
        );
        assert_eq!(
            quoted_after("Column 'name' cannot be null", "olumn"),
            Some("name")
        );
    }
}
