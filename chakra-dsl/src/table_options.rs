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

/// A function an index expression applies (the same functions as the query language's
/// `Lower`, `Upper`, `Length`, compiled by the same compiler: Unicode-aware on both backends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexFunc {
    /// `lower(text)`.
    Lower,
    /// `upper(text)`.
    Upper,
    /// `length(text)`: the number of characters.
    Length,
}

impl IndexFunc {
    /// Its name in the portable form (`lower`).
    pub fn name(self) -> &'static str {
        match self {
            IndexFunc::Lower => "lower",
            IndexFunc::Upper => "upper",
            IndexFunc::Length => "length",
        }
    }

    /// The function of that name (any case).
    pub fn from_name(name: &str) -> Option<IndexFunc> {
        [IndexFunc::Lower, IndexFunc::Upper, IndexFunc::Length]
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// A key of an expression index, written as a Chakra expression over the model's fields
/// (`lower(email)`, Python `Lower("email")`), never SQL text. Its portable form, kept in
/// migration files, is the text [`IndexExpr::parse`] reads and `Display` writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexExpr {
    /// A field's value.
    Field(String),
    /// A function of an expression.
    Func(IndexFunc, Box<IndexExpr>),
}

impl std::fmt::Display for IndexExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexExpr::Field(name) => f.write_str(name),
            IndexExpr::Func(func, arg) => write!(f, "{}({arg})", func.name()),
        }
    }
}

impl IndexExpr {
    /// Reads the portable form: a field name, or `lower(…)`, `upper(…)`, `length(…)` of one
    /// such expression (spaces allowed, function names in any case).
    pub fn parse(text: &str) -> Result<IndexExpr> {
        let bad = |why: &str| {
            Error::InvalidQuery(format!(
                "index expression {text:?}: {why} (write a field name or lower(…), upper(…), \
                 length(…) of one)"
            ))
        };
        let t = text.trim();
        if t.matches('(').count() > 8 {
            return Err(bad("nested too deep"));
        }
        if let Some(open) = t.find('(') {
            if t.contains(')') && !t.ends_with(')') {
                return Err(bad("text follows the function's closing parenthesis"));
            }
            let inner = t[open + 1..]
                .strip_suffix(')')
                .ok_or_else(|| bad("unbalanced parentheses"))?;
            let name = t[..open].trim();
            let func = IndexFunc::from_name(name)
                .ok_or_else(|| bad(&format!("unknown function {name:?}")))?;
            if inner.trim().is_empty() {
                return Err(bad("a function needs an argument"));
            }
            return Ok(IndexExpr::Func(func, Box::new(IndexExpr::parse(inner)?)));
        }
        if t.contains(')') {
            return Err(bad("unbalanced parentheses"));
        }
        let mut chars = t.chars();
        let starts = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !starts || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad(&format!("{t:?} is not a field name")));
        }
        Ok(IndexExpr::Field(t.to_owned()))
    }

    /// The expression over `meta`'s columns (unqualified in DDL), its types checked as the
    /// query language checks them (`lower` of a number is refused).
    pub fn to_expr(&self, meta: &ModelMeta) -> Result<crate::ir::Expr> {
        match self {
            IndexExpr::Field(name) => {
                let f = meta.field(name).ok_or_else(|| {
                    Error::InvalidQuery(format!(
                        "{}: the index expression names the field {name:?}, which it does not \
                         have",
                        meta.name
                    ))
                })?;
                Ok(crate::ir::Expr::col(
                    meta.table.clone(),
                    f.column.clone(),
                    f.ty.value_type(),
                ))
            }
            IndexExpr::Func(func, arg) => {
                let e = arg.to_expr(meta)?;
                let named = |err: Error| match err {
                    Error::InvalidQuery(m) => {
                        Error::InvalidQuery(format!("{}: index expression {self}: {m}", meta.name))
                    }
                    other => other,
                };
                match func {
                    IndexFunc::Lower => crate::functions::lower(e),
                    IndexFunc::Upper => crate::functions::upper(e),
                    IndexFunc::Length => crate::functions::length(e),
                }
                .map_err(named)
            }
        }
    }

    /// The field the expression reads.
    pub fn field(&self) -> &str {
        match self {
            IndexExpr::Field(name) => name,
            IndexExpr::Func(_, arg) => arg.field(),
        }
    }

    /// The expression reading field `new` where it read `old` (a `RenameField`).
    pub fn rename_field(&self, old: &str, new: &str) -> IndexExpr {
        match self {
            IndexExpr::Field(name) if name == old => IndexExpr::Field(new.to_owned()),
            IndexExpr::Field(_) => self.clone(),
            IndexExpr::Func(f, arg) => IndexExpr::Func(*f, Box::new(arg.rename_field(old, new))),
        }
    }
}

/// A named index a model declares (`Meta.indexes`, `UniqueConstraint`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexOption {
    /// Index name (unique in the database).
    pub name: String,
    /// Field names, in order.
    pub fields: Vec<String>,
    /// Keys computed from the row (an expression index), after the fields.
    pub expressions: Vec<IndexExpr>,
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

    #[test]
    fn index_expressions_read_and_write_one_form() {
        let e = IndexExpr::parse(" LOWER( upper(email) ) ").unwrap();
        assert_eq!(e.to_string(), "lower(upper(email))");
        assert_eq!(IndexExpr::parse(&e.to_string()).unwrap(), e);
        assert_eq!(e.field(), "email");
        assert_eq!(
            e.rename_field("email", "mail").to_string(),
            "lower(upper(mail))"
        );
        for bad in [
            "",
            "lower(",
            "lower()",
            "trim(email)",
            "a b",
            "lower(x))",
            "x); DROP",
        ] {
            let err = IndexExpr::parse(bad).unwrap_err().to_string();
            assert!(err.contains("index expression"), "{bad}: {err}");
        }
    }
}
