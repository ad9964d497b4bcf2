//! Table-level options a model declares (Django's `Meta.indexes` / `Meta.constraints`):
//! named indexes over several fields, unique constraints, check constraints. Their conditions
//! are written in the lookup language (`{ status = "active", age__gte = 18 }`), kept in this
//! portable form (migration files hold it as is, from either language), and lowered to the IR
//! per model by [`Cond::to_qnode`]; never raw SQL text.

use crate::error::{Error, Result};
use crate::lookup::{self, LookupArg, QNode};
use crate::meta::ModelMeta;
use crate::value::Value;

/// A value inside a portable condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CondValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Text (also dates and other values written as text; coerced to the field's type).
    Text(String),
    /// A list (`in`, `range`).
    List(Vec<CondValue>),
}

impl CondValue {
    fn value(&self) -> Value {
        match self {
            CondValue::Bool(b) => Value::Bool(*b),
            CondValue::Int(i) => Value::I64(*i),
            CondValue::Text(s) => Value::Text(s.clone()),
            CondValue::List(_) => Value::Null(crate::ValueType::Text),
        }
    }
}

/// A condition in the lookup language: lookups ANDed, OR, NOT.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cond {
    /// One lookup (`age__gte = 18`).
    Lookup {
        /// The lookup key (`field__lookup`).
        key: String,
        /// Its argument.
        value: CondValue,
    },
    /// All must hold.
    And(Vec<Cond>),
    /// Any must hold.
    Or(Vec<Cond>),
    /// Negation (Django's `~Q(...)`).
    Not(Box<Cond>),
}

impl Cond {
    /// The condition as a lookup tree over `meta`'s fields. Lookups across relations are
    /// refused: an index or check sees one row of one table.
    pub fn to_qnode(&self, meta: &ModelMeta) -> Result<QNode> {
        Ok(match self {
            Cond::Lookup { key, value } => {
                if key.split("__").count() > 1
                    && meta
                        .relation(key.split("__").next().unwrap_or(""))
                        .is_some()
                {
                    return Err(Error::InvalidQuery(format!(
                        "{}: the condition {key:?} crosses a relation; an index or a check \
                         sees one row of {}",
                        meta.name, meta.table
                    )));
                }
                let arg = match value {
                    CondValue::List(items) => {
                        let pl = lookup::parse(meta, key)?;
                        match pl.arg_shape() {
                            lookup::ArgShape::Pair(_) if items.len() == 2 => {
                                LookupArg::Pair(items[0].value().into(), items[1].value().into())
                            }
                            _ => LookupArg::List(items.iter().map(CondValue::value).collect()),
                        }
                    }
                    v => LookupArg::from(v.value()),
                };
                let c = lookup::condition(meta, key, arg).map_err(|e| named(meta, key, e))?;
                QNode::Leaf(c)
            }
            Cond::And(items) => QNode::And(
                items
                    .iter()
                    .map(|c| c.to_qnode(meta))
                    .collect::<Result<_>>()?,
            ),
            Cond::Or(items) => QNode::Or(
                items
                    .iter()
                    .map(|c| c.to_qnode(meta))
                    .collect::<Result<_>>()?,
            ),
            Cond::Not(inner) => QNode::Not(Box::new(inner.to_qnode(meta)?)),
        })
    }

    /// The canonical form: `And` lists flattened, a one-item `And`/`Or` is its item; so a
    /// condition declared on a model equals the one read back from a migration file.
    pub fn normalized(&self) -> Cond {
        match self {
            Cond::Lookup { .. } => self.clone(),
            Cond::Not(inner) => Cond::Not(Box::new(inner.normalized())),
            Cond::Or(items) => {
                let items: Vec<Cond> = items.iter().map(Cond::normalized).collect();
                if items.len() == 1 {
                    items.into_iter().next().expect("one item")
                } else {
                    Cond::Or(items)
                }
            }
            Cond::And(items) => {
                let mut flat = Vec::new();
                for c in items.iter().map(Cond::normalized) {
                    match c {
                        Cond::And(inner) => flat.extend(inner),
                        other => flat.push(other),
                    }
                }
                if flat.len() == 1 {
                    flat.into_iter().next().expect("one item")
                } else {
                    Cond::And(flat)
                }
            }
        }
    }

    /// The condition with every lookup on field `old` reading field `new` instead (what a
    /// `RenameField` does to the conditions of its table's indexes and checks).
    pub fn rename_field(&self, old: &str, new: &str) -> Cond {
        match self {
            Cond::Lookup { key, value } => {
                let (first, rest) = match key.split_once("__") {
                    Some((f, r)) => (f, Some(r)),
                    None => (key.as_str(), None),
                };
                let key = if first == old {
                    match rest {
                        Some(r) => format!("{new}__{r}"),
                        None => new.to_owned(),
                    }
                } else {
                    key.clone()
                };
                Cond::Lookup {
                    key,
                    value: value.clone(),
                }
            }
            Cond::And(items) => Cond::And(items.iter().map(|c| c.rename_field(old, new)).collect()),
            Cond::Or(items) => Cond::Or(items.iter().map(|c| c.rename_field(old, new)).collect()),
            Cond::Not(inner) => Cond::Not(Box::new(inner.rename_field(old, new))),
        }
    }

    /// The fields the condition reads (the first part of each lookup key).
    pub fn fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields(&self, out: &mut Vec<String>) {
        match self {
            Cond::Lookup { key, .. } => {
                let f = key.split("__").next().unwrap_or(key).to_string();
                if !out.contains(&f) {
                    out.push(f);
                }
            }
            Cond::And(items) | Cond::Or(items) => {
                items.iter().for_each(|c| c.collect_fields(out));
            }
            Cond::Not(inner) => inner.collect_fields(out),
        }
    }
}

fn named(meta: &ModelMeta, key: &str, e: Error) -> Error {
    match e {
        Error::InvalidQuery(m) => {
            Error::InvalidQuery(format!("{}: condition {key:?}: {m}", meta.name))
        }
        other => other,
    }
}

/// A named index a model declares (`Meta.indexes`, `UniqueConstraint`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexOption {
    /// Index name (unique in the database).
    pub name: String,
    /// Field names, in order.
    pub fields: Vec<String>,
    /// A unique index (`UniqueConstraint`).
    pub unique: bool,
    /// Only rows where this holds are indexed (a partial index).
    pub condition: Option<Cond>,
}

/// A named check constraint a model declares (`CheckConstraint`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckOption {
    /// Constraint name.
    pub name: String,
    /// What every row must satisfy.
    pub check: Cond,
}

/// Every table-level option of a model.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TableOptions {
    /// Named indexes (unique ones included).
    pub indexes: Vec<IndexOption>,
    /// Check constraints.
    pub checks: Vec<CheckOption>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(key: &str, v: i64) -> Cond {
        Cond::Lookup {
            key: key.into(),
            value: CondValue::Int(v),
        }
    }

    #[test]
    fn rename_field_rewrites_only_that_field() {
        let c = Cond::And(vec![
            leaf("age", 1),
            Cond::Or(vec![leaf("age__gte", 2), leaf("agent", 3)]),
            Cond::Not(Box::new(leaf("age__in", 4))),
            leaf("other__age", 5),
        ]);
        let want = Cond::And(vec![
            leaf("years", 1),
            Cond::Or(vec![leaf("years__gte", 2), leaf("agent", 3)]),
            Cond::Not(Box::new(leaf("years__in", 4))),
            leaf("other__age", 5),
        ]);
        assert_eq!(c.rename_field("age", "years"), want);
        assert_eq!(want.fields(), ["years", "agent", "other"]);
    }
}
