//! `explain`: the database's plan for a statement, as text (PostgreSQL `EXPLAIN`, SQLite
//! `EXPLAIN QUERY PLAN`, MySQL `EXPLAIN FORMAT=JSON`). The statement is compiled as it would run, binds included, and
//! prefixed; nothing else is built here, so the plan is the plan of the real statement.

use super::combined::Combined;
use super::Query;
use crate::exec::Executor;
use crate::model::Model;
use crate::sql::{compile, CompiledQuery, Dialect};
use chakra_dsl::{Error, Result, Statement, Value, ValueType};

/// The plan the database chooses for `stmt`, one line per plan node: PostgreSQL's
/// `EXPLAIN` text as it prints it, SQLite's `EXPLAIN QUERY PLAN` details indented by depth;
/// on MySQL/MariaDB the `EXPLAIN FORMAT=JSON` document.
pub async fn explain<E: Executor>(exec: &mut E, stmt: &Statement) -> Result<String> {
    let dialect = exec.dialect();
    let q = explain_query(stmt, dialect)?;
    let rows = exec.fetch_compiled(&q).await?;
    match dialect {
        // PostgreSQL's text plan, a line per row; MySQL's plan as one JSON document.
        Dialect::Postgres | Dialect::Mysql => rows
            .iter()
            .map(|r| text_cell(r, 0))
            .collect::<Result<Vec<_>>>()
            .map(|lines| lines.join("\n")),
        Dialect::Sqlite => sqlite_tree(&rows),
    }
}

/// `stmt` compiled for `dialect`, prefixed with its `EXPLAIN` form and decoded as the plan's
/// columns.
pub fn explain_query(stmt: &Statement, dialect: Dialect) -> Result<CompiledQuery> {
    let mut q = compile(stmt, dialect)?;
    let (prefix, output): (&str, Vec<ValueType>) = match dialect {
        Dialect::Postgres => ("EXPLAIN ", vec![ValueType::Text]),
        Dialect::Mysql => ("EXPLAIN FORMAT=JSON ", vec![ValueType::Text]),
        Dialect::Sqlite => (
            "EXPLAIN QUERY PLAN ",
            vec![
                ValueType::I64,
                ValueType::I64,
                ValueType::I64,
                ValueType::Text,
            ],
        ),
    };
    let mut parts: Vec<String> = q.parts.iter().cloned().collect();
    match parts.first_mut() {
        Some(first) => first.insert_str(0, prefix),
        None => parts.push(prefix.to_owned()),
    }
    q.parts = parts.into();
    q.output = output.into();
    q.cacheable = false;
    Ok(q)
}

fn text_cell(row: &[Value], i: usize) -> Result<String> {
    match row.get(i) {
        Some(Value::Text(t)) => Ok(t.clone()),
        other => Err(Error::Decode {
            column: "QUERY PLAN".into(),
            reason: format!("expected the plan's text, got {other:?}"),
        }),
    }
}

fn int_cell(row: &[Value], i: usize) -> Result<i64> {
    row.get(i)
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::Decode {
            column: "QUERY PLAN".into(),
            reason: format!("expected a node id in column {i}, got {:?}", row.get(i)),
        })
}

/// SQLite's plan rows `(id, parent, notused, detail)` as indented lines, each node two
/// spaces deeper than its parent.
fn sqlite_tree(rows: &[Vec<Value>]) -> Result<String> {
    let mut depth: Vec<(i64, usize)> = Vec::new();
    let mut lines = Vec::with_capacity(rows.len());
    for r in rows {
        let id = int_cell(r, 0)?;
        let parent = int_cell(r, 1)?;
        let d = depth
            .iter()
            .find(|(i, _)| *i == parent)
            .map_or(0, |(_, d)| d + 1);
        depth.push((id, d));
        lines.push(format!("{}{}", "  ".repeat(d), text_cell(r, 3)?));
    }
    Ok(lines.join("\n"))
}

impl<M: Model> Query<M> {
    /// The database's plan for the statement [`Query::all`] runs ([`explain`]).
    pub async fn explain<E: Executor>(&self, mut exec: E) -> Result<String> {
        explain(&mut exec, &self.to_statement()).await
    }
}

impl<M: Model> Combined<M> {
    /// The database's plan for the combined statement ([`explain`]).
    pub async fn explain<E: Executor>(&self, mut exec: E) -> Result<String> {
        explain(&mut exec, &self.to_statement()).await
    }
}
