//! MySQL's migration hooks — a later stage. Migrations refuse a MySQL/MariaDB database
//! before any of these is asked ([`refusal`], from `Migrator::new`, the planner and the
//! CLI); the hooks hold MySQL's forms of the catalog queries so the table is complete.

use crate::dialect::MigrateHooks;
use chakra_dsl::{Error, FieldType};

/// The named error every migration entry point gives on MySQL/MariaDB in this stage.
pub fn refusal() -> Error {
    Error::Migration(
        "migrations: not yet supported on MySQL/MariaDB (create the tables with \
         chakra::schema::create_tables meanwhile)"
            .into(),
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

    fn columns_sql(&self) -> &'static str {
        "SELECT table_name, column_name, column_type, is_nullable = 'YES' FROM \
         information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, \
         ordinal_position"
    }

    fn indexes_sql(&self) -> &'static str {
        "SELECT DISTINCT table_name, index_name FROM information_schema.statistics WHERE \
         table_schema = DATABASE() AND non_unique = 1 ORDER BY table_name, index_name"
    }

    fn triggers_sql(&self) -> &'static str {
        "SELECT event_object_table, trigger_name FROM information_schema.triggers WHERE \
         trigger_schema = DATABASE()"
    }

    fn text_not_integer(&self, c: &str, to_i32: bool) -> String {
        let _ = to_i32;
        format!("NOT ({c} REGEXP '^-?[0-9]+$')")
    }

    fn begin(&self) -> &'static str {
        "START TRANSACTION"
    }
}
