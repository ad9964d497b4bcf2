//! Reading a database's schema (tables, columns, indexes, defaults, unique constraints,
//! foreign keys, CHECK counts) for drift checks. The catalog queries are each dialect's
//! (`dialect/<d>/introspect.rs`, reached through `crate::dialect::migrate`); this walk only
//! assembles what they read.

use super::definitions::TableDefinitions;
use super::drift::{DbColumn, DbSchema};
use super::history::{raw, HISTORY_TABLE, PROGRESS_TABLE};
use super::state::State;
use crate::dialect::migrate as rooms;
use crate::exec::Conn;
use chakra_dsl::{Result, Value, ValueType};

/// A text cell (empty for anything else).
pub(crate) fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The schema of the database `conn` is connected to (its current schema on PostgreSQL).
pub async fn introspect(conn: &mut Conn) -> Result<DbSchema> {
    let d = conn.dialect();
    let hooks = d.migrate();
    let mut out = DbSchema::new();
    let q = raw(
        d,
        &[hooks.columns_sql()],
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
        &[hooks.indexes_sql()],
        vec![],
        vec![ValueType::Text, ValueType::Text],
    );
    for r in conn.fetch(&q).await? {
        if let Some(t) = out.get_mut(&text(&r[0])) {
            t.indexes.insert(text(&r[1]));
        }
    }
    for t in out.values_mut() {
        t.defaults = Some(Default::default());
        t.uniques = Some(Default::default());
        t.foreign_keys = Some(Default::default());
        t.checks = Some(0);
    }
    rooms::read_constraints(conn, &mut out).await?;
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
    for r in conn
        .fetch(&raw(
            d,
            &[d.migrate().triggers_sql()],
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

/// The definitions of the indexes and CHECK constraints the database has, by table.
pub async fn read_definitions(conn: &mut Conn) -> Result<TableDefinitions> {
    rooms::read_definitions(conn).await
}

/// The definitions of the indexes and CHECK constraints `state` declares, in the words
/// [`read_definitions`] reads the database's (see `rooms::declared_definitions`).
pub async fn declared_definitions(conn: &mut Conn, state: &State) -> Result<TableDefinitions> {
    rooms::declared_definitions(conn, state).await
}
