//! Lookup conditions (partial indexes, checks) in migration files: the inline table
//! `{ status = "active", age__gte = 18 }` (lookups ANDed), `{ or = [ {…}, {…} ] }`,
//! `{ and = [ … ] }`, `{ not = {…} }`. Values are strings, integers, booleans or arrays of
//! them. Written and read back to the same [`Cond`].

use super::error::MResult;
use super::toml_reader::Ctx;
use chakra_dsl::table_options::{Cond, CondValue};
use toml::de::DeValue;
use toml::Spanned;

const JUNCTIONS: [&str; 3] = ["and", "or", "not"];

/// The condition as a TOML inline table.
pub fn to_toml(c: &Cond) -> String {
    match c {
        Cond::Lookup { key, value } => format!("{{ {} = {} }}", toml_key(key), value_toml(value)),
        Cond::And(items) => {
            let mut keys: Vec<&str> = Vec::new();
            let simple = items.iter().all(|i| match i {
                Cond::Lookup { key, .. } if !keys.contains(&key.as_str()) => {
                    keys.push(key);
                    true
                }
                _ => false,
            });
            if simple && !items.is_empty() {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        Cond::Lookup { key, value } => {
                            format!("{} = {}", toml_key(key), value_toml(value))
                        }
                        _ => unreachable!("checked above"),
                    })
                    .collect();
                format!("{{ {} }}", parts.join(", "))
            } else {
                format!("{{ and = [{}] }}", list(items))
            }
        }
        Cond::Or(items) => format!("{{ or = [{}] }}", list(items)),
        Cond::Not(inner) => format!("{{ not = {} }}", to_toml(inner)),
    }
}

fn list(items: &[Cond]) -> String {
    items.iter().map(to_toml).collect::<Vec<_>>().join(", ")
}

fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !JUNCTIONS.contains(&key)
    {
        key.to_owned()
    } else {
        toml_string(key)
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn value_toml(v: &CondValue) -> String {
    match v {
        CondValue::Bool(b) => b.to_string(),
        CondValue::Int(i) => i.to_string(),
        CondValue::Text(s) => toml_string(s),
        CondValue::List(items) => format!(
            "[{}]",
            items.iter().map(value_toml).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Reads a condition written by [`to_toml`] (or by hand), normalized.
pub fn from_toml(ctx: &Ctx<'_>, v: &Spanned<DeValue<'_>>, what: &str) -> MResult<Cond> {
    Ok(read(ctx, v, what)?.normalized())
}

fn read(ctx: &Ctx<'_>, v: &Spanned<DeValue<'_>>, what: &str) -> MResult<Cond> {
    let t = ctx.as_table(v, what)?;
    if t.is_empty() {
        return Err(ctx.err(v.span(), &format!("{what} is an empty condition")));
    }
    let mut items = Vec::new();
    for (k, val) in t.iter() {
        let key = k.get_ref().as_ref();
        items.push(match key {
            "and" | "or" => {
                let parts = ctx
                    .array(val, &format!("{what}.{key}"))?
                    .iter()
                    .map(|p| read(ctx, p, &format!("{what}.{key}")))
                    .collect::<MResult<Vec<_>>>()?;
                if parts.is_empty() {
                    return Err(ctx.err(val.span(), &format!("{what}.{key} is empty")));
                }
                if key == "and" {
                    Cond::And(parts)
                } else {
                    Cond::Or(parts)
                }
            }
            "not" => Cond::Not(Box::new(read(ctx, val, &format!("{what}.not"))?)),
            _ => Cond::Lookup {
                key: key.to_owned(),
                value: value(ctx, val, &format!("{what}.{key}"))?,
            },
        });
    }
    Ok(if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        Cond::And(items)
    })
}

fn value(ctx: &Ctx<'_>, v: &Spanned<DeValue<'_>>, what: &str) -> MResult<CondValue> {
    Ok(match v.get_ref() {
        DeValue::String(s) => CondValue::Text(s.to_string()),
        DeValue::Boolean(b) => CondValue::Bool(*b),
        DeValue::Integer(i) => CondValue::Int(
            i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| ctx.err(v.span(), &format!("{what}: integer out of range")))?,
        ),
        DeValue::Array(a) => CondValue::List(
            a.iter()
                .map(|x| value(ctx, x, what))
                .collect::<MResult<Vec<_>>>()?,
        ),
        other => {
            return Err(ctx.err(
                v.span(),
                &format!(
                    "{what}: a condition value is a string, an integer, a boolean or an array, \
                     not {}",
                    other.type_str()
                ),
            ))
        }
    })
}
