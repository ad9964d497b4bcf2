//! PostgreSQL's migration hooks: `lock_timeout` around DDL, the client check while waiting,
//! the statements that cannot run in a transaction, the catalog through `to_regclass`.

use super::Postgres;
use crate::dialect::migrate::MigrateHooks;
use chakra_dsl::FieldType;

impl MigrateHooks for Postgres {
    fn db_type(&self, ty: &FieldType) -> String {
        super::types::db_type(ty)
    }

    fn columns_sql(&self) -> &'static str {
        super::introspect::COLUMNS_SQL
    }

    fn indexes_sql(&self) -> &'static str {
        super::introspect::INDEXES_SQL
    }

    fn triggers_sql(&self) -> &'static str {
        super::introspect::TRIGGERS_SQL
    }

    fn history_timestamp_type(&self) -> &'static str {
        "TIMESTAMPTZ"
    }

    fn table_exists_sql(&self, table: &str) -> String {
        format!("SELECT to_regclass('{table}') IS NOT NULL")
    }

    /// Not the commands that refuse a transaction (`… CONCURRENTLY`, `VACUUM`,
    /// `CREATE`/`DROP DATABASE`, `ALTER SYSTEM`).
    fn runs_in_transaction(&self, sql: &str) -> bool {
        let words: Vec<String> = sql
            .split_whitespace()
            .take(6)
            .map(str::to_ascii_uppercase)
            .collect();
        let starts =
            |w: &[&str]| words.len() >= w.len() && words.iter().zip(w).all(|(a, b)| a == b);
        !(words.iter().any(|w| w == "CONCURRENTLY")
            || starts(&["VACUUM"])
            || starts(&["CREATE", "DATABASE"])
            || starts(&["DROP", "DATABASE"])
            || starts(&["ALTER", "SYSTEM"]))
    }

    fn text_not_integer(&self, c: &str, to_i32: bool) -> String {
        let not_int = format!("trim({c}) !~ '^[-+]?[0-9]{{1,18}}$'");
        if to_i32 {
            format!(
                "{not_int} OR (trim({c}) ~ '^[-+]?[0-9]{{1,18}}$' AND (CAST(trim({c}) AS BIGINT) > 2147483647 OR CAST(trim({c}) AS BIGINT) < -2147483648))"
            )
        } else {
            not_int
        }
    }

    fn ddl_lock_timeout_sql(&self, ms: u128) -> Option<String> {
        Some(format!("SET lock_timeout = {ms}"))
    }

    /// A killed migrator must leave nothing waiting on the server: the backend checks its
    /// client every second even while it waits for a lock (PostgreSQL 14+; older servers
    /// refuse the setting, and lock_timeout still bounds the wait).
    fn session_setup(&self) -> Option<&'static str> {
        Some("SET client_connection_check_interval = 1000")
    }

    fn session_reset(&self) -> Option<&'static str> {
        Some("RESET lock_timeout; RESET client_connection_check_interval")
    }

    /// A session advisory lock.
    fn lock_is_per_session(&self) -> bool {
        true
    }
}
