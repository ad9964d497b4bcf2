//! SQLite's migration hooks: `BEGIN IMMEDIATE` (the write lock) around each step, foreign
//! keys paused while tables are rebuilt, the catalog in `sqlite_master`/`pragma_table_info`.

use super::Sqlite;
use crate::dialect::migrate::{ForeignKeyPause, MigrateHooks};
use chakra_dsl::{DefaultValue, Error, FieldMeta, FieldType};

impl MigrateHooks for Sqlite {
    /// The declared type, lower-cased.
    fn db_type(&self, ty: &FieldType) -> String {
        super::types::column_type(ty).to_ascii_lowercase()
    }

    /// A declared type other programs write (`varchar(50)`, `boolean`, `timestamp`) fits
    /// a field stored the same way (`super::introspect::field_type`).
    fn db_type_matches(&self, have: &str, f: &chakra_dsl::FieldMeta) -> bool {
        have == self.db_type_of(f)
            || super::introspect::field_type(have)
                .is_ok_and(|t| super::types::column_type(&t) == super::types::column_type(&f.ty))
    }

    /// `ALTER TABLE` only renames and adds columns.
    fn rebuilds_to_alter(&self) -> bool {
        true
    }

    /// Also not a `now()` default, which `ADD COLUMN` refuses (not a constant).
    fn adds_column_in_place(&self, field: &FieldMeta) -> bool {
        !field.unique
            && !field.primary_key
            && (field.nullable || field.default.is_some())
            && !matches!(field.default, Some(DefaultValue::Now))
    }

    /// No `ALTER INDEX`; constraints are renamed with their table by the rebuild.
    fn renames_in_place(&self) -> bool {
        false
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

    /// Datetimes are stored as text (`dialect/sqlite/values.rs`).
    fn history_timestamp_type(&self) -> &'static str {
        "TEXT"
    }

    fn table_exists_sql(&self, table: &str) -> String {
        format!("SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
    }

    fn column_count_sql(&self, table: &str, column: &str) -> String {
        format!("SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'")
    }

    /// Decimals are stored as exact text: compare as numbers.
    fn decimal_as_number(&self, c: &str) -> String {
        format!("CAST({c} AS REAL)")
    }

    fn text_not_integer(&self, c: &str, to_i32: bool) -> String {
        let not_int = format!("CAST(CAST({c} AS INTEGER) AS TEXT) <> trim({c})");
        if to_i32 {
            format!(
                "{not_int} OR CAST({c} AS INTEGER) > 2147483647 OR CAST({c} AS INTEGER) < -2147483648"
            )
        } else {
            not_int
        }
    }

    /// `BEGIN IMMEDIATE`: the database's write lock, so concurrent migrators serialize.
    fn begin(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }

    fn foreign_key_pause(&self) -> Option<ForeignKeyPause> {
        Some(ForeignKeyPause {
            off: "PRAGMA foreign_keys = OFF",
            check: "PRAGMA foreign_key_check",
            on: "PRAGMA foreign_keys = ON",
        })
    }

    /// A statement that gave up waiting for another connection's lock.
    fn write_lock_busy(&self, e: &Error) -> bool {
        matches!(e, Error::LockTimeout(_)) || e.to_string().contains("database is locked")
    }
}
