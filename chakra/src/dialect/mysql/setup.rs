//! Per-connection setup: a strict, portable session, the same on MySQL and MariaDB.
//!
//! - `sql_mode`: `ANSI_QUOTES` (the compiler quotes identifiers with double quotes, so raw
//!   SQL run through Chakra reads `"x"` as an identifier, `'x'` as text),
//!   `STRICT_ALL_TABLES` (a value that does not fit is an error, never cut or zeroed),
//!   `NO_BACKSLASH_ESCAPES` (a backslash is an ordinary character in literals; the compiler's
//!   `LIKE … ESCAPE '\'` relies on it), `NO_ZERO_DATE`, `NO_ZERO_IN_DATE`,
//!   `ERROR_FOR_DIVISION_BY_ZERO`, `NO_ENGINE_SUBSTITUTION`, `PIPES_AS_CONCAT` (`||`
//!   concatenates, as in standard SQL). Not `ONLY_FULL_GROUP_BY`: the compiler groups as
//!   PostgreSQL requires already, and MySQL's check cannot see that an expression of the
//!   grouped expression (a sort key on a grouped subquery) depends on it.
//! - `time_zone = '+00:00'`: `DATETIME(6)` values are UTC instants, `UTC_TIMESTAMP` and
//!   `NOW()` agree.
//! - `NAMES utf8mb4`: the connection speaks full UTF-8.
//! - `div_precision_increment = 20`: a decimal quotient keeps 20 more places (the server's
//!   default is 4), as PostgreSQL's numeric division does at least.

use super::server::Flavour;
use std::time::Duration;

/// The session's `sql_mode`.
pub const SQL_MODE: &str = "ANSI_QUOTES,STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,NO_ZERO_DATE,\
NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,PIPES_AS_CONCAT";

/// The statements run on every new connection.
pub fn session_sql() -> String {
    format!(
        "SET NAMES utf8mb4; SET SESSION sql_mode = '{SQL_MODE}'; SET SESSION time_zone = \
         '+00:00'; SET SESSION div_precision_increment = 20"
    )
}

/// The statement setting the session's statement timeout on `flavour`: MariaDB's
/// `max_statement_time` (seconds, any statement), MySQL's `max_execution_time`
/// (milliseconds, read-only `SELECT`s only).
pub fn statement_timeout_sql(flavour: Flavour, timeout: Duration) -> String {
    match flavour {
        Flavour::Mariadb => format!(
            "SET SESSION max_statement_time = {:.3}",
            timeout.as_secs_f64().max(0.001)
        ),
        Flavour::Mysql => format!(
            "SET SESSION max_execution_time = {}",
            timeout.as_millis().max(1)
        ),
    }
}
