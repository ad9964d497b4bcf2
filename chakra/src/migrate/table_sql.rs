//! SQL pieces for one table of a [`State`]: column definitions (with foreign keys and named
//! field constraints), `CREATE TABLE`, indexes, table constraints, and the names Chakra gives
//! to the constraints and indexes a field implies. Every identifier is validated and quoted.

use super::error::{MResult, MigrationError};
use super::operations::{ConstraintDef, ConstraintKind, IndexDef};
use super::state::{State, TableState};
use crate::sql::ddl::{column_type, literal};
use crate::Dialect;
use chakra_dsl::{ident, DefaultValue, FieldMeta, FieldType, ForeignKeyRef};

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

/// The index a field with `index = true` implies (`users_email_idx`, as `create_table` names it).
pub fn field_index_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_idx")
}

/// The UNIQUE constraint a field with `unique = true` implies (`users_email_key`,
/// PostgreSQL's own naming).
pub fn field_unique_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_key")
}

/// The foreign-key constraint a field's `references` implies (`posts_author_id_fkey`).
pub fn field_fk_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_fkey")
}

/// The DEFAULT expression of a field, if any.
pub fn default_sql(f: &FieldMeta, d: Dialect) -> Option<String> {
    match &f.default {
        None => None,
        Some(DefaultValue::Now) => Some(
            match (d, &f.ty) {
                (Dialect::Postgres, FieldType::Date) => "CURRENT_DATE",
                (Dialect::Postgres, _) => "now()",
                (Dialect::Sqlite, FieldType::Date) => "(date('now'))",
                (Dialect::Sqlite, _) => "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')",
            }
            .to_owned(),
        ),
        Some(DefaultValue::Value(v)) => Some(literal(v, d)),
    }
}

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

/// One column definition for `CREATE TABLE` / `ADD COLUMN`.
pub fn column_def(
    t: &TableState,
    f: &FieldMeta,
    d: Dialect,
    single_pk: bool,
    state: &State,
) -> MResult<String> {
    let mut s = q(&f.column)?;
    s.push(' ');
    if f.auto_increment && f.primary_key {
        s.push_str(match (d, &f.ty) {
            (Dialect::Postgres, FieldType::Integer) => "SERIAL PRIMARY KEY",
            (Dialect::Postgres, _) => "BIGSERIAL PRIMARY KEY",
            (Dialect::Sqlite, _) => "INTEGER PRIMARY KEY AUTOINCREMENT",
        });
        return Ok(s);
    }
    s.push_str(&column_type(&f.ty, d));
    if f.primary_key && single_pk {
        s.push_str(" PRIMARY KEY");
    }
    if !f.nullable && !f.primary_key {
        s.push_str(" NOT NULL");
    }
    if let Some(def) = default_sql(f, d) {
        s.push_str(" DEFAULT ");
        s.push_str(&def);
    }
    if f.unique && !f.primary_key {
        s.push_str(&format!(
            " CONSTRAINT {} UNIQUE",
            q(&field_unique_name(&t.table, &f.column))?
        ));
    }
    if let Some(r) = &f.references {
        s.push_str(&format!(
            " CONSTRAINT {} {}",
            q(&field_fk_name(&t.table, &f.column))?,
            references_sql(r, state, Some(t))?
        ));
    }
    Ok(s)
}

/// A table constraint clause (`CONSTRAINT "name" UNIQUE (…)`).
pub fn constraint_sql(c: &ConstraintDef) -> MResult<String> {
    let body = match &c.kind {
        ConstraintKind::Unique { columns } => format!("UNIQUE ({})", q_list(columns)?),
        ConstraintKind::Check { check } => format!("CHECK ({check})"),
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
        parts.push(constraint_sql(c)?);
    }
    Ok(format!("CREATE TABLE {} ({})", q(name)?, parts.join(", ")))
}

/// `CREATE [UNIQUE] INDEX`.
pub fn create_index_sql(table: &str, i: &IndexDef) -> MResult<String> {
    Ok(format!(
        "CREATE {}INDEX {} ON {} ({})",
        if i.unique { "UNIQUE " } else { "" },
        q(&i.name)?,
        q(table)?,
        q_list(&i.columns)?
    ))
}

/// The index a field implies: fields with `index = true` and foreign-key columns get one,
/// except where a unique constraint or the primary key (whose first column leads its index)
/// already gives one. The same rule as `sql::ddl::create_table`, so tables made either way
/// match.
pub fn field_index(t: &TableState, f: &FieldMeta) -> Option<IndexDef> {
    let pks: Vec<&FieldMeta> = t.fields.iter().filter(|f| f.primary_key).collect();
    let leads_pk =
        f.primary_key && (pks.len() == 1 || pks.first().is_some_and(|p| p.name == f.name));
    ((f.index || f.references.is_some()) && !f.unique && !leads_pk).then(|| IndexDef {
        name: field_index_name(&t.table, &f.column),
        columns: vec![f.column.clone()],
        unique: false,
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
        out.push(create_index_sql(&t.table, &i)?);
    }
    Ok(out)
}
