//! Operations → SQL statements, per dialect, forward and backward. Pure: the statements are
//! planned from the schema state before the operation, no database is asked.
//!
//! SQLite cannot alter a column, drop a constrained column, or add/remove a table constraint
//! with `ALTER TABLE`; those operations rebuild the table (see [`crate::dialect::sqlite::rebuild`]) and mark the
//! plan `foreign_keys_off`: the executor switches foreign keys off outside the transaction and
//! runs `PRAGMA foreign_key_check` before committing.

use super::error::{MResult, MigrationError};
use super::operations::{Migration, Operation};
use super::state::{State, TableState};
use super::table_sql::{
    column_def, constraint_sql, create_index_sql, create_table_with_indexes, field_fk_name,
    field_index, field_index_name, field_unique_name, q,
};
use crate::dialect::postgres;
use crate::dialect::sqlite::rebuild::{rebuild_table, rebuild_table_using};
use crate::sql::ddl::field_enum_check_name;
use crate::Dialect;
use chakra_dsl::FieldMeta;

/// The statements one operation or migration runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// SQL statements, in order (a `RunSQL` text may hold several).
    pub statements: Vec<String>,
    /// True when a SQLite table rebuild is among them: foreign keys must be off while it runs
    /// (switched outside the transaction) and checked before commit.
    pub foreign_keys_off: bool,
}

impl Plan {
    fn extend(&mut self, other: Plan) {
        self.statements.extend(other.statements);
        self.foreign_keys_off |= other.foreign_keys_off;
    }
}

/// An error about `op`, named by its description.
pub(crate) fn op_err(op: &Operation, message: impl std::fmt::Display) -> MigrationError {
    MigrationError::new(format!("{}: {message}", op.describe()))
}

fn table<'s>(state: &'s State, op: &Operation, name: &str) -> MResult<&'s TableState> {
    state
        .table(name)
        .ok_or_else(|| op_err(op, format!("table {name:?} does not exist")))
}

/// The statements that move the schema forward by one operation, from state `before`.
pub fn forward(op: &Operation, before: &State, d: Dialect) -> MResult<Plan> {
    let mut types = before.enum_types_lenient();
    forward_with_types(op, before, d, &[], &mut types).map(|(plan, _)| plan)
}

/// [`forward`], with the enum values the operation adds with `ALTER TYPE … ADD VALUE`
/// (`(type, value)`): where enums are native types (PostgreSQL), the types the operation
/// needs are created, changed ([`crate::dialect::postgres::enum_ddl::change`]) before its own
/// statements, and the types no column uses any more dropped after them.
fn forward_with_types(
    op: &Operation,
    before: &State,
    d: Dialect,
    recreate: &[String],
    types: &mut super::enum_types::TypeValues,
) -> MResult<(Plan, Vec<(String, String)>)> {
    let mut after = before.clone();
    after.apply(op)?;
    let types = super::enum_types::plan_types(op, before, &after, d, recreate, types)?;
    let mut plan = forward_op(op, before, &after, d)?;
    if !types.before.is_empty() || !types.after.is_empty() {
        let own = std::mem::take(&mut plan.statements);
        plan.statements = types.before;
        plan.statements.extend(own);
        plan.statements.extend(types.after);
    }
    Ok((plan, types.added))
}

fn forward_op(op: &Operation, before: &State, after: &State, d: Dialect) -> MResult<Plan> {
    // A dialect that writes the operation's statements itself (MySQL's room).
    if let Some(plan) = d.migrate().plan_operation(op, before, after)? {
        return Ok(plan);
    }
    let after = after.clone();
    let mut plan = Plan::default();
    let s = &mut plan.statements;
    // Where `ALTER TABLE` cannot drop or alter columns and constraints (SQLite), this
    // decides to rebuild the table (`dialect/sqlite/rebuild.rs` writes the rebuild).
    let rebuilds = d.migrate().rebuilds_to_alter();
    match op {
        Operation::CreateModel { table: name, .. } => {
            let t = table(&after, op, name)?;
            s.extend(create_table_with_indexes(t, d, &after)?);
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
            let t = table(&after, op, new_table)?;
            for f in &t.fields {
                rename_field_objects(s, d, t, f, (old, &f.column), (new_table, &f.column))?;
            }
        }
        Operation::AddField { table: name, field } => {
            let t = table(&after, op, name)?;
            if rebuilds && !d.migrate().adds_column_in_place(field) {
                return rebuild_table(table(before, op, name)?, t, &after, d);
            }
            let single_pk = t.fields.iter().filter(|f| f.primary_key).count() == 1;
            s.push(format!(
                "ALTER TABLE {} ADD COLUMN {}",
                q(name)?,
                column_def(t, field, d, single_pk, &after)?
            ));
            if let Some(i) = field_index(t, field) {
                s.push(create_index_sql(name, &i, t, d)?);
            }
        }
        Operation::RemoveField { table: name, .. }
        | Operation::AddConstraint { table: name, .. }
        | Operation::RemoveConstraint { table: name, .. }
            if rebuilds =>
        {
            return rebuild_table(
                table(before, op, name)?,
                table(&after, op, name)?,
                &after,
                d,
            );
        }
        Operation::AlterField {
            table: name,
            field,
            using,
            ..
        } if rebuilds => {
            return rebuild_table_using(
                table(before, op, name)?,
                table(&after, op, name)?,
                &after,
                d,
                using.as_deref().map(|u| (field.name.as_str(), u)),
            );
        }
        Operation::RemoveField {
            table: name,
            name: field,
        } => {
            let f = table(before, op, name)?
                .field(field)
                .ok_or_else(|| op_err(op, "no such field"))?;
            s.push(format!(
                "ALTER TABLE {} DROP COLUMN {}",
                q(name)?,
                q(&f.column)?
            ));
        }
        Operation::AlterField {
            table: name, field, ..
        } => {
            let old = table(before, op, name)?
                .field(&field.name)
                .ok_or_else(|| op_err(op, "no such field"))?;
            // Altered in place (PostgreSQL): its room writes the `ALTER TABLE … ALTER COLUMN`s.
            postgres::migrate_ddl::alter_field(
                s,
                op,
                table(&after, op, name)?,
                old,
                field,
                &after,
            )?;
        }
        Operation::RenameField {
            table: name,
            name: old_name,
            new_name,
        } => {
            let old = table(before, op, name)?
                .field(old_name)
                .ok_or_else(|| op_err(op, "no such field"))?;
            let t = table(&after, op, name)?;
            let new = t
                .field(new_name)
                .ok_or_else(|| op_err(op, "no such field"))?;
            if old.column != new.column {
                s.push(format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {}",
                    q(name)?,
                    q(&old.column)?,
                    q(&new.column)?
                ));
                rename_field_objects(s, d, t, new, (name, &old.column), (name, &new.column))?;
            }
        }
        Operation::AddIndex { table: name, index } => {
            let t = table(&after, op, name)?;
            s.push(create_index_sql(name, index, t, d)?)
        }
        Operation::RemoveIndex { name, .. } => s.push(format!("DROP INDEX {}", q(name)?)),
        Operation::AddConstraint { table, constraint } => s.push(format!(
            "ALTER TABLE {} ADD {}",
            q(table)?,
            constraint_sql(
                constraint,
                Some((
                    after
                        .table(table)
                        .ok_or_else(|| op_err(op, "no such table"))?,
                    d
                ))
            )?
        )),
        Operation::RemoveConstraint { table, name } => s.push(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            q(table)?,
            q(name)?
        )),
        Operation::RunSql { sql, .. } => {
            if let Some(text) = sql.for_dialect(d) {
                if !text.trim().is_empty() {
                    s.push(text.to_owned());
                }
            }
        }
    }
    if let (
        true,
        Operation::RenameField { table: name, .. }
        | Operation::RenameModel {
            new_table: name, ..
        },
    ) = (!d.migrate().renames_in_place(), op)
    {
        // SQLite keeps a CHECK's name through renames (it renames nothing in place): an Enum
        // field's check is named after its table and column, so the table is rebuilt under
        // the new names.
        let t = table(&after, op, name)?;
        if t.fields.iter().any(|f| f.ty.enum_values().is_some()) {
            plan.extend(rebuild_table(t, t, &after, d)?);
        }
    }
    Ok(plan)
}

/// Renames what Chakra named after a field's table and column (its index, unique and
/// foreign-key constraints) when the table or the column is renamed.
fn rename_field_objects(
    s: &mut Vec<String>,
    d: Dialect,
    t: &TableState,
    f: &FieldMeta,
    (old_table, old_col): (&str, &str),
    (new_table, new_col): (&str, &str),
) -> MResult<()> {
    if let Some(i) = field_index(t, f) {
        let old_name = field_index_name(old_table, old_col);
        if d.migrate().renames_in_place() {
            s.push(format!(
                "ALTER INDEX {} RENAME TO {}",
                q(&old_name)?,
                q(&i.name)?
            ));
        } else {
            s.push(format!("DROP INDEX {}", q(&old_name)?));
            s.push(create_index_sql(&t.table, &i, t, d)?);
        }
    }
    if d.migrate().renames_in_place() {
        let mut renames = Vec::new();
        if f.unique && !f.primary_key {
            renames.push((
                field_unique_name(old_table, old_col),
                field_unique_name(new_table, new_col),
            ));
        }
        if f.references.is_some() {
            renames.push((
                field_fk_name(old_table, old_col),
                field_fk_name(new_table, new_col),
            ));
        }
        if f.ty.enum_values().is_some() && !d.sql().native_enums() {
            renames.push((
                field_enum_check_name(old_table, old_col),
                field_enum_check_name(new_table, new_col),
            ));
        }
        for (from, to) in renames {
            s.push(format!(
                "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                q(new_table)?,
                q(&from)?,
                q(&to)?
            ));
        }
    }
    Ok(())
}

/// The operations that undo `op`, given the state before it. Irreversible operations
/// (`RunSQL` without `reverse_sql`) refuse, naming the operation.
pub fn reverse_operations(op: &Operation, before: &State) -> MResult<Vec<Operation>> {
    let t = |name: &str| table(before, op, name);
    Ok(match op {
        Operation::CreateModel { table, .. } => vec![Operation::DeleteModel {
            table: table.clone(),
        }],
        Operation::DeleteModel { table: name } => {
            let t = t(name)?;
            vec![Operation::CreateModel {
                name: t.name.clone(),
                table: t.table.clone(),
                fields: t.fields.clone(),
                indexes: t.indexes.clone(),
                constraints: t.constraints.clone(),
            }]
        }
        Operation::RenameModel {
            table,
            new_table,
            new_name,
        } => vec![Operation::RenameModel {
            table: new_table.clone(),
            new_table: table.clone(),
            new_name: new_name
                .as_ref()
                .map(|_| t(table).map(|t| t.name.clone()))
                .transpose()?,
        }],
        Operation::AddField { table, field } => vec![Operation::RemoveField {
            table: table.clone(),
            name: field.name.clone(),
        }],
        Operation::RemoveField {
            table: name,
            name: field,
        } => {
            let t = t(name)?;
            let f = t
                .field(field)
                .ok_or_else(|| op_err(op, "no such field"))?
                .clone();
            let mut st = State::new();
            st.tables.insert(name.clone(), t.clone());
            st.apply(op)?;
            let after = st.table(name).cloned().unwrap_or_else(|| t.clone());
            let mut ops = vec![Operation::AddField {
                table: name.clone(),
                field: f,
            }];
            for i in t.indexes.iter().filter(|i| !after.indexes.contains(i)) {
                ops.push(Operation::AddIndex {
                    table: name.clone(),
                    index: i.clone(),
                });
            }
            for c in t
                .constraints
                .iter()
                .filter(|c| !after.constraints.contains(c))
            {
                ops.push(Operation::AddConstraint {
                    table: name.clone(),
                    constraint: c.clone(),
                });
            }
            ops
        }
        Operation::AlterField {
            table: name,
            field,
            lossy,
            ..
        } => vec![Operation::AlterField {
            table: name.clone(),
            field: t(name)?
                .field(&field.name)
                .ok_or_else(|| op_err(op, "no such field"))?
                .clone(),
            lossy: *lossy,
            // Going back, the default conversion (a `using` converts forward only).
            using: None,
        }],
        Operation::RenameField {
            table,
            name,
            new_name,
        } => vec![Operation::RenameField {
            table: table.clone(),
            name: new_name.clone(),
            new_name: name.clone(),
        }],
        Operation::AddIndex { table, index } => vec![Operation::RemoveIndex {
            table: table.clone(),
            name: index.name.clone(),
        }],
        Operation::RemoveIndex {
            table: name,
            name: index,
        } => vec![Operation::AddIndex {
            table: name.clone(),
            index: t(name)?
                .indexes
                .iter()
                .find(|i| &i.name == index)
                .ok_or_else(|| op_err(op, "no such index"))?
                .clone(),
        }],
        Operation::AddConstraint { table, constraint } => vec![Operation::RemoveConstraint {
            table: table.clone(),
            name: constraint.name.clone(),
        }],
        Operation::RemoveConstraint {
            table: name,
            name: c,
        } => vec![Operation::AddConstraint {
            table: name.clone(),
            constraint: t(name)?
                .constraints
                .iter()
                .find(|x| &x.name == c)
                .ok_or_else(|| op_err(op, "no such constraint"))?
                .clone(),
        }],
        Operation::RunSql {
            sql,
            reverse_sql,
            creates,
        } => {
            match reverse_sql {
                Some(r) => vec![Operation::RunSql {
                    sql: r.clone(),
                    reverse_sql: Some(sql.clone()),
                    creates: Vec::new(),
                }],
                // Only indexes, declared: dropping them undoes it (on both backends alike).
                None if !creates.is_empty()
                    && creates
                        .iter()
                        .all(|c| matches!(c, super::operations::RawObject::Index(_))) =>
                {
                    let drops = creates
                        .iter()
                        .map(|c| match c {
                            super::operations::RawObject::Index(n)
                            | super::operations::RawObject::Trigger(n) => {
                                Ok(format!("DROP INDEX IF EXISTS {}", q(n)?))
                            }
                        })
                        .collect::<MResult<Vec<_>>>()?;
                    vec![Operation::RunSql {
                        sql: super::operations::DialectSql::All(drops.join("; ")),
                        reverse_sql: Some(sql.clone()),
                        creates: Vec::new(),
                    }]
                }
                None => return Err(op_err(
                    op,
                    "is irreversible: it has no reverse_sql (and does not only create indexes it \
                 declares in creates), so the migration cannot be rolled back",
                )),
            }
        }
    })
}

/// The plan of a whole migration applied to `state` (which it moves forward).
pub fn migration_forward(m: &Migration, state: &mut State, d: Dialect) -> MResult<Plan> {
    let mut plan = Plan::default();
    let mut added: Vec<(String, String)> = Vec::new();
    let mut types = state.enum_types_lenient();
    for op in &m.operations {
        let (p, adds) =
            forward_with_types(op, state, d, &[], &mut types).map_err(|e| in_migration(m, e))?;
        added.extend(adds);
        plan.extend(p);
        state.apply(op).map_err(|e| in_migration(m, e))?;
        // A non-atomic migration runs each statement on its own: a value added is committed
        // before the next statement uses it.
        if let (true, Some(why)) = (m.atomic, uses_added_value(op, state, &added)) {
            return Err(in_migration(m, MigrationError::new(why)));
        }
    }
    state.enum_types().map_err(|e| in_migration(m, e))?;
    Ok(plan)
}

/// Why `op` (with the schema `after` it) uses an enum value that `ALTER TYPE … ADD VALUE`
/// added earlier in the same migration, if it does: PostgreSQL refuses to use a value in the
/// transaction that added it (and before 12 to add one in a transaction at all), so such a
/// migration is refused before anything runs, naming the value and the use. The uses seen: a
/// field's default (set in this migration: the value did not exist before it), and a
/// `RunSQL` whose text quotes the value.
fn uses_added_value(op: &Operation, after: &State, added: &[(String, String)]) -> Option<String> {
    if added.is_empty() {
        return None;
    }
    let why = |ty: &str, v: &str, used: String| {
        format!(
            "the enum {ty} gains the value {v:?} (ALTER TYPE … ADD VALUE) and {used} uses it in \
             the same migration; PostgreSQL cannot use an enum value before the transaction \
             adding it commits: move that use into a migration of its own, after this one (or \
             mark this one atomic = false)"
        )
    };
    for t in after.tables.values() {
        for f in &t.fields {
            let (Some(ty), Some(chakra_dsl::DefaultValue::Value(chakra_dsl::Value::Text(v)))) =
                (f.ty.enum_name(), &f.default)
            else {
                continue;
            };
            if added.iter().any(|(a, b)| a == ty && b == v) {
                return Some(why(
                    ty,
                    v,
                    format!("the default of {}.{}", t.table, f.column),
                ));
            }
        }
    }
    if let Operation::RunSql { sql, .. } = op {
        let texts: Vec<&str> = [Dialect::Postgres]
            .iter()
            .filter_map(|d| sql.for_dialect(*d))
            .collect();
        for (ty, v) in added {
            let lit = format!("'{}'", v.replace('\'', "''"));
            if texts.iter().any(|t| t.contains(&lit)) {
                return Some(why(ty, v, "a RunSQL operation".to_owned()));
            }
        }
    }
    None
}

/// The plan that undoes a whole migration, given the state before it was applied. A rollback
/// cannot be split the way a forward migration can: where it puts an enum value back and uses
/// it (a default that was the removed value), that type is recreated instead of extended with
/// `ALTER TYPE … ADD VALUE` (whose value the transaction could not use).
pub fn migration_backward(m: &Migration, before: &State, d: Dialect) -> MResult<Plan> {
    let mut states = vec![before.clone()];
    for op in &m.operations {
        let mut next = states.last().expect("a state").clone();
        next.apply(op).map_err(|e| in_migration(m, e))?;
        states.push(next);
    }
    let mut recreate: Vec<String> = Vec::new();
    'plan: loop {
        let mut plan = Plan::default();
        let mut added: Vec<(String, String)> = Vec::new();
        let mut types = states.last().expect("a state").enum_types_lenient();
        for (i, op) in m.operations.iter().enumerate().rev() {
            let mut st = states[i + 1].clone();
            for rev in reverse_operations(op, &states[i]).map_err(|e| in_migration(m, e))? {
                let (p, adds) = forward_with_types(&rev, &st, d, &recreate, &mut types)
                    .map_err(|e| in_migration(m, e))?;
                added.extend(adds);
                plan.extend(p);
                st.apply(&rev).map_err(|e| in_migration(m, e))?;
                if let Some(ty) = used_added_type(&rev, &st, &added) {
                    if !recreate.contains(&ty) {
                        recreate.push(ty);
                        continue 'plan;
                    }
                }
            }
        }
        return Ok(plan);
    }
}

/// The enum type whose value, added earlier in the same plan, `op` uses ([`uses_added_value`]).
fn used_added_type(op: &Operation, after: &State, added: &[(String, String)]) -> Option<String> {
    uses_added_value(op, after, added)?;
    added
        .iter()
        .find(|(ty, v)| uses_added_value(op, after, &[(ty.clone(), v.clone())]).is_some())
        .map(|(ty, _)| ty.clone())
}

fn in_migration(m: &Migration, e: MigrationError) -> MigrationError {
    MigrationError::new(format!("migration {}/{}: {}", m.app, m.id, e.message))
}

#[cfg(test)]
#[path = "ddl_tests.rs"]
mod tests;
