//! The enum types of a schema: each `Enum` field names its type (`enum = "ticket_status"`),
//! and every field naming the same type must declare the same values in the same order, so
//! that one name means one type in both languages and, on PostgreSQL, one database type.
//! Checked at the end of each migration (an enum's fields may change one operation at a
//! time inside it) and for the registered models.

use super::error::{MResult, MigrationError};
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
