//! The enum types of a schema: each `Enum` field names its type (`enum = "ticket_status"`),
//! and every field naming the same type must declare the same values in the same order, so
//! that one name means one type in both languages and, on PostgreSQL, one database type.
//! Checked at the end of each migration (an enum's fields may change one operation at a
//! time inside it) and for the registered models.

use super::error::{MResult, MigrationError};
use super::operations::Operation;
use super::state::State;
use std::collections::BTreeMap;

/// One enum type and the first field that declared it (`"tickets.status"`).
#[derive(Debug, Clone, PartialEq)]
pub struct EnumType {
    /// The stored values, in declaration order.
    pub values: Vec<String>,
    /// The first `table.column` found declaring it (tables in name order).
    pub declared_by: String,
}

impl State {
    /// The enum types the schema's fields declare, by name; a named error when two fields
    /// declare the same name with different values (or a different order).
    pub fn enum_types(&self) -> MResult<BTreeMap<String, EnumType>> {
        let mut out: BTreeMap<String, EnumType> = BTreeMap::new();
        for t in self.tables.values() {
            for f in &t.fields {
                let chakra_dsl::FieldType::Enum { name, values } = &f.ty else {
                    continue;
                };
                let here = format!("{}.{}", t.table, f.column);
                match out.get(name) {
                    Some(seen) if &seen.values != values => {
                        return Err(MigrationError::new(format!(
                            "the enum {name} is declared twice with different values: {} has \
                             {:?}, {here} has {values:?}; fields sharing an enum name share one \
                             type (change them together, or give one its own name)",
                            seen.declared_by, seen.values
                        )));
                    }
                    Some(_) => {}
                    None => {
                        out.insert(
                            name.clone(),
                            EnumType {
                                values: values.clone(),
                                declared_by: here,
                            },
                        );
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Where a native enum type's statements go around one operation's own: types created,
/// extended or recreated before it, types no column uses any more dropped after it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnumTypePlan {
    /// Before the operation's statements.
    pub before: Vec<String>,
    /// After them.
    pub after: Vec<String>,
    /// The values added with `ALTER TYPE … ADD VALUE`, as `(type, value)`: PostgreSQL cannot
    /// use them before the transaction adding them commits.
    pub added: Vec<(String, String)>,
}

impl State {
    /// The enum types of the schema by name, the first field (tables in name order) deciding
    /// a type's values: inside a migration, fields sharing a type may differ for a few
    /// operations (the end of the migration checks them, [`State::enum_types`]).
    pub fn enum_types_lenient(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in self.tables.values() {
            for f in &t.fields {
                if let chakra_dsl::FieldType::Enum { name, values } = &f.ty {
                    out.entry(name.clone()).or_insert_with(|| values.clone());
                }
            }
        }
        out
    }

    /// Every column whose type is the enum `name`, with its default (a text value).
    fn enum_columns(&self, name: &str) -> Vec<(String, String, Option<String>)> {
        let mut out = Vec::new();
        for t in self.tables.values() {
            for f in &t.fields {
                if f.ty.enum_name() == Some(name) {
                    let default = match &f.default {
                        Some(chakra_dsl::DefaultValue::Value(chakra_dsl::Value::Text(v))) => {
                            Some(v.clone())
                        }
                        _ => None,
                    };
                    out.push((t.table.clone(), f.column.clone(), default));
                }
            }
        }
        out
    }
}

/// The native enum types as the database has them while a migration is planned: each name's
/// values in order.
pub type TypeValues = BTreeMap<String, Vec<String>>;

/// The enum types an operation declares (its fields of type `Enum`), by name.
fn declared_by(op: &Operation) -> Vec<(&String, &Vec<String>)> {
    let fields: Vec<&chakra_dsl::FieldMeta> = match op {
        Operation::CreateModel { fields, .. } => fields.iter().collect(),
        Operation::AddField { field, .. } | Operation::AlterField { field, .. } => vec![field],
        _ => Vec::new(),
    };
    fields
        .into_iter()
        .filter_map(|f| match &f.ty {
            chakra_dsl::FieldType::Enum { name, values } => Some((name, values)),
            _ => None,
        })
        .collect()
}

/// The native enum type statements operation `op` needs (nothing where enums are stored as
/// checked text). `types` holds the types as the database has them before it and is moved on
/// past it: a type the operation declares takes its values (the latest declaration wins while
/// fields sharing a type are changed one operation at a time), a type no column of `after`
/// uses is dropped, a type first used in `after` is created.
///
/// `recreate` names types whose added values are used in the same transaction (a rollback
/// putting a value back with a default that uses it): those are recreated, which makes the
/// values usable at once, rather than extended with `ADD VALUE`.
pub fn plan_types(
    op: &Operation,
    before: &State,
    after: &State,
    d: crate::Dialect,
    recreate: &[String],
    types: &mut TypeValues,
) -> MResult<EnumTypePlan> {
    use crate::dialect::postgres::enum_ddl::{self, EnumChange, EnumColumn};
    let mut plan = EnumTypePlan::default();
    if !d.sql().native_enums() {
        return Ok(plan);
    }
    let old = types.clone();
    let used = after.enum_types_lenient();
    let mut new: TypeValues = old
        .iter()
        .filter(|(n, _)| used.contains_key(*n))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    for (n, v) in used {
        new.entry(n).or_insert(v);
    }
    for (n, v) in declared_by(op) {
        if new.contains_key(n) {
            new.insert(n.clone(), v.clone());
        }
    }
    *types = new.clone();
    let err = |e: chakra_dsl::Error| MigrationError::new(e.to_string());
    for (name, values) in &new {
        match old.get(name) {
            None => plan
                .before
                .push(enum_ddl::create_type(name, values).map_err(err)?),
            Some(was) => match enum_ddl::change(was, values) {
                EnumChange::Same => {}
                EnumChange::Add(added) if !recreate.contains(name) => {
                    plan.before
                        .extend(enum_ddl::add_values(name, &added).map_err(err)?);
                    plan.added
                        .extend(added.into_iter().map(|a| (name.clone(), a.value)));
                }
                EnumChange::Add(_) | EnumChange::Recreate { .. } => {
                    // The columns using the type now, each with its default after the
                    // operation (a value of the new declaration) where it keeps one.
                    let mut columns = Vec::new();
                    for (table, column, had) in before.enum_columns(name) {
                        let default = after
                            .enum_columns(name)
                            .into_iter()
                            .find(|(t, c, _)| *t == table && *c == column)
                            .and_then(|(_, _, d)| d);
                        if had.is_some() && default.is_none() {
                            // Its default goes: dropped before the type changes under it.
                            plan.before.push(format!(
                                "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                                super::table_sql::q(&table)?,
                                super::table_sql::q(&column)?
                            ));
                        }
                        columns.push(EnumColumn {
                            table,
                            column,
                            default,
                        });
                    }
                    plan.before
                        .extend(enum_ddl::recreate(name, values, &columns).map_err(err)?);
                }
            },
        }
    }
    for name in old.keys().filter(|n| !new.contains_key(*n)) {
        plan.after.push(enum_ddl::drop_type(name).map_err(err)?);
    }
    Ok(plan)
}
