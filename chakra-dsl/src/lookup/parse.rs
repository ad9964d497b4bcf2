//! Parsing a lookup key (`pub_date__year__gt`) against a model into a [`ParsedLookup`]:
//! the field, the transforms applied to it, and the final lookup.

use super::kinds::{choices_for, Lookup, Transform};
use crate::error::{Error, Result};
use crate::ir::Expr;
use crate::meta::{FieldMeta, ModelMeta};
use crate::model_query::field_expr;
use crate::types::ValueType;

/// What the argument of a lookup must be, so a front door can convert its own values
/// (Python objects, Rust values) before building the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgShape {
    /// One value of this type (or an expression of it, such as `F("other")`).
    Scalar(ValueType),
    /// A list of values of this type (`in`).
    List(ValueType),
    /// Two values of this type (`range`).
    Pair(ValueType),
    /// A boolean (`isnull`).
    Bool,
    /// Text matched literally or as a pattern (`contains`, `regex`, …).
    Text,
}

/// A resolved lookup key.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLookup<'m> {
    /// The model the key was resolved against.
    pub model: &'m ModelMeta,
    /// The field the key starts with.
    pub field: &'m FieldMeta,
    /// The key as written (for error messages).
    pub key: String,
    /// Transforms applied to the field, in order.
    pub transforms: Vec<Transform>,
    /// The final lookup (`exact` when none was written).
    pub lookup: Lookup,
    /// Keys into a JSON field (`meta__a__0__b` → `["a", "0", "b"]`); empty otherwise.
    pub json_path: Vec<String>,
}

/// The lookups that apply after a JSON key path.
const JSON_PATH_LOOKUPS: [Lookup; 8] = [
    Lookup::Exact,
    Lookup::Ne,
    Lookup::Gt,
    Lookup::Gte,
    Lookup::Lt,
    Lookup::Lte,
    Lookup::IsNull,
    Lookup::HasKey,
];

/// A JSON key usable in a path on both backends.
pub(crate) fn valid_json_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ')
}

/// Resolves a field name of `meta`, accepting `pk` for the primary key.
pub fn resolve_field<'m>(meta: &'m ModelMeta, name: &str) -> Result<&'m FieldMeta> {
    if let Some(f) = meta.field(name) {
        return Ok(f);
    }
    if name == "pk" {
        if let Some(f) = meta.primary_key() {
            return Ok(f);
        }
    }
    if let Some(rel) = meta.relation(name) {
        return Err(Error::InvalidQuery(format!(
            "{}.{} is a relation to {}, not a column: name one of its fields \
             (`{}__<field>`), or the key column",
            meta.name, rel.name, rel.target, rel.name
        )));
    }
    let mut choices = meta.field_choices();
    if meta.primary_key().is_some() {
        choices.push("pk".into());
    }
    Err(Error::UnknownField {
        model: meta.name.clone(),
        field: name.to_owned(),
        choices,
    })
}

/// Parses `key` (`field[__transform…][__lookup]`) against `meta`. Fails, naming the model,
/// the bad part and the valid choices, for an unknown field, lookup or transform.
pub fn parse<'m>(meta: &'m ModelMeta, key: &str) -> Result<ParsedLookup<'m>> {
    let mut parts = key.split("__");
    let first = parts.next().unwrap_or("");
    let field = resolve_field(meta, first)?;
    let rest: Vec<&str> = parts.collect();
    let mut ty = field.ty.value_type();
    let mut transforms = Vec::new();
    let mut lookup = Lookup::Exact;
    let mut json_path: Vec<String> = Vec::new();
    for (i, part) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        if ty == ValueType::Json && transforms.is_empty() {
            // A lookup, or else a key into the document.
            let as_lookup = Lookup::from_name(part).filter(|l| {
                if json_path.is_empty() {
                    l.applies_to(&ty)
                } else {
                    JSON_PATH_LOOKUPS.contains(l)
                }
            });
            match as_lookup {
                Some(l) if last => {
                    lookup = l;
                    continue;
                }
                _ if valid_json_key(part) => {
                    json_path.push((*part).to_owned());
                    continue;
                }
                _ => {
                    return Err(Error::UnknownLookup {
                        model: meta.name.clone(),
                        field: field.name.clone(),
                        lookup: (*part).to_owned(),
                        choices: vec![
                            "a key made of letters, digits, _, - and spaces".into(),
                            "an array index".into(),
                            "exact, ne, gt, gte, lt, lte, isnull, has_key after a key".into(),
                        ],
                    })
                }
            }
        }
        let unknown = |ty: &ValueType| Error::UnknownLookup {
            model: meta.name.clone(),
            field: path_name(field, &transforms_of(&rest[..i])),
            lookup: (*part).to_owned(),
            choices: choices_for(ty),
        };
        if let Some(t) = Transform::from_name(part) {
            match t.output(&ty) {
                Some(out) => {
                    transforms.push(t);
                    ty = out;
                    continue;
                }
                None => return Err(unknown(&ty)),
            }
        }
        match Lookup::from_name(part) {
            Some(l) if l.applies_to(&ty) => {
                if !last {
                    return Err(Error::UnknownLookup {
                        model: meta.name.clone(),
                        field: path_name(field, &transforms),
                        lookup: rest[i + 1..].join("__"),
                        choices: vec![format!(
                            "nothing: {:?} must be the last part of {key:?}",
                            l.name()
                        )],
                    });
                }
                lookup = l;
            }
            Some(_) | None => {
                // `author__username` on a relation-less part: a field name where a lookup
                // was expected.
                return Err(unknown(&ty));
            }
        }
    }
    Ok(ParsedLookup {
        model: meta,
        field,
        key: key.to_owned(),
        transforms,
        lookup,
        json_path,
    })
}

fn transforms_of(parts: &[&str]) -> Vec<Transform> {
    parts
        .iter()
        .filter_map(|p| Transform::from_name(p))
        .collect()
}

fn path_name(field: &FieldMeta, transforms: &[Transform]) -> String {
    let mut s = field.name.clone();
    for t in transforms {
        s.push_str("__");
        s.push_str(&t.name());
    }
    s
}

impl ParsedLookup<'_> {
    /// The type of the operand after the transforms (`I64` for `year`, `Date` for `date`).
    pub fn operand_type(&self) -> ValueType {
        let mut ty = self.field.ty.value_type();
        for t in &self.transforms {
            ty = t.output(&ty).unwrap_or(ty);
        }
        ty
    }

    /// What the argument must be.
    pub fn arg_shape(&self) -> ArgShape {
        let ty = self.operand_type();
        if self.lookup == Lookup::HasKey {
            return ArgShape::Text;
        }
        if matches!(self.lookup, Lookup::HasKeys | Lookup::HasAnyKeys) {
            return ArgShape::List(ValueType::Text);
        }
        if matches!(
            self.lookup,
            Lookup::Contains | Lookup::ContainedBy | Lookup::Overlap
        ) && matches!(ty, ValueType::Json | ValueType::Array(_))
            && self.json_path.is_empty()
        {
            // A document or an array of the field's own type.
            return ArgShape::Scalar(ty);
        }
        if !self.json_path.is_empty() && self.lookup != Lookup::IsNull {
            // Any JSON scalar: the value's own type decides the comparison.
            return ArgShape::Scalar(ValueType::Json);
        }
        match self.lookup {
            Lookup::IsNull => ArgShape::Bool,
            Lookup::In => ArgShape::List(ty),
            Lookup::Range => ArgShape::Pair(ty),
            l if l.is_text_only() => ArgShape::Text,
            _ => ArgShape::Scalar(ty),
        }
    }

    /// The operand expression: the field's column with the transforms applied.
    pub fn operand(&self) -> Expr {
        let mut e = field_expr(self.model, self.field);
        for t in &self.transforms {
            e = match t {
                Transform::Date => Expr::DateOf(Box::new(e)),
                Transform::Part(p) => Expr::Extract {
                    part: *p,
                    expr: Box::new(e),
                },
                Transform::Len => Expr::ArrayLen(Box::new(e)),
                Transform::Index(i) => {
                    let ty = match e.value_type() {
                        Some(ValueType::Array(elem)) => *elem,
                        _ => ValueType::Json,
                    };
                    Expr::ArrayIndex {
                        expr: Box::new(e),
                        index: *i,
                        ty,
                    }
                }
            };
        }
        e
    }

    /// The path without the final lookup (`pub_date__year`), for messages.
    pub fn path(&self) -> String {
        path_name(self.field, &self.transforms)
    }
}
