//! The SQLite table rebuild, for the alterations `ALTER TABLE` cannot do there: create the new
//! table under a temporary name, copy the rows, drop the old table, rename the new one,
//! recreate the indexes. Foreign keys must be off while it runs (the executor switches them
//! off outside the transaction and runs `PRAGMA foreign_key_check` before commit), as in
//! SQLite's own "12 steps" and Django's `_remake_table`.

use crate::exec::Conn;
use crate::migrate::ddl::Plan;
use crate::migrate::error::MResult;
use crate::migrate::history::raw;
use crate::migrate::state::{State, TableState};
use crate::migrate::table_sql::{all_indexes, create_index_sql, create_table_sql, default_sql, q};
use crate::Dialect;
use chakra_dsl::{Result, Value, ValueType};

/// The temporary name of the rebuilt table.
pub fn temp_name(table: &str) -> String {
    format!("__chakra_new_{table}")
}

/// Rebuilds table `old` into `new` (same table name). Columns are matched by field name; a
/// column only in `new` takes its default; a column that becomes NOT NULL with a default gets
/// the default where it was NULL.
pub fn rebuild_table(
    old: &TableState,
    new: &TableState,
    state: &State,
    d: Dialect,
) -> MResult<Plan> {
    rebuild_table_using(old, new, state, d, None)
}

/// [`rebuild_table`], with the values of one field (`(field name, expression)`) computed by
/// an AlterField's `using` expression over the old table's columns.
pub fn rebuild_table_using(
    old: &TableState,
    new: &TableState,
    state: &State,
    d: Dialect,
    using: Option<(&str, &str)>,
) -> MResult<Plan> {
    let tmp = temp_name(&new.table);
    let mut s = vec![create_table_sql(new, &tmp, d, state)?];
    let mut targets = Vec::new();
    let mut sources = Vec::new();
    for f in &new.fields {
        let Some(src) = old.field(&f.name) else {
            continue;
        };
        targets.push(q(&f.column)?);
        let col = match using {
            Some((name, expr)) if name == f.name => format!("({expr})"),
            _ => q(&src.column)?,
        };
        sources.push(match default_sql(f, d) {
            Some(def) if src.nullable && !f.nullable => format!("COALESCE({col}, {def})"),
            _ => col,
        });
    }
    s.push(format!(
        "INSERT INTO {} ({}) SELECT {} FROM {}",
        q(&tmp)?,
        targets.join(", "),
        sources.join(", "),
        q(&old.table)?
    ));
    s.push(format!("DROP TABLE {}", q(&old.table)?));
    s.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        q(&tmp)?,
        q(&new.table)?
    ));
    for i in all_indexes(new) {
        s.push(create_index_sql(&new.table, &i, new, d)?);
    }
    Ok(Plan {
        statements: s,
        foreign_keys_off: true,
    })
}

/// The indexes and triggers the database has (`sqlite_master`), as `(type, name, table,
/// sql)`: what a rebuild drops with the old table.
pub async fn indexes_and_triggers(
    conn: &mut Conn,
) -> Result<Vec<(String, String, String, String)>> {
    let q = raw(
        Dialect::Sqlite,
        &["SELECT type, name, tbl_name, sql FROM sqlite_master \
           WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"],
        vec![],
        vec![
            ValueType::Text,
            ValueType::Text,
            ValueType::Text,
            ValueType::Text,
        ],
    );
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(conn
        .fetch(&q)
        .await?
        .iter()
        .map(|r| (text(&r[0]), text(&r[1]), text(&r[2]), text(&r[3])))
        .collect())
}

/// The `CREATE TABLE` text the database keeps for `table`, if it has the table.
pub async fn table_sql(conn: &mut Conn, table: &str) -> Result<Option<String>> {
    let q = raw(
        Dialect::Sqlite,
        &[
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ",
            "",
        ],
        vec![Value::Text(table.to_owned())],
        vec![ValueType::Text],
    );
    Ok(conn
        .fetch(&q)
        .await?
        .first()
        .and_then(|r| r[0].as_str().map(str::to_owned)))
}

/// Whether the database has an object (table, index, trigger, view) named `name`.
pub async fn object_exists(conn: &mut Conn, name: &str) -> Result<bool> {
    let q = raw(
        Dialect::Sqlite,
        &["SELECT count(*) FROM sqlite_master WHERE name = ", ""],
        vec![Value::Text(name.to_owned())],
        vec![ValueType::I64],
    );
    Ok(conn.fetch(&q).await?.first().and_then(|r| r[0].as_i64()) > Some(0))
}
