//! MySQL's migration DDL: the planner's (`migrate/ddl.rs`) statements for each operation,
//! written here because MySQL differs from the standard forms almost everywhere: field
//! constraints at the table's level, `DROP INDEX … ON t`, `RENAME INDEX`, `DROP FOREIGN KEY`,
//! `MODIFY COLUMN` for an altered field, no partial or expression indexes (refused by name).
//! Each DDL statement commits on its own, so what belongs together is one `ALTER TABLE`
//! with several clauses where MySQL allows it (one statement either happens or not).

use crate::migrate::ddl::{op_err, Plan};
use crate::migrate::error::{MResult, MigrationError};
use crate::migrate::operations::{ConstraintDef, ConstraintKind, IndexDef, Operation};
use crate::migrate::state::{State, TableState};
use crate::migrate::table_sql::{
    all_indexes, column_def, constraint_sql, field_fk_name, field_index, field_unique_name, q,
    references_sql,
};
use crate::sql::ddl::{enum_check_sql, field_enum_check_name, field_index_name};
use crate::Dialect;
use chakra_dsl::FieldMeta;

const D: Dialect = Dialect::Mysql;

fn table<'s>(state: &'s State, op: &Operation, name: &str) -> MResult<&'s TableState> {
    state
        .table(name)
        .ok_or_else(|| op_err(op, format!("table {name:?} does not exist")))
}

fn field<'t>(t: &'t TableState, op: &Operation, name: &str) -> MResult<&'t FieldMeta> {
    t.field(name)
        .ok_or_else(|| op_err(op, format!("no field {name:?} in table {:?}", t.table)))
}

/// `ALTER TABLE t a, b, …`, nothing when there are no clauses.
fn alter(s: &mut Vec<String>, table: &str, clauses: Vec<String>) -> MResult<()> {
    if !clauses.is_empty() {
        s.push(format!("ALTER TABLE {} {}", q(table)?, clauses.join(", ")));
    }
    Ok(())
}

/// The named constraints a field implies (unique, enum CHECK, foreign key) as table-level
/// clauses, resolved against `state`.
fn field_constraints(t: &TableState, f: &FieldMeta, state: &State) -> MResult<Vec<String>> {
    let mut out = Vec::new();
    if f.unique && !f.primary_key {
        out.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            q(&field_unique_name(&t.table, &f.column))?,
            q(&f.column)?
        ));
    }
    if let Some(check) = enum_check_sql(&t.table, f).map_err(MigrationError::from)? {
        out.push(check);
    }
    if let Some(r) = &f.references {
        out.push(format!(
            "CONSTRAINT {} FOREIGN KEY ({}) {}",
            q(&field_fk_name(&t.table, &f.column))?,
            q(&f.column)?,
            references_sql(r, state, Some(t))?
        ));
    }
    Ok(out)
}

/// The clauses dropping what a field implies, named after `table`/`column`.
fn drop_field_constraints(f: &FieldMeta, table: &str, column: &str) -> MResult<Vec<String>> {
    let mut out = Vec::new();
    if f.references.is_some() {
        out.push(format!(
            "DROP FOREIGN KEY {}",
            q(&field_fk_name(table, column))?
        ));
    }
    if f.ty.enum_values().is_some() {
        out.push(format!(
            "DROP CONSTRAINT {}",
            q(&field_enum_check_name(table, column))?
        ));
    }
    if f.unique && !f.primary_key {
        out.push(format!(
            "DROP INDEX {}",
            q(&field_unique_name(table, column))?
        ));
    }
    Ok(out)
}

/// `CREATE [UNIQUE] INDEX n ON t (…)`; partial and expression indexes are refused by name.
pub fn index_sql(t: &TableState, i: &IndexDef) -> MResult<String> {
    if i.condition.is_some() {
        return Err(MigrationError::new(format!(
            "table {}: index {:?} has a condition: MySQL and MariaDB have no partial indexes \
             (drop the condition, or index a generated column in a RunSQL operation)",
            t.table, i.name
        )));
    }
    if !i.expressions.is_empty() {
        return Err(MigrationError::new(format!(
            "table {}: index {:?} indexes expressions: not supported on MySQL/MariaDB \
             (MariaDB has no expression indexes; index a generated column in a RunSQL operation)",
            t.table, i.name
        )));
    }
    let cols = i
        .columns
        .iter()
        .map(|c| q(c))
        .collect::<MResult<Vec<_>>>()?;
    Ok(format!(
        "CREATE {}INDEX {} ON {} ({})",
        if i.unique { "UNIQUE " } else { "" },
        q(&i.name)?,
        q(&t.table)?,
        cols.join(", ")
    ))
}

/// The clause dropping a table constraint of any kind (MySQL names the kind).
fn drop_constraint(c: &ConstraintDef) -> MResult<String> {
    let name = q(&c.name)?;
    Ok(match c.kind {
        ConstraintKind::Unique { .. } => format!("DROP INDEX {name}"),
        ConstraintKind::ForeignKey { .. } => format!("DROP FOREIGN KEY {name}"),
        ConstraintKind::Check { .. } | ConstraintKind::CheckLookup { .. } => {
            format!("DROP CONSTRAINT {name}")
        }
    })
}

/// `CREATE TABLE` (field constraints at the table's level, InnoDB, `utf8mb4_bin`) and its
/// indexes.
fn create_table(t: &TableState, state: &State) -> MResult<Vec<String>> {
    let pks: Vec<&FieldMeta> = t.fields.iter().filter(|f| f.primary_key).collect();
    let single_pk = pks.len() == 1;
    let mut parts = Vec::new();
    for f in &t.fields {
        parts.push(column_def(t, f, D, single_pk, state)?);
    }
    for f in &t.fields {
        parts.extend(field_constraints(t, f, state)?);
    }
    if pks.len() > 1 {
        let cols = pks
            .iter()
            .map(|f| q(&f.column))
            .collect::<MResult<Vec<_>>>()?;
        parts.push(format!("PRIMARY KEY ({})", cols.join(", ")));
    }
    for c in &t.constraints {
        parts.push(constraint_sql(c, Some((t, D)))?);
    }
    let mut out = vec![format!(
        "CREATE TABLE {} ({}){}",
        q(&t.table)?,
        parts.join(", "),
        D.sql().create_table_suffix()
    )];
    for i in all_indexes(t) {
        out.push(index_sql(t, &i)?);
    }
    Ok(out)
}

/// The clauses renaming what Chakra named after a field's table and column (index, unique
/// key, foreign key, enum CHECK), on the table as it is after the rename (`t`, in `after`).
fn rename_clauses(
    t: &TableState,
    f: &FieldMeta,
    (old_table, old_col): (&str, &str),
    after: &State,
) -> MResult<Vec<String>> {
    let mut out = Vec::new();
    if let Some(i) = field_index(t, f) {
        out.push(format!(
            "RENAME INDEX {} TO {}",
            q(&field_index_name(old_table, old_col))?,
            q(&i.name)?
        ));
    }
    if f.unique && !f.primary_key {
        out.push(format!(
            "RENAME INDEX {} TO {}",
            q(&field_unique_name(old_table, old_col))?,
            q(&field_unique_name(&t.table, &f.column))?
        ));
    }
    // Foreign keys and CHECKs cannot be renamed: dropped and made again under the new name.
    let mut readd = f.clone();
    readd.unique = false;
    let mut dropped = f.clone();
    dropped.unique = false;
    out.extend(drop_field_constraints(&dropped, old_table, old_col)?);
    out.extend(
        field_constraints(t, &readd, after)?
            .into_iter()
            .map(|c| format!("ADD {c}")),
    );
    Ok(out)
}

/// The statements of one operation on MySQL; `None` for `RunSQL` (the planner's own).
pub fn plan_operation(op: &Operation, before: &State, after: &State) -> MResult<Option<Plan>> {
    let mut s = Vec::new();
    match op {
        Operation::CreateModel { table: name, .. } => {
            s.extend(create_table(table(after, op, name)?, after)?);
        }
        Operation::DeleteModel { table } => s.push(format!("DROP TABLE {}", q(table)?)),
        Operation::RenameModel {
            table: old,
            new_table,
            ..
        } => {
            s.push(format!(
                "ALTER TABLE {} RENAME TO {}",
                q(old)?,
                q(new_table)?
            ));
            let t = table(after, op, new_table)?;
            let mut clauses = Vec::new();
            for f in &t.fields {
                clauses.extend(rename_clauses(t, f, (old, &f.column), after)?);
            }
            alter(&mut s, new_table, clauses)?;
        }
        Operation::AddField { table: name, field } => {
            let t = table(after, op, name)?;
            let single_pk = t.fields.iter().filter(|f| f.primary_key).count() == 1;
            // NOT NULL without a default: MySQL would fill existing rows with the type's zero
            // value ('' or 0). Added nullable, then made NOT NULL, which fails (error 1138)
            // where the table has rows, as on PostgreSQL.
            let later_not_null = !field.nullable && field.default.is_none() && !field.primary_key;
            let mut first = field.clone();
            first.nullable |= later_not_null;
            let mut clauses = vec![format!(
                "ADD COLUMN {}",
                column_def(t, &first, D, single_pk, after)?
            )];
            clauses.extend(
                field_constraints(t, field, after)?
                    .into_iter()
                    .map(|c| format!("ADD {c}")),
            );
            if let Some(i) = field_index(t, field) {
                clauses.push(format!("ADD INDEX {} ({})", q(&i.name)?, q(&field.column)?));
            }
            alter(&mut s, name, clauses)?;
            if later_not_null {
                s.push(format!(
                    "ALTER TABLE {} MODIFY COLUMN {}",
                    q(name)?,
                    column_def(t, field, D, single_pk, after)?
                ));
            }
        }
        Operation::RemoveField {
            table: name,
            name: fname,
        } => {
            let old_t = table(before, op, name)?;
            let new_t = table(after, op, name)?;
            let f = field(old_t, op, fname)?;
            let mut clauses = drop_field_constraints(f, name, &f.column)?;
            // Table constraints and indexes the field's removal takes along (MySQL would
            // shrink a several-column key instead of dropping it).
            for c in old_t
                .constraints
                .iter()
                .filter(|c| !new_t.constraints.contains(c))
            {
                clauses.push(drop_constraint(c)?);
            }
            for i in old_t.indexes.iter().filter(|i| !new_t.indexes.contains(i)) {
                clauses.push(format!("DROP INDEX {}", q(&i.name)?));
            }
            clauses.push(format!("DROP COLUMN {}", q(&f.column)?));
            alter(&mut s, name, clauses)?;
        }
        Operation::AlterField {
            table: name,
            field: new,
            using,
            ..
        } => {
            if using.is_some() {
                return Err(op_err(
                    op,
                    "a using expression is not supported on MySQL/MariaDB (MODIFY COLUMN \
                     converts by the server's cast): convert the values in a RunSQL operation \
                     first",
                ));
            }
            let old_t = table(before, op, name)?;
            let t = table(after, op, name)?;
            let old = field(old_t, op, &new.name)?;
            alter_field(&mut s, op, t, old, new, after)?;
        }
        Operation::RenameField {
            table: name,
            name: old_name,
            new_name,
        } => {
            let old = field(table(before, op, name)?, op, old_name)?;
            let t = table(after, op, name)?;
            let new = field(t, op, new_name)?;
            if old.column != new.column {
                let mut clauses = Vec::new();
                // A CHECK naming the column must go before the column is renamed.
                let mut checked = new.clone();
                checked.unique = false;
                checked.references = None;
                let mut old_checked = old.clone();
                old_checked.unique = false;
                old_checked.references = None;
                clauses.extend(drop_field_constraints(&old_checked, name, &old.column)?);
                clauses.push(format!(
                    "RENAME COLUMN {} TO {}",
                    q(&old.column)?,
                    q(&new.column)?
                ));
                clauses.extend(
                    field_constraints(t, &checked, after)?
                        .into_iter()
                        .map(|c| format!("ADD {c}")),
                );
                // Its CHECK is done above; the rest is renamed as for a table.
                let mut rest = new.clone();
                if rest.ty.enum_values().is_some() {
                    rest.ty = chakra_dsl::FieldType::Text;
                }
                clauses.extend(rename_clauses(t, &rest, (name, &old.column), after)?);
                alter(&mut s, name, clauses)?;
            }
        }
        Operation::AddIndex { table: name, index } => {
            s.push(index_sql(table(after, op, name)?, index)?);
        }
        Operation::RemoveIndex { table, name } => {
            s.push(format!("DROP INDEX {} ON {}", q(name)?, q(table)?))
        }
        Operation::AddConstraint {
            table: name,
            constraint,
        } => s.push(format!(
            "ALTER TABLE {} ADD {}",
            q(name)?,
            constraint_sql(constraint, Some((table(after, op, name)?, D)))?
        )),
        Operation::RemoveConstraint {
            table: name,
            name: c,
        } => {
            let def = table(before, op, name)?
                .constraints
                .iter()
                .find(|x| &x.name == c)
                .ok_or_else(|| op_err(op, format!("no constraint {c:?}")))?;
            alter(&mut s, name, vec![drop_constraint(def)?])?;
        }
        Operation::RunSql { sql, .. } => {
            // MySQL's DROP INDEX names its table (the rollback of a RunSQL that only
            // declares its indexes in creates writes `DROP INDEX IF EXISTS "n"`).
            let text = sql.for_dialect(D).unwrap_or_default();
            for part in text.split(';') {
                let upper = part.trim().to_ascii_uppercase();
                if upper.starts_with("DROP INDEX") && !upper.contains(" ON ") {
                    return Err(op_err(
                        op,
                        format!(
                            "{}: MySQL/MariaDB drop an index with DROP INDEX … ON <table>; give \
                             the RunSQL a reverse_sql (or mysql = …) that names the table",
                            part.trim()
                        ),
                    ));
                }
            }
            return Ok(None);
        }
    }
    Ok(Some(Plan {
        statements: s,
        foreign_keys_off: false,
    }))
}

/// An altered field: what changes is dropped (foreign key, unique key, index, enum CHECK),
/// NULLs filled with the new default where the column becomes NOT NULL, the column
/// redefined with `MODIFY COLUMN`, then the new constraints added; three statements at most
/// (MySQL cannot drop and add a foreign key in one statement that copies the table).
fn alter_field(
    s: &mut Vec<String>,
    op: &Operation,
    t: &TableState,
    old: &FieldMeta,
    new: &FieldMeta,
    after: &State,
) -> MResult<()> {
    if old.primary_key != new.primary_key || old.auto_increment != new.auto_increment {
        return Err(op_err(
            op,
            "changing primary_key or auto_increment is not supported; write a RunSQL operation",
        ));
    }
    let tn = &t.table;
    let col = q(&new.column)?;
    let mut drops = Vec::new();
    let mut adds = Vec::new();
    if old.references.is_some() && old.references != new.references {
        drops.push(format!(
            "DROP FOREIGN KEY {}",
            q(&field_fk_name(tn, &old.column))?
        ));
    }
    if old.unique && !new.unique && !old.primary_key {
        drops.push(format!(
            "DROP INDEX {}",
            q(&field_unique_name(tn, &old.column))?
        ));
    }
    let (old_idx, new_idx) = (field_index(t, old), field_index(t, new));
    if let (Some(i), false) = (&old_idx, old_idx == new_idx) {
        drops.push(format!("DROP INDEX {}", q(&i.name)?));
    }
    let old_check = enum_check_sql(tn, old).map_err(MigrationError::from)?;
    let new_check = enum_check_sql(tn, new).map_err(MigrationError::from)?;
    if old_check.is_some() && old_check != new_check {
        drops.push(format!(
            "DROP CONSTRAINT {}",
            q(&field_enum_check_name(tn, &old.column))?
        ));
    }
    alter(s, tn, drops)?;
    if old.nullable && !new.nullable {
        if let Some(def) = crate::sql::ddl::default_sql(new, D) {
            s.push(format!(
                "UPDATE {} SET {col} = {def} WHERE {col} IS NULL",
                q(tn)?
            ));
        }
    }
    let single_pk = t.fields.iter().filter(|f| f.primary_key).count() == 1;
    let mut def = column_def(t, new, D, single_pk, after)?;
    if new.primary_key && single_pk {
        // The key stays; MODIFY must not declare it again.
        def = def.replace(" PRIMARY KEY", "");
    }
    s.push(format!("ALTER TABLE {} MODIFY COLUMN {def}", q(tn)?));
    if let (Some(c), true) = (&new_check, old_check != new_check) {
        adds.push(format!("ADD {c}"));
    }
    if new.unique && !old.unique && !new.primary_key {
        adds.push(format!(
            "ADD CONSTRAINT {} UNIQUE ({col})",
            q(&field_unique_name(tn, &new.column))?
        ));
    }
    if let (Some(i), false) = (&new_idx, old_idx == new_idx) {
        adds.push(format!("ADD INDEX {} ({col})", q(&i.name)?));
    }
    if let Some(r) = new
        .references
        .as_ref()
        .filter(|_| old.references != new.references)
    {
        adds.push(format!(
            "ADD CONSTRAINT {} FOREIGN KEY ({col}) {}",
            q(&field_fk_name(tn, &new.column))?,
            references_sql(r, after, Some(t))?
        ));
    }
    alter(s, tn, adds)
}
