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
    let n = normalize_sql(sql).replacen(" if not exists ", " ", 1);
    // `WHERE (c IS NULL)` (as Chakra writes a condition) and `WHERE c IS NULL` are one.
    if let Some(at) = n.find(")where(") {
        let inner = &n[at + ")where(".len()..];
        if let Some(body) = inner.strip_suffix(')') {
            if crate::migrate::drift::balanced_parens(body) {
                return format!("{})where {body}", &n[..at]);
            }
        }
    }
    n
}

/// The field type a declared column type reads as, or why none does. Types with the
/// storage Chakra gives the field: `integer`/`int`/`bigint` (BigInteger: SQLite integers
/// are 64-bit), `varchar(n)` and `text`, `real`/`double`, `blob`, and the types whose values
/// Chakra stores as text or 0/1 that a NUMERIC column keeps as they are (`boolean`, `date`,
/// `datetime`/`timestamp`, `uuid`). A NUMERIC column would turn a decimal's or a JSON
/// document's digits into a number, so `decimal`, `numeric` and `json` are refused.
pub fn field_type(declared: &str) -> std::result::Result<chakra_dsl::FieldType, String> {
    use chakra_dsl::FieldType as F;
    let t = declared.trim().to_ascii_lowercase();
    let (base, args) = match t.split_once('(') {
        Some((b, rest)) => (
            b.trim().to_owned(),
            rest.trim_end_matches(')')
                .split(',')
                .map(|a| a.trim().parse::<u32>().ok())
                .collect::<Vec<_>>(),
        ),
        None => (t.clone(), Vec::new()),
    };
    Ok(match base.as_str() {
        "integer" | "int" | "bigint" | "int8" | "smallint" | "tinyint" | "mediumint" => {
            F::BigInteger
        }
        "varchar" | "character varying" | "nvarchar" | "varying character" | "char"
        | "character" | "nchar" => F::String {
            max_length: args.first().copied().flatten(),
        },
        "text" | "clob" => F::Text,
        "real" | "double" | "double precision" | "float" => F::Float,
        "blob" => F::Bytes,
        "boolean" | "bool" => F::Boolean,
        "date" => F::Date,
        "datetime" | "timestamp" | "timestamptz" => F::DateTime,
        "uuid" => F::Uuid,
        "" => return Err("no declared type (SQLite stores anything there); declare one".into()),
        "decimal" | "numeric" | "json" | "jsonb" => {
            return Err(format!(
                "{declared}: SQLite gives it NUMERIC affinity, which stores text that looks \
                 like a number as a number; Chakra keeps this type as TEXT (declare it TEXT)"
            ))
        }
        _ => return Err(format!("{declared}: no field type stores it")),
    })
}

/// Fills, for every table of `cat` (columns already read), the field types, primary key,
/// unique constraints, foreign keys, indexes, CHECK constraints and `CREATE TABLE` text.
pub async fn read_catalog(
    conn: &mut Conn,
    cat: &mut crate::migrate::inspect::Catalog,
) -> Result<()> {
    use crate::migrate::inspect::{
        CatalogCheck, CatalogForeignKey, CatalogIndex, CatalogKey, IndexKey,
    };
    let d = Dialect::Sqlite;
    let texts = |n: usize| vec![ValueType::Text; n];
    let names: Vec<String> = cat.tables.keys().cloned().collect();
    let mut pks: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for name in &names {
        let bind = || vec![Value::Text(name.clone())];
        let mut pk = Vec::new();
        for r in conn
            .fetch(&raw(
                d,
                &[
                    "SELECT name FROM pragma_table_info(",
                    ") WHERE pk > 0 ORDER BY pk",
                ],
                bind(),
                texts(1),
            ))
            .await?
        {
            pk.push(text(&r[0]));
        }
        pks.insert(name.clone(), pk);
    }
    for name in &names {
        let bind = || vec![Value::Text(name.clone())];
        let ddl = conn
            .fetch(&raw(
                d,
                &[
                    "SELECT coalesce(sql, '') FROM sqlite_master WHERE type = 'table' AND name = ",
                    "",
                ],
                bind(),
                texts(1),
            ))
            .await?
            .first()
            .map(|r| text(&r[0]))
            .unwrap_or_default();
        let idx = conn
            .fetch(&raw(
                d,
                &[
                    "SELECT l.name, CAST(l.\"unique\" AS TEXT), l.origin, coalesce(m.sql, ''), \
                     (SELECT group_concat(CAST(x.cid AS TEXT) || ':' || coalesce(x.name, ''), \
                     char(31)) FROM (SELECT cid, name FROM pragma_index_xinfo(l.name) \
                     WHERE key = 1 ORDER BY seqno) x) \
                     FROM pragma_index_list(",
                    ") l LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name",
                ],
                bind(),
                texts(5),
            ))
            .await?;
        let fks = conn
            .fetch(&raw(
                d,
                &[
                    "SELECT CAST(id AS TEXT), \"table\", \"from\", coalesce(\"to\", ''), \
                     upper(on_delete) FROM pragma_foreign_key_list(",
                    ") ORDER BY id, seq",
                ],
                bind(),
                texts(5),
            ))
            .await?;
        let t = cat.tables.get_mut(name).expect("listed");
        t.primary_key = pks[name].clone();
        let single_integer_pk = t.primary_key.len() == 1;
        for c in &mut t.columns {
            c.field_type = field_type(&c.ty);
            // A rowid alias: the one INTEGER PRIMARY KEY column.
            c.auto_increment = single_integer_pk && t.primary_key[0] == c.name && c.ty == "integer";
        }
        for r in &idx {
            let cols: Vec<(String, String)> = text(&r[4])
                .split('\u{1f}')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let (cid, n) = s.split_once(':').unwrap_or((s, ""));
                    (cid.to_owned(), n.to_owned())
                })
                .collect();
            let unique = text(&r[1]) == "1";
            match text(&r[2]).as_str() {
                "u" => {
                    // SQLite names the index, not the constraint: named as PostgreSQL would.
                    let columns: Vec<String> = cols.into_iter().map(|c| c.1).collect();
                    t.uniques.push(CatalogKey {
                        name: format!("{name}_{}_key", columns.join("_")),
                        columns,
                    })
                }
                "c" => {
                    let sql = text(&r[3]);
                    let (keys_sql, predicate) = index_parts(&sql);
                    let mut keys = Vec::new();
                    let mut unusual = None;
                    for (n, (cid, col)) in cols.iter().enumerate() {
                        let written = keys_sql.get(n).cloned().unwrap_or_default();
                        let lower = normalize_sql(&written);
                        if lower.ends_with(" desc")
                            || lower.ends_with(" asc")
                            || lower.contains(" collate ")
                        {
                            unusual = Some(format!("the key {written} has an order or collation"));
                        }
                        if cid == "-2" {
                            keys.push(IndexKey::Expression(written));
                        } else {
                            keys.push(IndexKey::Column(col.clone()));
                        }
                    }
                    t.indexes.push(CatalogIndex {
                        name: text(&r[0]),
                        unique,
                        keys,
                        predicate,
                        unusual,
                        sql,
                    });
                }
                _ => {} // the primary key's own index
            }
        }
        let mut by_id: std::collections::BTreeMap<String, CatalogForeignKey> = Default::default();
        for r in &fks {
            let fk = by_id
                .entry(text(&r[0]))
                .or_insert_with(|| CatalogForeignKey {
                    name: String::new(),
                    columns: Vec::new(),
                    table: text(&r[1]),
                    referenced: Vec::new(),
                    on_delete: text(&r[4]),
                });
            fk.columns.push(text(&r[2]));
            fk.referenced.push(text(&r[3]));
        }
        for mut fk in by_id.into_values() {
            if fk.referenced.iter().any(String::is_empty) {
                fk.referenced = pks.get(&fk.table).cloned().unwrap_or_default();
            }
            t.foreign_keys.push(fk);
        }
        for item in crate::migrate::definitions::table_items(&ddl) {
            let norm = normalize_sql(item);
            if !(norm.contains(" check(") || norm.contains(" check ") || norm.starts_with("check"))
            {
                continue;
            }
            let named = named_checks(&norm);
            match (norm.starts_with("constraint "), named.into_iter().next()) {
                (true, Some((cname, _))) => {
                    let lower = item.to_ascii_lowercase();
                    let at = lower.find("check").unwrap_or(0);
                    let body = item[at + 5..].trim();
                    let clause = body
                        .strip_prefix('(')
                        .and_then(|b| b.strip_suffix(')'))
                        .unwrap_or(body)
                        .trim()
                        .to_owned();
                    t.checks.push(CatalogCheck {
                        name: cname,
                        clause,
                    });
                }
                _ => t.unreadable.push(format!(
                    "an unnamed CHECK ({item}): name it (CONSTRAINT <name> CHECK …) to keep it \
                     in the migrations"
                )),
            }
        }
        t.ddl = Some(ddl);
    }
    Ok(())
}

/// A `CREATE INDEX` statement's keys as written, and its `WHERE` condition.
fn index_parts(sql: &str) -> (Vec<String>, Option<String>) {
    let Some(open) = sql.find('(') else {
        return (Vec::new(), None);
    };
    let keys: Vec<String> = crate::migrate::definitions::table_items(sql)
        .into_iter()
        .map(str::to_owned)
        .collect();
    // The end of the key list: the `)` that closes `open`.
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut end = sql.len();
    for (i, c) in sql.char_indices().skip_while(|(i, _)| *i < open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    end = i + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    let rest = sql[end..].trim();
    let predicate = (rest.len() > 5 && rest[..5].eq_ignore_ascii_case("where"))
        .then(|| rest[5..].trim().to_owned());
    (keys, predicate)
}
