//! DDL from model metadata: `CREATE TABLE` / `DROP TABLE` per dialect. The migration engine
//! and tests use it; column types follow the canonical type table.

use super::Dialect;
use chakra_dsl::{
    ident, DefaultValue, FieldMeta, FieldType, ForeignKeyRef, ModelMeta, Result, Value,
};

/// The column type of a field on a dialect.
pub fn column_type(ty: &FieldType, d: Dialect) -> String {
    d.sql().column_type(ty)
}

/// A constant as SQL literal text for a DEFAULT clause (DDL cannot take bind parameters).
pub fn literal(v: &Value, d: Dialect) -> String {
    d.sql().default_literal(v)
}

/// The index a field with `index = true` (or a foreign key) implies: `users_email_idx`.
pub fn field_index_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_idx")
}

/// The UNIQUE constraint a field with `unique = true` implies: `users_email_key`
/// (PostgreSQL's own naming).
pub fn field_unique_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_key")
}

/// The CHECK constraint holding an `Enum` field to its values: `tickets_status_enum`.
pub fn field_enum_check_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_enum")
}

/// `CONSTRAINT "t_c_enum" CHECK ("c" IN ('a', 'b'))` for a field of type `Enum`, `None` for
/// any other type. The values are SQL string literals (quotes doubled; NUL refused when the
/// enum is declared).
pub fn enum_check_sql(table: &str, f: &FieldMeta) -> Result<Option<String>> {
    let Some(values) = f.ty.enum_values() else {
        return Ok(None);
    };
    let name = field_enum_check_name(table, &f.column);
    ident::validate(&name)?;
    ident::validate(&f.column)?;
    let list: Vec<String> = values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect();
    Ok(Some(format!(
        "CONSTRAINT {} CHECK ({} IN ({}))",
        ident::quote(&name),
        ident::quote(&f.column),
        list.join(", ")
    )))
}

/// The foreign-key constraint a field's `references` implies: `posts_author_id_fkey`
/// (PostgreSQL's own naming), so errors and migrations can refer to it.
pub fn fk_constraint_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_fkey")
}

/// `REFERENCES "users" ("id") ON DELETE CASCADE`, for a resolved reference.
pub fn references_clause(r: &ForeignKeyRef) -> Result<String> {
    ident::validate(&r.table)?;
    ident::validate(&r.column)?;
    Ok(format!(
        "REFERENCES {} ({}) ON DELETE {}",
        ident::quote(&r.table),
        ident::quote(&r.column),
        r.on_delete.sql()
    ))
}

/// A resolved reference (the table is known), else `None`.
fn resolved(f: &FieldMeta) -> Option<&ForeignKeyRef> {
    f.references
        .as_ref()
        .filter(|r| !r.table.is_empty() && !r.column.is_empty())
}

/// The DEFAULT expression of a field, if any (`now()` is the current date for a Date field).
pub fn default_sql(f: &FieldMeta, d: Dialect) -> Option<String> {
    match &f.default {
        None => None,
        Some(DefaultValue::Now) => Some(d.sql().now_default(&f.ty).to_owned()),
        Some(DefaultValue::Value(v)) => Some(literal(v, d)),
    }
}

/// One column definition for `CREATE TABLE` / `ADD COLUMN` of table `table`: type, key,
/// NOT NULL, DEFAULT, a named UNIQUE constraint, and `references` (a rendered
/// `REFERENCES …` clause) as a named foreign-key constraint.
pub fn column_def(
    table: &str,
    f: &FieldMeta,
    d: Dialect,
    single_pk: bool,
    references: Option<String>,
) -> Result<String> {
    ident::validate(&f.column)?;
    let mut s = ident::quote(&f.column);
    s.push(' ');
    if f.auto_increment && f.primary_key {
        s.push_str(d.sql().auto_primary_key(&f.ty));
        return Ok(s);
    }
    let keyed = f.primary_key || f.unique || f.index || f.references.is_some();
    if keyed {
        s.push_str(&d.sql().keyed_column_type(&f.ty));
    } else {
        s.push_str(&column_type(&f.ty, d));
    }
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
    if d.sql().table_level_constraints() {
        // Written by `table_constraints` after the columns.
        return Ok(s);
    }
    if f.unique && !f.primary_key {
        let name = field_unique_name(table, &f.column);
        ident::validate(&name)?;
        s.push_str(&format!(" CONSTRAINT {} UNIQUE", ident::quote(&name)));
    }
    // A native enum type holds the column to its values; a text column needs the CHECK.
    if !d.sql().native_enums() {
        if let Some(check) = enum_check_sql(table, f)? {
            s.push(' ');
            s.push_str(&check);
        }
    }
    if let Some(r) = references {
        let name = fk_constraint_name(table, &f.column);
        ident::validate(&name)?;
        s.push_str(&format!(" CONSTRAINT {} {r}", ident::quote(&name)));
    }
    Ok(s)
}

/// A field's named `UNIQUE`, `CHECK` and `FOREIGN KEY` constraints as table-level clauses
/// (for a dialect whose column definitions cannot name them: MySQL ignores a column's
/// `REFERENCES`).
fn table_constraints(
    table: &str,
    f: &FieldMeta,
    references: Option<String>,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if f.unique && !f.primary_key {
        let name = field_unique_name(table, &f.column);
        ident::validate(&name)?;
        out.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            ident::quote(&name),
            ident::quote(&f.column)
        ));
    }
    if let Some(check) = enum_check_sql(table, f)? {
        out.push(check);
    }
    if let Some(r) = references {
        let name = fk_constraint_name(table, &f.column);
        ident::validate(&name)?;
        out.push(format!(
            "CONSTRAINT {} FOREIGN KEY ({}) {r}",
            ident::quote(&name),
            ident::quote(&f.column)
        ));
    }
    Ok(out)
}

/// Whether a field implies an index of its own: `index = true` or a foreign key, except
/// where a unique constraint or the primary key (whose first column leads its index)
/// already gives one. `pks` are the table's primary-key fields.
pub fn implies_index(f: &FieldMeta, pks: &[&FieldMeta]) -> bool {
    let leads_pk =
        f.primary_key && (pks.len() == 1 || pks.first().is_some_and(|p| p.name == f.name));
    (f.index || f.references.is_some()) && !f.unique && !leads_pk
}

/// `CREATE TABLE` (and `CREATE INDEX` for indexed fields and foreign keys) for a model,
/// with its resolved foreign keys inline.
pub fn create_table(meta: &ModelMeta, d: Dialect) -> Result<Vec<String>> {
    create_table_deferring(meta, d, &|_| false).map(|(sql, _)| sql)
}

/// `CREATE TABLE` statements for a set of tables (as `chakra_dsl::relations::resolve_schema`
/// orders them: referenced tables first), then the foreign keys that had to wait. On
/// PostgreSQL a key pointing at a table created later in the set (a reference cycle) is
/// added with `ALTER TABLE … ADD CONSTRAINT` at the end; SQLite checks references only when
/// rows are written, so they stay inline. With `if_not_exists`, existing tables and indexes
/// are left alone. Native enum types (PostgreSQL) come first, each created unless it exists
/// with the same values (one with other values is refused by name).
pub fn create_tables(models: &[ModelMeta], d: Dialect, if_not_exists: bool) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (name, values) in enum_types(models)? {
        out.extend(d.sql().create_enum_type(&name, &values)?);
    }
    let mut deferred = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let later = |table: &str| {
            d.sql().defers_forward_references()
                && table != m.table
                && models[i + 1..].iter().any(|o| o.table == table)
        };
        let (sql, alters) = create_table_deferring(m, d, &later)?;
        out.extend(sql);
        deferred.extend(alters);
    }
    out.extend(deferred);
    if if_not_exists {
        for sql in &mut out {
            if sql.starts_with("CREATE TABLE ") {
                *sql = sql.replacen("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1);
            } else if sql.starts_with("CREATE INDEX ") {
                *sql = sql.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1);
            }
        }
        // `ADD CONSTRAINT` has no IF NOT EXISTS; a table that existed keeps its keys.
        out.retain(|s| !s.starts_with("ALTER TABLE "));
    }
    Ok(out)
}

/// `DROP TABLE IF EXISTS` for a set of tables, referencing tables first (the reverse of
/// [`create_tables`]'s order); on PostgreSQL with `CASCADE` so reference cycles drop too.
/// On PostgreSQL the enum types the tables used follow them (each left alone while a table
/// outside the set still uses it).
pub fn drop_tables(models: &[ModelMeta], d: Dialect) -> Result<Vec<String>> {
    let mut out = models
        .iter()
        .rev()
        .map(|m| {
            let mut s = drop_table(m)?;
            s.push_str(d.sql().drop_table_suffix());
            Ok(s)
        })
        .collect::<Result<Vec<_>>>()?;
    for name in enum_types(models)?.into_keys() {
        out.extend(d.sql().drop_enum_type_if_unused(&name)?);
    }
    Ok(out)
}

/// The enum types the fields of `models` declare, by name (in name order); two fields
/// naming one type with different values (or order) are refused, naming both.
pub fn enum_types(models: &[ModelMeta]) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
    let mut out: std::collections::BTreeMap<String, (Vec<String>, String)> = Default::default();
    for m in models {
        for f in &m.fields {
            let FieldType::Enum { name, values } = &f.ty else {
                continue;
            };
            let here = format!("{}.{}", m.name, f.name);
            match out.get(name) {
                Some((seen, by)) if seen != values => {
                    return Err(chakra_dsl::Error::InvalidQuery(format!(
                        "the enum {name} is declared twice with different values: {by} has \
                         {seen:?}, {here} has {values:?}; fields sharing an enum name share one type"
                    )));
                }
                Some(_) => {}
                None => {
                    out.insert(name.clone(), (values.clone(), here));
                }
            }
        }
    }
    Ok(out.into_iter().map(|(k, (v, _))| (k, v)).collect())
}

fn create_table_deferring(
    meta: &ModelMeta,
    d: Dialect,
    defer: &dyn Fn(&str) -> bool,
) -> Result<(Vec<String>, Vec<String>)> {
    ident::validate(&meta.table)?;
    let pks: Vec<&FieldMeta> = meta.fields.iter().filter(|f| f.primary_key).collect();
    let single_pk = pks.len() == 1;
    let mut cols = Vec::with_capacity(meta.fields.len() + 1);
    let mut alters = Vec::new();
    let mut table_level = Vec::new();
    for f in &meta.fields {
        let mut inline = None;
        if let Some(r) = resolved(f) {
            if defer(&r.table) {
                let name = fk_constraint_name(&meta.table, &f.column);
                ident::validate(&name)?;
                alters.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) {}",
                    ident::quote(&meta.table),
                    ident::quote(&name),
                    ident::quote(&f.column),
                    references_clause(r)?
                ));
            } else {
                inline = Some(references_clause(r)?);
            }
        }
        if d.sql().table_level_constraints() {
            cols.push(column_def(&meta.table, f, d, single_pk, None)?);
            table_level.extend(table_constraints(&meta.table, f, inline)?);
        } else {
            cols.push(column_def(&meta.table, f, d, single_pk, inline)?);
        }
    }
    cols.extend(table_level);
    if pks.len() > 1 {
        let names: Vec<String> = pks.iter().map(|f| ident::quote(&f.column)).collect();
        cols.push(format!("PRIMARY KEY ({})", names.join(", ")));
    }
    let mut out = vec![format!(
        "CREATE TABLE {} ({}){}",
        ident::quote(&meta.table),
        cols.join(", "),
        d.sql().create_table_suffix()
    )];
    for f in meta.fields.iter().filter(|f| implies_index(f, &pks)) {
        let name = field_index_name(&meta.table, &f.column);
        ident::validate(&name)?;
        out.push(format!(
            "CREATE INDEX {} ON {} ({})",
            ident::quote(&name),
            ident::quote(&meta.table),
            ident::quote(&f.column)
        ));
    }
    Ok((out, alters))
}

/// `DROP TABLE IF EXISTS` for a model.
pub fn drop_table(meta: &ModelMeta) -> Result<String> {
    ident::validate(&meta.table)?;
    Ok(format!(
        "DROP TABLE IF EXISTS {}",
        ident::quote(&meta.table)
    ))
}
