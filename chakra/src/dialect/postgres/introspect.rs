//! PostgreSQL's schema reading for drift checks: the catalog (`pg_attribute`, `pg_indexes`,
//! `pg_constraint`, `pg_trigger`), and index and CHECK definitions in the server's own words
//! (`pg_get_indexdef`/`pg_get_constraintdef`), the declared ones read from scratch temporary
//! tables in a transaction that is rolled back.

use crate::dialect::Dialect;
use crate::exec::Conn;
use crate::migrate::definitions::{checks, TableDefinitions};
use crate::migrate::drift::DbSchema;
use crate::migrate::error::MResult;
use crate::migrate::history::raw;
use crate::migrate::introspect::text;
use crate::migrate::state::State;
use crate::migrate::state::TableState;
use crate::migrate::table_sql::{all_indexes, create_index_sql, create_table_sql};
use chakra_dsl::{Result, ValueType};
use std::collections::BTreeMap;

/// Each column: `(table, column, type, nullable)`, in the current schema; a native enum
/// column's type as `enum <type name>`.
pub const COLUMNS_SQL: &str =
    "SELECT c.relname, a.attname, CASE WHEN ty.typtype = 'e' THEN 'enum ' || ty.typname::text \
     ELSE format_type(a.atttypid, a.atttypmod) END, NOT a.attnotnull \
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
     AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum";

/// Each index that is not a primary key or unique constraint: `(table, index)`.
pub const INDEXES_SQL: &str =
    "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema() \
     AND indexname NOT IN (SELECT conname FROM pg_constraint \
     WHERE connamespace = current_schema()::regnamespace AND contype IN ('p', 'u'))";

/// Each trigger not made by the server for a constraint: `(table, trigger)`.
pub const TRIGGERS_SQL: &str = "SELECT c.relname::text, t.tgname::text FROM pg_trigger t \
     JOIN pg_class c ON c.oid = t.tgrelid \
     WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal";

/// Defaults, unique constraints, foreign keys and CHECK counts of every table in `out`.
pub async fn read_constraints(conn: &mut Conn, out: &mut DbSchema) -> Result<()> {
    let d = Dialect::Postgres;
    let four = vec![
        ValueType::Text,
        ValueType::Text,
        ValueType::Text,
        ValueType::Text,
    ];
    let defaults = "SELECT c.relname::text, a.attname::text, pg_get_expr(ad.adbin, ad.adrelid), '' \
        FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum \
        JOIN pg_class c ON c.oid = ad.adrelid WHERE c.relnamespace = current_schema()::regnamespace";
    for r in conn
        .fetch(&raw(d, &[defaults], vec![], four.clone()))
        .await?
    {
        if let Some(t) = out.get_mut(&text(&r[0])) {
            if let Some(m) = t.defaults.as_mut() {
                m.insert(text(&r[1]), text(&r[2]));
            }
        }
    }
    let cons = "SELECT c.relname::text, con.contype::text, \
        coalesce((SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(con.conkey) \
        WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = con.conrelid \
        AND a.attnum = k.attnum), ''), \
        coalesce(rc.relname::text, '') || '|' || con.confdeltype::text \
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
        LEFT JOIN pg_class rc ON rc.oid = con.confrelid \
        WHERE con.connamespace = current_schema()::regnamespace AND con.contype IN ('u', 'f', 'c')";
    for r in conn.fetch(&raw(d, &[cons], vec![], four.clone())).await? {
        let Some(t) = out.get_mut(&text(&r[0])) else {
            continue;
        };
        match text(&r[1]).as_str() {
            "u" => {
                if let Some(u) = t.uniques.as_mut() {
                    u.insert(text(&r[2]));
                }
            }
            "c" => t.checks = t.checks.map(|n| n + 1),
            _ => {
                let target = text(&r[3]);
                let (table, action) = target.split_once('|').unwrap_or((&target, "a"));
                let action = match action {
                    "c" => "CASCADE",
                    "n" => "SET NULL",
                    "r" => "RESTRICT",
                    "d" => "SET DEFAULT",
                    _ => "NO ACTION",
                };
                if let Some(f) = t.foreign_keys.as_mut() {
                    f.insert((text(&r[2]), table.to_owned(), action.to_owned()));
                }
            }
        }
    }
    Ok(())
}

/// PostgreSQL: the definitions of the indexes and CHECK constraints of the tables in the
/// namespace `ns` (an SQL expression), by table name.
pub async fn definitions(conn: &mut Conn, ns: &str) -> Result<TableDefinitions> {
    let d = Dialect::Postgres;
    let three = vec![ValueType::Text, ValueType::Text, ValueType::Text];
    let indexes = format!(
        "SELECT tc.relname::text, ic.relname::text, \
         CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || am.amname::text || ' (' || \
         (SELECT string_agg(pg_get_indexdef(i.indexrelid, k, true), ', ' ORDER BY k) \
         FROM generate_series(1, i.indnkeyatts) k) || ')' || \
         coalesce(' WHERE ' || pg_get_expr(i.indpred, i.indrelid, true), '') \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_am am ON am.oid = ic.relam \
         WHERE tc.relnamespace = {ns} AND NOT i.indisprimary"
    );
    let checks = format!(
        "SELECT c.relname::text, con.conname::text, pg_get_constraintdef(con.oid, true) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         WHERE c.relnamespace = {ns} AND con.contype = 'c'"
    );
    let mut out = TableDefinitions::new();
    for r in conn
        .fetch(&raw(d, &[&indexes], vec![], three.clone()))
        .await?
    {
        out.entry(text(&r[0]))
            .or_default()
            .indexes
            .insert(text(&r[1]), text(&r[2]));
    }
    for r in conn.fetch(&raw(d, &[&checks], vec![], three)).await? {
        out.entry(text(&r[0]))
            .or_default()
            .checks
            .insert(text(&r[1]), text(&r[2]));
    }
    Ok(out)
}

/// The enum types of the current schema, each with its values in their order.
pub async fn read_enum_types(conn: &mut Conn) -> Result<BTreeMap<String, Vec<String>>> {
    let q = raw(
        Dialect::Postgres,
        &["SELECT t.typname::text, e.enumlabel::text FROM pg_enum e \
           JOIN pg_type t ON t.oid = e.enumtypid \
           WHERE t.typnamespace = current_schema()::regnamespace \
           ORDER BY t.typname, e.enumsortorder"],
        vec![],
        vec![ValueType::Text, ValueType::Text],
    );
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in conn.fetch(&q).await? {
        out.entry(text(&r[0])).or_default().push(text(&r[1]));
    }
    Ok(out)
}

/// The definitions of the indexes and CHECK constraints the database has, by table.
pub async fn read_definitions(conn: &mut Conn) -> Result<TableDefinitions> {
    definitions(conn, "current_schema()::regnamespace").await
}

/// The definitions of the indexes and CHECK constraints `state` declares, created on scratch
/// temporary tables in a transaction that is rolled back, and read from the catalog; a table
/// whose scratch copy cannot be made is left out (its other drift is reported by name).
pub async fn declared_definitions(conn: &mut Conn, state: &State) -> Result<TableDefinitions> {
    conn.batch_execute("BEGIN").await?;
    let result: Result<TableDefinitions> = async {
        let mut names = BTreeMap::new();
        for (n, (table, t)) in state.tables.iter().enumerate() {
            let scratch = scratch_name(n);
            let Ok(statements) = scratch_table(t, &scratch, state) else {
                continue;
            };
            conn.batch_execute("SAVEPOINT chakra_scratch").await?;
            let mut ok = true;
            for s in &statements {
                if conn.batch_execute(s).await.is_err() {
                    ok = false;
                    break;
                }
            }
            if ok {
                conn.batch_execute("RELEASE SAVEPOINT chakra_scratch")
                    .await?;
                names.insert(scratch, table.clone());
            } else {
                conn.batch_execute("ROLLBACK TO SAVEPOINT chakra_scratch")
                    .await?;
            }
        }
        let found = definitions(conn, "pg_my_temp_schema()").await?;
        Ok(found
            .into_iter()
            .filter_map(|(scratch, defs)| names.get(&scratch).map(|t| (t.clone(), defs)))
            .collect())
    }
    .await;
    let rollback = conn.batch_execute("ROLLBACK").await;
    let out = result?;
    rollback?;
    Ok(out)
}

/// The name of the scratch table standing for the `n`th table of the state.
pub fn scratch_name(n: usize) -> String {
    format!("__chakra_scratch_{n}")
}

/// PostgreSQL: the statements creating table `t` as a temporary scratch table named `name`
/// with the indexes and CHECK constraints the history declares (no foreign keys: nothing is
/// locked but the scratch table). The catalog then gives their definitions in the database's
/// own words.
pub fn scratch_table(t: &TableState, name: &str, state: &State) -> MResult<Vec<String>> {
    let d = Dialect::Postgres;
    let mut bare = t.clone();
    for f in &mut bare.fields {
        f.references = None;
    }
    bare.constraints = checks(t).cloned().collect();
    let create = create_table_sql(&bare, name, d, state)?;
    let mut out = vec![create.replacen("CREATE TABLE", "CREATE TEMPORARY TABLE", 1)];
    for i in all_indexes(t) {
        out.push(create_index_sql(name, &i, &bare, d)?);
    }
    Ok(out)
}

/// Whether the current schema has an invalid index named `name` (an interrupted `CREATE
/// INDEX CONCURRENTLY` leaves one, which `IF NOT EXISTS` would keep).
pub async fn invalid_index_exists(conn: &mut Conn, name: &str) -> Result<bool> {
    let q = raw(
        Dialect::Postgres,
        &[
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace \
             AND c.relname = ",
            "",
        ],
        vec![chakra_dsl::Value::Text(name.to_owned())],
        vec![ValueType::I64],
    );
    Ok(conn.fetch(&q).await?.first().and_then(|r| r[0].as_i64()) > Some(0))
}

/// The field type the catalog's words for a column read as (`format_type`'s, or
/// `enum <type>` with the type's values from `enums`), or why none does. Close types Chakra
/// writes otherwise (`smallint`, `real`, `json`, `timestamp without time zone`) read as the
/// nearest field type; the conversion then reports the difference.
pub fn field_type(
    ty: &str,
    enums: &BTreeMap<String, Vec<String>>,
) -> std::result::Result<chakra_dsl::FieldType, String> {
    use chakra_dsl::FieldType as F;
    if let Some(inner) = ty.strip_suffix("[]") {
        return Ok(F::Array(Box::new(field_type(inner, enums)?)));
    }
    if let Some(name) = ty.strip_prefix("enum ") {
        let values = enums
            .get(name)
            .cloned()
            .ok_or_else(|| format!("enum type {name} has no values in pg_enum"))?;
        return Ok(F::Enum {
            name: name.to_owned(),
            values,
        });
    }
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
        "integer" | "smallint" => F::Integer,
        "bigint" => F::BigInteger,
        "character varying" | "character" => F::String { max_length: arg(0) },
        "text" => F::Text,
        "boolean" => F::Boolean,
        "double precision" | "real" => F::Float,
        "numeric" => F::Decimal {
            precision: arg(0),
            scale: arg(0).map(|_| arg(1).unwrap_or(0)),
        },
        "timestamp with time zone" | "timestamp without time zone" => F::DateTime,
        "date" => F::Date,
        "bytea" => F::Bytes,
        "jsonb" | "json" => F::Json,
        "uuid" => F::Uuid,
        _ => return Err(format!("{ty}: no field type stores it")),
    })
}

/// Fills, for every table of `cat` (columns already read), the field types, identity and
/// serial columns, primary keys, unique constraints, foreign keys, indexes and CHECK
/// constraints of the current schema.
pub async fn read_catalog(
    conn: &mut Conn,
    cat: &mut crate::migrate::inspect::Catalog,
) -> Result<()> {
    use crate::migrate::inspect::{
        CatalogCheck, CatalogForeignKey, CatalogIndex, CatalogKey, IndexKey,
    };
    let d = Dialect::Postgres;
    let enums = read_enum_types(conn).await?;
    let ids = "SELECT c.relname::text, a.attname::text FROM pg_attribute a \
        JOIN pg_class c ON c.oid = a.attrelid \
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
        WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0 \
        AND NOT a.attisdropped AND (a.attidentity <> '' \
        OR pg_get_expr(ad.adbin, ad.adrelid) LIKE 'nextval(%')";
    let mut auto: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in conn
        .fetch(&raw(d, &[ids], vec![], vec![ValueType::Text; 2]))
        .await?
    {
        auto.entry(text(&r[0])).or_default().push(text(&r[1]));
    }
    let sep = "chr(31)";
    let cols = |arr: &str, rel: &str| {
        format!(
            "coalesce((SELECT string_agg(a.attname::text, {sep} ORDER BY k.ord) FROM \
             unnest({arr}) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON \
             a.attrelid = {rel} AND a.attnum = k.attnum), '')"
        )
    };
    let cons = format!(
        "SELECT c.relname::text, con.conname::text, con.contype::text, {}, \
         coalesce(rc.relname::text, ''), {}, con.confdeltype::text, \
         pg_get_constraintdef(con.oid, true) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         LEFT JOIN pg_class rc ON rc.oid = con.confrelid \
         WHERE con.connamespace = current_schema()::regnamespace \
         AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY 1, 2",
        cols("con.conkey", "con.conrelid"),
        cols("con.confkey", "con.confrelid"),
    );
    let split = |s: String| -> Vec<String> {
        s.split('\u{1f}')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for r in conn
        .fetch(&raw(d, &[&cons], vec![], vec![ValueType::Text; 8]))
        .await?
    {
        let Some(t) = cat.tables.get_mut(&text(&r[0])) else {
            continue;
        };
        let name = text(&r[1]);
        let columns = split(text(&r[3]));
        match text(&r[2]).as_str() {
            "p" => t.primary_key = columns,
            "u" => t.uniques.push(CatalogKey { name, columns }),
            "f" => t.foreign_keys.push(CatalogForeignKey {
                name,
                columns,
                table: text(&r[4]),
                referenced: split(text(&r[5])),
                on_delete: match text(&r[6]).as_str() {
                    "c" => "CASCADE",
                    "n" => "SET NULL",
                    "r" => "RESTRICT",
                    "d" => "SET DEFAULT",
                    _ => "NO ACTION",
                }
                .to_owned(),
            }),
            _ => {
                let def = text(&r[7]);
                match def.strip_prefix("CHECK ") {
                    Some(clause) if !def.ends_with("NOT VALID") => t.checks.push(CatalogCheck {
                        name,
                        clause: clause.to_owned(),
                    }),
                    _ => t.unreadable.push(format!(
                        "the CHECK {name} ({def}) is not one the format keeps"
                    )),
                }
            }
        }
    }
    let indexes = format!(
        "SELECT tc.relname::text, ic.relname::text, i.indisunique::text, am.amname::text, \
         (SELECT string_agg(CASE WHEN i.indkey[k - 1] = 0 THEN 'e' ELSE 'c' END || \
         pg_get_indexdef(i.indexrelid, k, true), {sep} ORDER BY k) \
         FROM generate_series(1, i.indnkeyatts) k), \
         coalesce(pg_get_expr(i.indpred, i.indrelid, true), ''), \
         pg_get_indexdef(i.indexrelid), \
         (i.indnatts > i.indnkeyatts OR EXISTS (SELECT 1 FROM unnest(i.indoption) o \
         WHERE o <> 0) OR EXISTS (SELECT 1 FROM unnest(i.indcollation) co WHERE co <> 0 \
         AND co <> (SELECT oid FROM pg_collation WHERE collname = 'default')))::text \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_am am ON am.oid = ic.relam \
         WHERE tc.relnamespace = current_schema()::regnamespace AND NOT i.indisprimary \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid \
         AND con.contype IN ('p', 'u', 'x')) ORDER BY 1, 2"
    );
    for r in conn
        .fetch(&raw(d, &[&indexes], vec![], vec![ValueType::Text; 8]))
        .await?
    {
        let Some(t) = cat.tables.get_mut(&text(&r[0])) else {
            continue;
        };
        let keys = split(text(&r[4]))
            .into_iter()
            .map(|k| match k.split_at(1) {
                ("c", col) => IndexKey::Column(col.trim_matches('"').replace("\"\"", "\"")),
                (_, e) => IndexKey::Expression(e.to_owned()),
            })
            .collect();
        let method = text(&r[3]);
        let unusual = if method != "btree" {
            Some(format!("a {method} index"))
        } else if text(&r[7]) == "true" {
            Some("included columns, a key order or a collation".into())
        } else {
            None
        };
        let predicate = Some(text(&r[5])).filter(|p| !p.is_empty());
        t.indexes.push(CatalogIndex {
            name: text(&r[1]),
            unique: text(&r[2]) == "true",
            keys,
            predicate,
            unusual,
            sql: text(&r[6]),
        });
    }
    for (name, t) in cat.tables.iter_mut() {
        let auto = auto.get(name);
        for c in &mut t.columns {
            c.field_type = field_type(&c.ty, &enums);
            c.auto_increment = auto.is_some_and(|a| a.contains(&c.name));
        }
    }
    Ok(())
}
