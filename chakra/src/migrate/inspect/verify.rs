//! The inspected state checked against the database it came from, as `migrate check` will:
//! an index whose definition in the format's words comes out otherwise than the database's
//! (a condition Chakra compiles differently) is kept as a RunSQL of the database's own
//! statement instead; every difference that remains is returned, to be listed.

use super::catalog::Catalog;
use super::convert::{Inspected, LeftOut};
use crate::exec::Conn;
use crate::migrate::operations::{DialectSql, Operation, RawObject};
use chakra_dsl::Result;

/// Settles `inspected` against the database `conn` reads (`catalog` is what was read):
/// the differences `check` would still report for its tables.
pub async fn settle(
    conn: &mut Conn,
    catalog: &Catalog,
    inspected: &mut Inspected,
) -> Result<Vec<String>> {
    let d = conn.dialect();
    let have = crate::migrate::introspect::read_definitions(conn).await?;
    let want = crate::migrate::introspect::declared_definitions(conn, &inspected.state).await?;
    for (table, w) in &want {
        let (Some(h), Some(t), Some(cat)) = (
            have.get(table),
            inspected.state.tables.get_mut(table),
            catalog.tables.get(table),
        ) else {
            continue;
        };
        for (name, def) in &w.indexes {
            if h.indexes.get(name).is_none_or(|x| x == def) {
                continue;
            }
            let (Some(pos), Some(ci)) = (
                t.indexes.iter().position(|i| &i.name == name),
                cat.indexes.iter().find(|i| &i.name == name),
            ) else {
                continue;
            };
            t.indexes.remove(pos);
            let one = Some(ci.sql.clone());
            let sql = match d {
                crate::Dialect::Postgres => DialectSql::PerDialect {
                    postgres: one,
                    sqlite: None,
                    mysql: None,
                },
                crate::Dialect::Sqlite => DialectSql::PerDialect {
                    postgres: None,
                    sqlite: one,
                    mysql: None,
                },
                crate::Dialect::Mysql => DialectSql::PerDialect {
                    postgres: None,
                    sqlite: None,
                    mysql: one,
                },
            };
            inspected
                .run_sql
                .entry(table.clone())
                .or_default()
                .push(Operation::RunSql {
                    sql,
                    reverse_sql: None,
                    creates: vec![RawObject::Index(name.clone())],
                });
            inspected.notes.push(LeftOut {
                table: table.clone(),
                what: format!(
                    "index {name}: the format's words for it come out as {def}, the database \
                     has {}; kept as a RunSQL that creates it",
                    h.indexes[name]
                ),
                sql: None,
                as_run_sql: true,
            });
        }
    }
    // What `check` will see: the state with its RunSQL objects, against these tables.
    let mut state = inspected.state.clone();
    for ops in inspected.run_sql.values() {
        for op in ops {
            if let Operation::RunSql { creates, .. } = op {
                state.raw.extend(creates.iter().cloned());
            }
        }
    }
    let mut db = crate::migrate::introspect::introspect(conn).await?;
    db.retain(|t, _| state.tables.contains_key(t));
    let mut out = crate::migrate::drift::compare(&state, &db, d);
    if let Some(types) = crate::dialect::migrate::read_enum_types(conn).await? {
        out.extend(crate::migrate::drift::compare_enum_types(&state, &types));
    }
    let have = crate::migrate::introspect::read_definitions(conn).await?;
    let want = crate::migrate::introspect::declared_definitions(conn, &state).await?;
    out.extend(crate::migrate::definitions::compare(&want, &have));
    Ok(out)
}
