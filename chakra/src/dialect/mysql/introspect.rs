//! MySQL's catalog for drift checks (`migrate check`): `information_schema` read and
//! normalised to the words the drift code compares (`migrate/drift.rs`,
//! `migrate/definitions.rs`): the types as the type table writes them (`tinyint(1)` is
//! `boolean`, integers without display width, `decimal(p, s)`, MariaDB's `JSON` — a
//! `LONGTEXT` with a `json_valid` CHECK named after the column — as `json`), defaults without
//! MySQL's spellings (`NULL` is no default, a boolean's `1` is `true`), CHECK clauses
//! without charset introducers (`_utf8mb4'a'`). The declared side is Chakra's own DDL text,
//! normalised the same way ([`crate::migrate::definitions::normalize_sql`]).

use crate::exec::Conn;
use crate::migrate::definitions::{normalize_sql, Definitions, TableDefinitions};
use crate::migrate::drift::DbSchema;
use crate::migrate::history::raw;
use crate::migrate::introspect::text;
use crate::migrate::operations::ConstraintKind;
use crate::migrate::state::State;
use crate::migrate::table_sql::{all_indexes, condition_sql};
use crate::sql::ddl::field_enum_check_name;
use crate::sql::Dialect;
use chakra_dsl::{ident, Result, ValueType};
use std::collections::BTreeMap;

const D: Dialect = Dialect::Mysql;

/// Each column as `(table, column, type, nullable)`, the type normalised.
pub const COLUMNS_SQL: &str = "SELECT table_name, column_name, CASE \
     WHEN column_type = 'tinyint(1)' THEN 'boolean' \
     WHEN data_type = 'int' THEN 'integer' \
     WHEN data_type = 'bigint' THEN 'bigint' \
     WHEN data_type = 'decimal' THEN CONCAT('decimal(', numeric_precision, ', ', numeric_scale, ')') \
     ELSE LOWER(column_type) END, is_nullable = 'YES' \
     FROM information_schema.columns WHERE table_schema = DATABASE() \
     ORDER BY table_name, ordinal_position";

/// Each index that is not the primary key or a unique key, as `(table, index)`.
pub const INDEXES_SQL: &str = "SELECT DISTINCT table_name, index_name FROM \
     information_schema.statistics WHERE table_schema = DATABASE() AND non_unique = 1 \
     ORDER BY table_name, index_name";

/// Each trigger as `(table, trigger)`.
pub const TRIGGERS_SQL: &str = "SELECT event_object_table, trigger_name FROM \
     information_schema.triggers WHERE trigger_schema = DATABASE()";

/// A CHECK clause as compared: normalised, charset introducers (`_utf8mb4'a'`) dropped and
/// the outer parentheses MySQL adds taken off.
fn check_clause(clause: &str) -> String {
    let mut s = clause.to_owned();
    for cs in ["_utf8mb4", "_utf8mb3", "_utf8", "_latin1", "_binary"] {
        s = s.replace(&format!("{cs}'"), "'");
        s = s.replace(&format!("{cs} '"), "'");
    }
    let mut n = normalize_sql(&s);
    while n.starts_with('(') && n.ends_with(')') && balanced(&n[1..n.len() - 1]) {
        n = n[1..n.len() - 1].to_owned();
    }
    n
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// MariaDB's `JSON` column check: named after the column, `json_valid(column)`.
fn is_json_check(name: &str, clause: &str) -> bool {
    check_clause(clause) == format!("json_valid({})", name.to_ascii_lowercase())
}

/// The CHECK constraints: `(table, name, clause)` (MariaDB's JSON checks included).
async fn checks(conn: &mut Conn) -> Result<Vec<(String, String, String)>> {
    let q = raw(
        D,
        &[
            "SELECT tc.table_name, tc.constraint_name, cc.check_clause FROM \
           information_schema.table_constraints tc JOIN information_schema.check_constraints cc \
           ON cc.constraint_schema = tc.constraint_schema AND cc.constraint_name = \
           tc.constraint_name WHERE tc.table_schema = DATABASE() AND tc.constraint_type = 'CHECK' \
           ORDER BY 1, 2",
        ],
        vec![],
        vec![ValueType::Text, ValueType::Text, ValueType::Text],
    );
    let mut out: Vec<(String, String, String)> = conn
        .fetch(&q)
        .await?
        .into_iter()
        .map(|r| (text(&r[0]), text(&r[1]), text(&r[2])))
        .collect();
    out.dedup();
    Ok(out)
}

/// Fills the defaults, unique keys, foreign keys and CHECK counts of every table in `out`;
/// a MariaDB `JSON` column (a `LONGTEXT` with its `json_valid` check) reads as `json`.
pub async fn read_constraints(conn: &mut Conn, out: &mut DbSchema) -> Result<()> {
    let two = vec![ValueType::Text, ValueType::Text];
    let defaults = raw(
        D,
        &[
            "SELECT table_name, column_name, column_default FROM information_schema.columns \
           WHERE table_schema = DATABASE() AND column_default IS NOT NULL AND \
           UPPER(column_default) <> 'NULL' AND extra NOT LIKE '%auto_increment%'",
        ],
        vec![],
        vec![ValueType::Text, ValueType::Text, ValueType::Text],
    );
    for r in conn.fetch(&defaults).await? {
        if let Some(t) = out.get_mut(&text(&r[0])) {
            let col = text(&r[1]);
            let mut v = text(&r[2]);
            let boolean = t.columns.iter().any(|c| c.name == col && c.ty == "boolean");
            if boolean {
                v = match v.as_str() {
                    "1" => "true".into(),
                    "0" => "false".into(),
                    _ => v,
                };
            }
            if let Some(m) = t.defaults.as_mut() {
                m.insert(col, v);
            }
        }
    }
    let uniques = raw(
        D,
        &[
            "SELECT table_name, GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ',') \
           FROM information_schema.statistics WHERE table_schema = DATABASE() AND non_unique = 0 \
           AND index_name <> 'PRIMARY' GROUP BY table_name, index_name",
        ],
        vec![],
        two.clone(),
    );
    for r in conn.fetch(&uniques).await? {
        if let Some(u) = out.get_mut(&text(&r[0])).and_then(|t| t.uniques.as_mut()) {
            u.insert(text(&r[1]));
        }
    }
    let fks = raw(
        D,
        &[
            "SELECT k.table_name, GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position \
           SEPARATOR ','), MAX(rc.referenced_table_name), MAX(rc.delete_rule) FROM \
           information_schema.key_column_usage k JOIN information_schema.referential_constraints \
           rc ON rc.constraint_schema = k.constraint_schema AND rc.constraint_name = \
           k.constraint_name AND rc.table_name = k.table_name WHERE k.table_schema = DATABASE() \
           GROUP BY k.table_name, k.constraint_name",
        ],
        vec![],
        vec![
            ValueType::Text,
            ValueType::Text,
            ValueType::Text,
            ValueType::Text,
        ],
    );
    for r in conn.fetch(&fks).await? {
        if let Some(f) = out
            .get_mut(&text(&r[0]))
            .and_then(|t| t.foreign_keys.as_mut())
        {
            f.insert((text(&r[1]), text(&r[2]), text(&r[3]).to_ascii_uppercase()));
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (table, name, clause) in checks(conn).await? {
        let Some(t) = out.get_mut(&table) else {
            continue;
        };
        if is_json_check(&name, &clause) {
            if let Some(c) = t.columns.iter_mut().find(|c| c.name == name) {
                c.ty = "json".into();
                continue;
            }
        }
        *counts.entry(table).or_default() += 1;
    }
    for (name, t) in out.iter_mut() {
        t.checks = Some(counts.get(name).copied().unwrap_or(0));
    }
    Ok(())
}

/// An index as compared: `unique (a,b)` or `(a,b)`.
fn index_words(unique: bool, columns: &[String]) -> String {
    format!(
        "{}({})",
        if unique { "unique " } else { "" },
        columns.join(",").to_ascii_lowercase()
    )
}

/// The definitions of the indexes (non-unique and unique, not the primary key) and CHECK
/// constraints the database has, by table.
pub async fn read_definitions(conn: &mut Conn) -> Result<TableDefinitions> {
    let q = raw(
        D,
        &[
            "SELECT table_name, index_name, GROUP_CONCAT(CASE WHEN sub_part IS NULL THEN \
           column_name ELSE CONCAT(column_name, '(', sub_part, ')') END ORDER BY seq_in_index \
           SEPARATOR ','), MIN(non_unique) FROM information_schema.statistics WHERE \
           table_schema = DATABASE() AND index_name <> 'PRIMARY' GROUP BY table_name, index_name",
        ],
        vec![],
        vec![
            ValueType::Text,
            ValueType::Text,
            ValueType::Text,
            ValueType::I64,
        ],
    );
    let mut out = TableDefinitions::new();
    for r in conn.fetch(&q).await? {
        let cols: Vec<String> = text(&r[2]).split(',').map(str::to_owned).collect();
        out.entry(text(&r[0]))
            .or_default()
            .indexes
            .insert(text(&r[1]), index_words(r[3].as_i64() == Some(0), &cols));
    }
    for (table, name, clause) in checks(conn).await? {
        if is_json_check(&name, &clause) {
            continue;
        }
        out.entry(table)
            .or_default()
            .checks
            .insert(name, check_clause(&clause));
    }
    Ok(out)
}

/// The definitions `state` declares, in [`read_definitions`]' words.
pub fn declared_definitions(state: &State) -> TableDefinitions {
    let mut out = TableDefinitions::new();
    for (name, t) in &state.tables {
        let mut defs = Definitions::default();
        for i in all_indexes(t) {
            defs.indexes
                .insert(i.name.clone(), index_words(i.unique, &i.columns));
        }
        for c in &t.constraints {
            let clause = match &c.kind {
                ConstraintKind::Check { check } => check.clone(),
                ConstraintKind::CheckLookup { condition } => match condition_sql(t, condition, D) {
                    Ok(s) => s,
                    Err(_) => continue,
                },
                _ => continue,
            };
            defs.checks.insert(c.name.clone(), check_clause(&clause));
        }
        for f in &t.fields {
            if let Some(values) = f.ty.enum_values() {
                let list: Vec<String> = values
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect();
                defs.checks.insert(
                    field_enum_check_name(name, &f.column),
                    check_clause(&format!("{} in ({})", f.column, list.join(","))),
                );
            }
        }
        out.insert(name.clone(), defs);
    }
    out
}

/// The field type the normalised words for a column read as ([`COLUMNS_SQL`]'s), or why
/// none does. Close types Chakra writes otherwise (`text`, `float`, `datetime` without
/// fraction, `blob`) read as the nearest field type; the conversion reports the difference.
pub fn field_type(ty: &str) -> std::result::Result<chakra_dsl::FieldType, String> {
    use chakra_dsl::FieldType as F;
    let (base, args) = match ty.split_once('(') {
        Some((b, rest)) => (
            b.trim(),
            rest.trim_end_matches(')')
                .split(',')
                .map(|a| a.trim().parse::<u32>().ok())
                .collect::<Vec<_>>(),
        ),
        None => (ty, Vec::new()),
    };
    let arg = |n: usize| args.get(n).copied().flatten();
    Ok(match base {
        "integer" | "smallint" | "mediumint" | "tinyint" => F::Integer,
        "bigint" => F::BigInteger,
        "boolean" => F::Boolean,
        "varchar" => F::String { max_length: arg(0) },
        "char" if arg(0) == Some(36) => F::Uuid,
        "char" => F::String { max_length: arg(0) },
        "longtext" | "mediumtext" | "text" | "tinytext" => F::Text,
        "double" | "float" => F::Float,
        "decimal" => F::Decimal {
            precision: arg(0),
            scale: arg(1),
        },
        "datetime" | "timestamp" => F::DateTime,
        "date" => F::Date,
        "longblob" | "mediumblob" | "blob" | "tinyblob" | "varbinary" | "binary" => F::Bytes,
        "json" => F::Json,
        _ => return Err(format!("{ty}: no field type stores it")),
    })
}

/// Fills, for every table of `cat` (columns already read), the field types,
/// `AUTO_INCREMENT` columns, primary keys, unique keys, foreign keys, indexes, CHECK
/// constraints and `SHOW CREATE TABLE` text.
pub async fn read_catalog(
    conn: &mut Conn,
    cat: &mut crate::migrate::inspect::Catalog,
) -> Result<()> {
    use crate::migrate::inspect::{
        CatalogCheck, CatalogForeignKey, CatalogIndex, CatalogKey, IndexKey,
    };
    let auto = raw(
        D,
        &[
            "SELECT table_name, column_name FROM information_schema.columns WHERE \
           table_schema = DATABASE() AND extra LIKE '%auto_increment%'",
        ],
        vec![],
        vec![ValueType::Text; 2],
    );
    let auto: Vec<(String, String)> = conn
        .fetch(&auto)
        .await?
        .into_iter()
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect();
    let stats = raw(
        D,
        &[
            "SELECT table_name, index_name, CAST(MIN(non_unique) AS CHAR), \
           GROUP_CONCAT(CASE WHEN column_name IS NULL THEN 'e' ELSE 'c' END ORDER BY \
           seq_in_index SEPARATOR ''), GROUP_CONCAT(COALESCE(column_name, '') ORDER BY \
           seq_in_index SEPARATOR '\u{1f}'), CAST(MAX(sub_part IS NOT NULL) AS CHAR), \
           MAX(index_type), CAST(MAX(collation = 'D') AS CHAR) \
           FROM information_schema.statistics WHERE table_schema = DATABASE() \
           GROUP BY table_name, index_name ORDER BY table_name, index_name",
        ],
        vec![],
        vec![ValueType::Text; 8],
    );
    let stats = conn.fetch(&stats).await?;
    let fks = raw(
        D,
        &[
            "SELECT k.table_name, k.constraint_name, GROUP_CONCAT(k.column_name ORDER BY \
           k.ordinal_position SEPARATOR '\u{1f}'), MAX(k.referenced_table_name), \
           GROUP_CONCAT(k.referenced_column_name ORDER BY k.ordinal_position SEPARATOR \
           '\u{1f}'), MAX(rc.delete_rule) FROM information_schema.key_column_usage k JOIN \
           information_schema.referential_constraints rc ON rc.constraint_schema = \
           k.constraint_schema AND rc.constraint_name = k.constraint_name AND rc.table_name = \
           k.table_name WHERE k.table_schema = DATABASE() GROUP BY k.table_name, \
           k.constraint_name ORDER BY 1, 2",
        ],
        vec![],
        vec![ValueType::Text; 6],
    );
    let fks = conn.fetch(&fks).await?;
    let checks = checks(conn).await?;
    let split = |s: String| -> Vec<String> {
        s.split('\u{1f}')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for r in fks {
        if let Some(t) = cat.tables.get_mut(&text(&r[0])) {
            t.foreign_keys.push(CatalogForeignKey {
                name: text(&r[1]),
                columns: split(text(&r[2])),
                table: text(&r[3]),
                referenced: split(text(&r[4])),
                on_delete: text(&r[5]).to_ascii_uppercase(),
            });
        }
    }
    for r in stats {
        let Some(t) = cat.tables.get_mut(&text(&r[0])) else {
            continue;
        };
        let name = text(&r[1]);
        let columns = split(text(&r[4]));
        let unique = text(&r[2]) == "0";
        let expressions = text(&r[3]).contains('e');
        if name == "PRIMARY" {
            t.primary_key = columns;
            continue;
        }
        let unusual = if text(&r[5]) == "1" {
            Some("a prefix length on a key".to_owned())
        } else if text(&r[6]) != "BTREE" {
            Some(format!("a {} index", text(&r[6])))
        } else if text(&r[7]) == "1" {
            Some("a descending key".to_owned())
        } else if expressions {
            Some("an expression key".to_owned())
        } else {
            None
        };
        if unique && unusual.is_none() {
            t.uniques.push(CatalogKey { name, columns });
            continue;
        }
        let cols = columns
            .iter()
            .map(|c| ident::quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "CREATE {}INDEX {} ON {} ({cols})",
            if unique { "UNIQUE " } else { "" },
            ident::quote(&name),
            ident::quote(&text(&r[0]))
        );
        t.indexes.push(CatalogIndex {
            name,
            unique,
            keys: columns.into_iter().map(IndexKey::Column).collect(),
            predicate: None,
            unusual,
            sql,
        });
    }
    for (table, name, clause) in checks {
        let Some(t) = cat.tables.get_mut(&table) else {
            continue;
        };
        if is_json_check(&name, &clause) && t.columns.iter().any(|c| c.name == name) {
            continue;
        }
        t.checks.push(CatalogCheck { name, clause });
    }
    for (name, t) in cat.tables.iter_mut() {
        for c in &mut t.columns {
            c.field_type = field_type(&c.ty);
            c.auto_increment = auto.iter().any(|(a, b)| a == name && *b == c.name);
        }
    }
    Ok(())
}
