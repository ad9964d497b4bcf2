//! Reading a database's schema (tables, columns, indexes, defaults, unique constraints,
//! foreign keys, CHECK counts) for drift checks.

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
    read_constraints(conn, &mut out).await?;
    out.remove(HISTORY_TABLE);
    out.remove(PROGRESS_TABLE);
    Ok(out)
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
