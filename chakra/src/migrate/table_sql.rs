//! SQL pieces for one table of a [`State`]: column definitions (with foreign keys and named
//! field constraints), `CREATE TABLE`, indexes, table constraints, and the names Chakra gives
//! to the constraints and indexes a field implies. Every identifier is validated and quoted.

use super::error::{MResult, MigrationError};
use super::operations::{ConstraintDef, ConstraintKind, IndexDef};
use super::state::{State, TableState};
use crate::Dialect;
use chakra_dsl::table_options::{Cond, IndexExpr};
use chakra_dsl::{ident, FieldMeta, ForeignKeyRef};

/// A validated, quoted identifier.
pub fn q(name: &str) -> MResult<String> {
    ident::validate(name).map_err(MigrationError::from)?;
    Ok(ident::quote(name))
}

fn q_list(names: &[String]) -> MResult<String> {
    Ok(names
        .iter()
        .map(|n| q(n))
        .collect::<MResult<Vec<_>>>()?
        .join(", "))
}

pub use crate::sql::ddl::{
    default_sql, field_index_name, field_unique_name, fk_constraint_name as field_fk_name,
};

/// The `REFERENCES …` clause of a foreign key (the referenced column defaults to the
/// referenced table's primary key).
pub fn references_sql(
    r: &ForeignKeyRef,
    state: &State,
    this: Option<&TableState>,
) -> MResult<String> {
    let mut s = format!("REFERENCES {}", q(&r.table)?);
    let column = if r.column.is_empty() {
        let target = state
            .table(&r.table)
            .or(this.filter(|t| t.table == r.table));
        target
            .and_then(|t| t.fields.iter().find(|f| f.primary_key))
            .map(|f| f.column.clone())
    } else {
        Some(r.column.clone())
    };
    if let Some(c) = column {
        s.push_str(&format!(" ({})", q(&c)?));
    }
    s.push_str(" ON DELETE ");
    s.push_str(r.on_delete.sql());
    Ok(s)
}

/// One column definition for `CREATE TABLE` / `ADD COLUMN` (the one definition
/// `sql::ddl` writes, with the reference resolved against the state).
pub fn column_def(
    t: &TableState,
    f: &FieldMeta,
    d: Dialect,
    single_pk: bool,
    state: &State,
) -> MResult<String> {
    let references = match &f.references {
        Some(r) => Some(references_sql(r, state, Some(t))?),
        None => None,
    };
    Ok(crate::sql::ddl::column_def(
        &t.table, f, d, single_pk, references,
    )?)
}

/// A table constraint clause (`CONSTRAINT "name" UNIQUE (…)`).
pub fn constraint_sql(c: &ConstraintDef, ctx: Option<(&TableState, Dialect)>) -> MResult<String> {
    let body = match &c.kind {
        ConstraintKind::Unique { columns } => format!("UNIQUE ({})", q_list(columns)?),
        ConstraintKind::Check { check } => {
            // Files are checked when read; a state built in code is checked here.
            super::check_sql::check_expression(check).map_err(|why| {
                MigrationError::new(format!(
                    "check of constraint {:?} is not one SQL expression: {why}",
                    c.name
                ))
            })?;
            format!("CHECK ({check})")
        }
        ConstraintKind::CheckLookup { condition } => {
            let (t, d) = ctx.ok_or_else(|| {
                MigrationError::new(format!("check {:?} needs its table to compile", c.name))
            })?;
            format!("CHECK ({})", condition_sql(t, condition, d)?)
        }
        ConstraintKind::ForeignKey {
            columns,
            table,
            referenced,
            on_delete,
        } => format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}",
            q_list(columns)?,
            q(table)?,
            q_list(referenced)?,
            on_delete.sql()
        ),
    };
    Ok(format!("CONSTRAINT {} {body}", q(&c.name)?))
}

/// `CREATE TABLE name (…)` for a table state, under a given name (the SQLite rebuild creates
/// the new table under a temporary name).
pub fn create_table_sql(t: &TableState, name: &str, d: Dialect, state: &State) -> MResult<String> {
    let pks: Vec<&FieldMeta> = t.fields.iter().filter(|f| f.primary_key).collect();
    let single_pk = pks.len() == 1;
    let mut parts = Vec::with_capacity(t.fields.len() + t.constraints.len() + 1);
    for f in &t.fields {
        parts.push(column_def(t, f, d, single_pk, state)?);
    }
    if pks.len() > 1 {
        let cols: Vec<String> = pks.iter().map(|f| f.column.clone()).collect();
        parts.push(format!("PRIMARY KEY ({})", q_list(&cols)?));
    }
    for c in &t.constraints {
        parts.push(constraint_sql(c, Some((t, d)))?);
    }
    Ok(format!("CREATE TABLE {} ({})", q(name)?, parts.join(", ")))
}

/// `CREATE [UNIQUE] INDEX`.
pub fn create_index_sql(table: &str, i: &IndexDef, t: &TableState, d: Dialect) -> MResult<String> {
    let condition = match &i.condition {
        Some(c) => format!(" WHERE ({})", condition_sql(t, c, d)?),
        None => String::new(),
    };
    let mut keys = Vec::with_capacity(i.columns.len() + i.expressions.len());
    for c in &i.columns {
        keys.push(q(c)?);
    }
    for e in &i.expressions {
        keys.push(format!("({})", index_expr_sql(t, e, d)?));
    }
    Ok(format!(
        "CREATE {}INDEX {} ON {} ({}){condition}",
        if i.unique { "UNIQUE " } else { "" },
        q(&i.name)?,
        q(table)?,
        keys.join(", ")
    ))
}

/// An index expression over a table's fields as SQL for DDL, compiled by the query compiler
/// for `d` (the same SQL as the function in a query, so the planner can use the index).
pub fn index_expr_sql(t: &TableState, e: &IndexExpr, d: Dialect) -> MResult<String> {
    let named = |why: String| {
        MigrationError::new(format!("table {}: index expression {e}: {why}", t.table))
    };
    let expr = e
        .to_expr(&t.to_model_meta())
        .map_err(|err| named(err.to_string()))?;
    let mut w = crate::sql::writer::SqlWriter::ddl(d);
    crate::sql::expression::expr(&mut w, &expr).map_err(|err| named(err.to_string()))?;
    w.ddl_text().map_err(named)
}

/// A lookup condition over a table's fields as SQL for DDL (unqualified columns, literal
/// values), compiled by the query compiler for `d`.
pub fn condition_sql(t: &TableState, c: &Cond, d: Dialect) -> MResult<String> {
    let meta = t.to_model_meta();
    let named = |e: chakra_dsl::Error| {
        MigrationError::new(format!("table {}: condition {c:?}: {e}", t.table))
    };
    let node = c.to_qnode(&meta).map_err(named)?;
    let mut w = crate::sql::writer::SqlWriter::ddl(d);
    crate::sql::expression::expr(&mut w, &node.lower()).map_err(named)?;
    w.ddl_text()
        .map_err(|why| MigrationError::new(format!("table {}: condition {c:?}: {why}", t.table)))
}

/// The index a field implies: fields with `index = true` and foreign-key columns get one,
/// except where a unique constraint or the primary key (whose first column leads its index)
/// already gives one. The same rule as `sql::ddl::create_table`, so tables made either way
/// match.
pub fn field_index(t: &TableState, f: &FieldMeta) -> Option<IndexDef> {
    let pks: Vec<&FieldMeta> = t.fields.iter().filter(|f| f.primary_key).collect();
    crate::sql::ddl::implies_index(f, &pks).then(|| IndexDef {
        name: field_index_name(&t.table, &f.column),
        columns: vec![f.column.clone()],
        expressions: Vec::new(),
        unique: false,
        condition: None,
    })
}

/// Every index of a table: the fields' implied ones, then the named ones.
pub fn all_indexes(t: &TableState) -> Vec<IndexDef> {
    t.fields
        .iter()
        .filter_map(|f| field_index(t, f))
        .chain(t.indexes.iter().cloned())
        .collect()
}

/// `CREATE TABLE` plus every index of a table.
pub fn create_table_with_indexes(
    t: &TableState,
    d: Dialect,
    state: &State,
) -> MResult<Vec<String>> {
    let mut out = vec![create_table_sql(t, &t.table, d, state)?];
    for i in all_indexes(t) {
        out.push(create_index_sql(&t.table, &i, t, d)?);
    }
    Ok(out)
}
