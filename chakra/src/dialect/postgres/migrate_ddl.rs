//! PostgreSQL's in-place `ALTER FIELD`: the migration planner's (`migrate/ddl.rs`) statements
//! for an altered field, one `ALTER TABLE … ALTER COLUMN` per change (SQLite rebuilds the
//! table instead, `dialect/sqlite/rebuild.rs`).

use crate::migrate::ddl::op_err;
use crate::migrate::error::MResult;
use crate::migrate::operations::Operation;
use crate::migrate::state::{State, TableState};
use crate::migrate::table_sql::{
    create_index_sql, default_sql, field_fk_name, field_index, field_unique_name, q, references_sql,
};
use crate::sql::ddl::column_type;
use crate::Dialect;
use chakra_dsl::FieldMeta;

/// The statements that alter field `old` of table `t` into `new` in place (`after` is the
/// state after the operation `op`): constraints, index and default dropped where they change,
/// the type changed (`USING` the operation's expression, or a cast), then the nullability,
/// default, unique, index and foreign key put back. An `Enum` field's values live in its native
/// type, changed by the planner around this (`migrate/enum_types.rs::plan_types`).
pub(crate) fn alter_field(
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
    let d = Dialect::Postgres;
    let tq = q(&t.table)?;
    let col = q(&new.column)?;
    let alter = |what: String| format!("ALTER TABLE {tq} ALTER COLUMN {col} {what}");
    let fk = field_fk_name(&t.table, &new.column);
    let uk = field_unique_name(&t.table, &new.column);
    if old.references.is_some() && old.references != new.references {
        s.push(format!("ALTER TABLE {tq} DROP CONSTRAINT {}", q(&fk)?));
    }
    if old.unique && !new.unique {
        s.push(format!("ALTER TABLE {tq} DROP CONSTRAINT {}", q(&uk)?));
    }
    let (old_idx, new_idx) = (field_index(t, old), field_index(t, new));
    if let (Some(i), false) = (&old_idx, old_idx == new_idx) {
        s.push(format!("DROP INDEX {}", q(&i.name)?));
    }
    let type_changed = column_type(&old.ty, d) != column_type(&new.ty, d);
    let (old_def, new_def) = (default_sql(old, d), default_sql(new, d));
    if old_def.is_some() && (type_changed || old_def != new_def) {
        s.push(alter("DROP DEFAULT".into()));
    }
    if type_changed {
        let ty = column_type(&new.ty, d);
        match op {
            Operation::AlterField { using: Some(u), .. } => {
                s.push(alter(format!("TYPE {ty} USING ({u})")))
            }
            // An enum (a native type) converts through its text, to and from any type.
            _ if old.ty.enum_name().is_some() => {
                s.push(alter(format!("TYPE {ty} USING {col}::text::{ty}")))
            }
            _ => s.push(alter(format!("TYPE {ty} USING {col}::{ty}"))),
        }
    }
    if let Some(def) = &new_def {
        if type_changed || old_def != new_def {
            s.push(alter(format!("SET DEFAULT {def}")));
        }
    }
    if old.nullable && !new.nullable {
        if let Some(def) = &new_def {
            s.push(format!("UPDATE {tq} SET {col} = {def} WHERE {col} IS NULL"));
        }
    }
    if old.nullable != new.nullable {
        s.push(alter(
            if new.nullable {
                "DROP NOT NULL"
            } else {
                "SET NOT NULL"
            }
            .into(),
        ));
    }
    if new.unique && !old.unique {
        s.push(format!(
            "ALTER TABLE {tq} ADD CONSTRAINT {} UNIQUE ({col})",
            q(&uk)?
        ));
    }
    if let (Some(i), false) = (&new_idx, old_idx == new_idx) {
        s.push(create_index_sql(&t.table, i, t, d)?);
    }
    if let Some(r) = new
        .references
        .as_ref()
        .filter(|_| old.references != new.references)
    {
        s.push(format!(
            "ALTER TABLE {tq} ADD CONSTRAINT {} FOREIGN KEY ({col}) {}",
            q(&fk)?,
            references_sql(r, after, Some(t))?
        ));
    }
    Ok(())
}
