//! MySQL's migration hooks: DDL that commits statement by statement (every migration runs
//! step by step with its progress recorded, [`MigrateHooks::transactional_ddl`]), the
//! operations' statements (`migrate_ddl.rs`), `lock_wait_timeout` around DDL, the catalog in
//! `information_schema`.

use crate::dialect::MigrateHooks;
use crate::migrate::ddl::Plan;
use crate::migrate::error::MResult;
use crate::migrate::operations::Operation;
use crate::migrate::state::State;
use chakra_dsl::{Error, FieldType};

/// The server error numbers that say a re-run DDL statement's effect is already there: the
/// table, column, key or constraint exists (1050, 1060, 1061, 1826, 3822, MariaDB's 1022
/// duplicate key name on write), or what it drops or renames is gone (1051, 1054, 1091).
const ALREADY_DONE: [u16; 9] = [1050, 1060, 1061, 1826, 3822, 1022, 1051, 1054, 1091];

/// The server's error number in a Chakra error's text (`… (error 1050)`, `errors.rs`).
fn error_number(e: &Error) -> Option<u16> {
    let text = e.to_string();
    let at = text.rfind("(error ")?;
    let rest = &text[at + 7..];
    rest[..rest.find(')')?].parse().ok()
}

/// Whether `sql` is DDL (which commits by itself on MySQL).
fn is_ddl(sql: &str) -> bool {
    let first = sql
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE"
    )
}

impl MigrateHooks for super::Mysql {
    fn history_timestamp_type(&self) -> &'static str {
        "DATETIME(6)"
    }

    fn table_exists_sql(&self, table: &str) -> String {
        format!(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = \
             DATABASE() AND table_name = '{table}')"
        )
    }

    fn column_count_sql(&self, table: &str, column: &str) -> String {
        format!(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = '{table}' AND column_name = '{column}'"
        )
    }

    fn db_type(&self, ty: &FieldType) -> String {
        super::types::column_type(ty).to_ascii_lowercase()
    }

    /// A keyed text column is `VARCHAR(255)` (`types.rs`).
    fn db_type_of(&self, f: &chakra_dsl::FieldMeta) -> String {
        if f.primary_key || f.unique || f.index || f.references.is_some() {
            super::types::keyed_column_type(&f.ty).to_ascii_lowercase()
        } else {
            self.db_type(&f.ty)
        }
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

    fn text_not_integer(&self, c: &str, to_i32: bool) -> String {
        let _ = to_i32;
        format!("NOT ({c} REGEXP '^-?[0-9]+$')")
    }

    fn begin(&self) -> &'static str {
        "START TRANSACTION"
    }

    /// DDL commits by itself: a DML statement (in a `RunSQL`) still runs in a transaction
    /// with its progress record.
    fn runs_in_transaction(&self, sql: &str) -> bool {
        !is_ddl(sql)
    }

    /// `lock_wait_timeout` bounds how long DDL waits for a table's metadata lock (seconds,
    /// at least one).
    fn ddl_lock_timeout_sql(&self, ms: u128) -> Option<String> {
        Some(format!(
            "SET SESSION lock_wait_timeout = {}",
            ms.div_ceil(1000).max(1)
        ))
    }

    fn session_reset(&self) -> Option<&'static str> {
        Some("SET SESSION lock_wait_timeout = DEFAULT")
    }

    /// `GET_LOCK` is a session lock.
    fn lock_is_per_session(&self) -> bool {
        true
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    /// A key must have a bounded type.
    fn history_key_type(&self) -> &'static str {
        "VARCHAR(255)"
    }

    fn progress_upsert_tail(&self) -> &'static str {
        ") ON DUPLICATE KEY UPDATE \"checksum\" = VALUES(\"checksum\"), \"done\" = VALUES(\"done\")"
    }

    /// MySQL cannot read the table an `INSERT` writes in a subquery: a derived table.
    fn next_seq_sql(&self) -> &'static str {
        "(SELECT coalesce(max(\"s\".\"seq\"), 0) + 1 FROM (SELECT \"seq\" FROM \"chakra_migrations\") AS \"s\")"
    }

    fn plan_operation(
        &self,
        op: &Operation,
        before: &State,
        after: &State,
    ) -> MResult<Option<Plan>> {
        super::migrate_ddl::plan_operation(op, before, after)
    }

    fn already_done(&self, sql: &str, e: &Error) -> bool {
        is_ddl(sql) && error_number(e).is_some_and(|n| ALREADY_DONE.contains(&n))
    }

    fn idempotent_ddl_forms(&self) -> bool {
        false
    }

    /// The session every connection gets (`setup.rs`): `ANSI_QUOTES` above all, since the
    /// script quotes identifiers with double quotes.
    fn script_preamble(&self) -> Option<String> {
        Some(super::setup::session_sql())
    }

    /// A field whose column type changes: `MODIFY COLUMN` copies the table
    /// (`ALGORITHM=COPY`; a `VARCHAR` that only grows is changed in place).
    fn copies_table(&self, op: &Operation, before: &State) -> Option<String> {
        let Operation::AlterField { table, field, .. } = op else {
            return None;
        };
        let old = before.table(table)?.field(&field.name)?;
        let ty = |f: &chakra_dsl::FieldMeta| {
            if f.primary_key || f.unique || f.index || f.references.is_some() {
                super::types::keyed_column_type(&f.ty)
            } else {
                super::types::column_type(&f.ty)
            }
        };
        let (a, b) = (ty(old), ty(field));
        if a == b {
            return None;
        }
        let varchar = |t: &str| {
            t.strip_prefix("VARCHAR(")?
                .strip_suffix(')')?
                .parse::<u32>()
                .ok()
        };
        if let (Some(x), Some(y)) = (varchar(&a), varchar(&b)) {
            // utf8mb4: up to 63 characters keep a 1-byte length, longer ones 2 bytes.
            if y > x && (y <= 63 || x > 63) {
                return None;
            }
        }
        Some(format!(
            "changes the type of {table}.{} ({a} to {b}): MySQL/MariaDB copy the whole table, \
             blocking writes to {table} meanwhile; on a big table run it in a quiet moment, or \
             add a new column, backfill it and switch",
            field.name
        ))
    }

    fn unique_indexes_are_keys(&self) -> bool {
        true
    }

    /// InnoDB indexes a foreign key without one, under the constraint's name.
    fn foreign_keys_make_indexes(&self) -> bool {
        true
    }

    /// `length` counts bytes on MySQL.
    fn char_length_fn(&self) -> &'static str {
        "char_length"
    }

    fn integer_cast(&self) -> &'static str {
        "SIGNED"
    }

    fn text_cast(&self) -> &'static str {
        "CHAR"
    }
}
