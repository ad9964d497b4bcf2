//! Reading a database's schema (tables, columns, indexes) for drift checks.

use super::drift::{DbColumn, DbSchema};
use super::history::{raw, HISTORY_TABLE, PROGRESS_TABLE};
use crate::exec::Conn;
use crate::sql::Dialect;
use chakra_dsl::{Result, Value, ValueType};

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The schema of the database `conn` is connected to (its current schema on PostgreSQL).
pub async fn introspect(conn: &mut Conn) -> Result<DbSchema> {
    let d = conn.dialect();
    let (columns_sql, indexes_sql) = match d {
        Dialect::Postgres => (
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
             AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname NOT IN (SELECT conname FROM pg_constraint \
             WHERE connamespace = current_schema()::regnamespace AND contype IN ('p', 'u'))",
        ),
        Dialect::Sqlite => (
            "SELECT m.name, p.name, lower(p.type), p.\"notnull\" = 0 AND p.pk = 0 \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' \
             AND name NOT LIKE 'sqlite_autoindex_%'",
        ),
    };
    let mut out = DbSchema::new();
    let q = raw(
        d,
        &[columns_sql],
        vec![],
        vec![
            ValueType::Text,
            ValueType::Text,
            ValueType::Text,
            ValueType::Bool,
        ],
    );
    for r in conn.fetch(&q).await? {
        out.entry(text(&r[0])).or_default().columns.push(DbColumn {
            name: text(&r[1]),
            ty: text(&r[2]),
            nullable: matches!(r[3], Value::Bool(true)),
        });
    }
    let q = raw(
        d,
        &[indexes_sql],
        vec![],
        vec![ValueType::Text, ValueType::Text],
    );
    for r in conn.fetch(&q).await? {
        if let Some(t) = out.get_mut(&text(&r[0])) {
            t.indexes.insert(text(&r[1]));
        }
    }
    out.remove(HISTORY_TABLE);
    out.remove(PROGRESS_TABLE);
    Ok(out)
}
