//! SQLite's schema reading for drift checks: `sqlite_master` and the `pragma_*` table-valued
//! functions; index and CHECK definitions from the stored `CREATE` text, normalized token by
//! token (`crate::migrate::definitions`).

use crate::dialect::Dialect;
use crate::exec::Conn;
use crate::migrate::definitions::{
    checks, named_checks, normalize_sql, Definitions, TableDefinitions,
};
use crate::migrate::drift::DbSchema;
use crate::migrate::error::MResult;
use crate::migrate::history::raw;
use crate::migrate::introspect::text;
use crate::migrate::state::{State, TableState};
use crate::migrate::table_sql::{all_indexes, constraint_sql, create_index_sql};
use chakra_dsl::{Result, Value, ValueType};

/// Each column: `(table, column, type, nullable)`.
pub const COLUMNS_SQL: &str =
    "SELECT m.name, p.name, lower(p.type), p.\"notnull\" = 0 AND p.pk = 0 \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid";

/// Each index that is not a primary key or unique constraint: `(table, index)`.
pub const INDEXES_SQL: &str = "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' \
     AND name NOT LIKE 'sqlite_autoindex_%'";

/// Each trigger: `(table, trigger)`.
pub const TRIGGERS_SQL: &str = "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'";

/// Defaults, unique constraints, foreign keys and CHECK counts of every table in `out`.
pub async fn read_constraints(conn: &mut Conn, out: &mut DbSchema) -> Result<()> {
    let d = Dialect::Sqlite;
    let four = vec![
        ValueType::Text,
        ValueType::Text,
        ValueType::Text,
        ValueType::Text,
    ];
    let names: Vec<String> = out.keys().cloned().collect();
    for name in names {
        // The table's name is bound: pragma table-valued functions take parameters.
        let bind = || vec![Value::Text(name.clone())];
        let defaults = [
            "SELECT name, dflt_value, '', '' FROM pragma_table_info(",
            ") WHERE dflt_value IS NOT NULL",
        ];
        let uniques = [
            "SELECT (SELECT group_concat(name, ',') FROM (SELECT name FROM \
             pragma_index_info(l.name) ORDER BY seqno)), '', '', '' FROM pragma_index_list(",
            ") l WHERE l.origin = 'u'",
        ];
        let fks = [
            "SELECT group_concat(\"from\", ','), \"table\", upper(on_delete), '' \
             FROM pragma_foreign_key_list(",
            ") GROUP BY id",
        ];
        let sql = [
            "SELECT coalesce(sql, ''), '', '', '' FROM sqlite_master WHERE type = 'table' AND name = ",
            "",
        ];
        let t = out.get_mut(&name).expect("listed");
        for r in conn.fetch(&raw(d, &defaults, bind(), four.clone())).await? {
            if let Some(m) = t.defaults.as_mut() {
                m.insert(text(&r[0]), text(&r[1]));
            }
        }
        for r in conn.fetch(&raw(d, &uniques, bind(), four.clone())).await? {
            if let Some(u) = t.uniques.as_mut() {
                u.insert(text(&r[0]));
            }
        }
        for r in conn.fetch(&raw(d, &fks, bind(), four.clone())).await? {
            if let Some(f) = t.foreign_keys.as_mut() {
                f.insert((text(&r[0]), text(&r[1]), text(&r[2])));
            }
        }
        if let Some(r) = conn
            .fetch(&raw(d, &sql, bind(), four.clone()))
            .await?
            .first()
        {
            let upper = text(&r[0]).to_ascii_uppercase();
            t.checks = Some(upper.matches("CHECK (").count() + upper.matches("CHECK(").count());
        }
    }
    Ok(())
}

/// The definitions of the indexes and CHECK constraints the database has, by table.
pub async fn read_definitions(conn: &mut Conn) -> Result<TableDefinitions> {
    let d = Dialect::Sqlite;
    let sql = "SELECT tbl_name, name, type, sql FROM sqlite_master \
               WHERE type IN ('index', 'table') AND sql IS NOT NULL";
    let four = vec![
        ValueType::Text,
        ValueType::Text,
        ValueType::Text,
        ValueType::Text,
    ];
    let mut out = TableDefinitions::new();
    for r in conn.fetch(&raw(d, &[sql], vec![], four)).await? {
        let defs = out.entry(text(&r[0])).or_default();
        if text(&r[2]) == "index" {
            defs.indexes.insert(text(&r[1]), sqlite_index(&text(&r[3])));
        } else {
            defs.checks = named_checks(&normalize_sql(&text(&r[3])));
        }
    }
    Ok(out)
}

/// SQLite: what the history declares, normalized as [`sqlite_index`] and [`named_checks`]
/// read the database. A table whose statements cannot be made is left out (as on
/// PostgreSQL; its other drift is reported by name).
pub fn declared_sqlite(state: &State) -> TableDefinitions {
    let mut out = TableDefinitions::new();
    for (name, t) in &state.tables {
        if let Ok(defs) = declared_sqlite_table(name, t) {
            out.insert(name.clone(), defs);
        }
    }
    out
}

fn declared_sqlite_table(name: &str, t: &TableState) -> MResult<Definitions> {
    let d = Dialect::Sqlite;
    let mut defs = Definitions::default();
    for i in all_indexes(t) {
        let sql = create_index_sql(name, &i, t, d)?;
        defs.indexes.insert(i.name.clone(), sqlite_index(&sql));
    }
    for c in checks(t) {
        let clause = normalize_sql(&constraint_sql(c, Some((t, d)))?);
        defs.checks.extend(named_checks(&clause));
    }
    for f in &t.fields {
        if let Some(clause) = crate::sql::ddl::enum_check_sql(name, f)? {
            defs.checks.extend(named_checks(&normalize_sql(&clause)));
        }
    }
    Ok(defs)
}

/// SQLite: an index's `CREATE INDEX` text as compared (normalized; `IF NOT EXISTS` left out).
pub fn sqlite_index(sql: &str) -> String {
    normalize_sql(sql).replacen(" if not exists ", " ", 1)
}
