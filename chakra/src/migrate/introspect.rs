//! Reading a database's schema (tables, columns, indexes, defaults, unique constraints,
//! foreign keys, CHECK counts) for drift checks.

use super::definitions::{
    declared_sqlite, named_checks, normalize_sql, scratch_name, scratch_table, sqlite_index,
    TableDefinitions,
};
use super::drift::{DbColumn, DbSchema};
use super::history::{raw, HISTORY_TABLE, PROGRESS_TABLE};
use super::state::State;
use crate::exec::Conn;
use crate::sql::Dialect;
use chakra_dsl::{Result, Value, ValueType};
use std::collections::BTreeMap;

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
    read_constraints(conn, &mut out).await?;
    read_triggers(conn, &mut out).await?;
    out.remove(HISTORY_TABLE);
    out.remove(PROGRESS_TABLE);
    Ok(out)
}

/// The triggers of every table in `out` (PostgreSQL: those not made by the server for a
/// constraint).
async fn read_triggers(conn: &mut Conn, out: &mut DbSchema) -> Result<()> {
    let d = conn.dialect();
    for t in out.values_mut() {
        t.triggers = Some(Default::default());
    }
    let sql = match d {
        Dialect::Postgres => {
            "SELECT c.relname::text, t.tgname::text FROM pg_trigger t \
             JOIN pg_class c ON c.oid = t.tgrelid \
             WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
        }
        Dialect::Sqlite => "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'",
    };
    for r in conn
        .fetch(&raw(
            d,
            &[sql],
            vec![],
            vec![ValueType::Text, ValueType::Text],
        ))
        .await?
    {
        if let Some(t) = out.get_mut(&text(&r[0])) {
            if let Some(set) = t.triggers.as_mut() {
                set.insert(text(&r[1]));
            }
        }
    }
    Ok(())
}

/// Defaults, unique constraints, foreign keys and CHECK counts of every table in `out`.
async fn read_constraints(conn: &mut Conn, out: &mut DbSchema) -> Result<()> {
    let d = conn.dialect();
    for t in out.values_mut() {
        t.defaults = Some(Default::default());
        t.uniques = Some(Default::default());
        t.foreign_keys = Some(Default::default());
        t.checks = Some(0);
    }
    let four = vec![
        ValueType::Text,
        ValueType::Text,
        ValueType::Text,
        ValueType::Text,
    ];
    match d {
        Dialect::Postgres => {
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
        }
        Dialect::Sqlite => {
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
                    t.checks =
                        Some(upper.matches("CHECK (").count() + upper.matches("CHECK(").count());
                }
            }
        }
    }
    Ok(())
}

/// PostgreSQL: the definitions of the indexes and CHECK constraints of the tables in the
/// namespace `ns` (an SQL expression), by table name.
async fn pg_definitions(conn: &mut Conn, ns: &str) -> Result<TableDefinitions> {
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

/// The definitions of the indexes and CHECK constraints the database has, by table.
pub async fn read_definitions(conn: &mut Conn) -> Result<TableDefinitions> {
    match conn.dialect() {
        Dialect::Postgres => pg_definitions(conn, "current_schema()::regnamespace").await,
        Dialect::Sqlite => {
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
    }
}

/// The definitions of the indexes and CHECK constraints `state` declares, in the words
/// [`read_definitions`] reads the database's. On PostgreSQL they are created on scratch
/// temporary tables in a transaction that is rolled back, and read from the catalog; a table
/// whose scratch copy cannot be made is left out (its other drift is reported by name).
pub async fn declared_definitions(conn: &mut Conn, state: &State) -> Result<TableDefinitions> {
    if conn.dialect() == Dialect::Sqlite {
        return Ok(declared_sqlite(state));
    }
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
        let found = pg_definitions(conn, "pg_my_temp_schema()").await?;
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
