//! Plan-driven decoding: gives each decoded cell the type the statement declared for it.
//! On PostgreSQL this is mostly the identity; on SQLite it turns storage classes back into
//! canonical values (text → timestamp / date / decimal / UUID / JSON / array, 0/1 → bool);
//! how SQLite's timestamp text reads back is in its room ([`parse_datetime`]).

use crate::dialect::sqlite::values::DATE_FORMAT;
use chakra_dsl::{ArrayValue, Error, Result, Value, ValueType};
use chrono::NaiveDate;
use std::str::FromStr;

pub use crate::dialect::sqlite::read_datetime::parse_datetime;

fn bad(column: usize, v: &Value, ty: &ValueType) -> Error {
    Error::Decode {
        column: format!("#{column}"),
        reason: format!("{v} cannot be read as {ty}"),
    }
}

/// Gives `v` (cell number `column`) the type `ty`.
pub fn coerce(column: usize, v: Value, ty: &ValueType) -> Result<Value> {
    Ok(match (v, ty) {
        (Value::Null(_), t) => Value::Null(t.clone()),
        (Value::I32(x), ValueType::I32) => Value::I32(x),
        (Value::I64(x), ValueType::I64) => Value::I64(x),
        (Value::Bool(b), ValueType::Bool) => Value::Bool(b),
        (Value::F64(x), ValueType::F64) => Value::F64(x),
        (Value::Text(s), ValueType::Text) => Value::Text(s),
        (Value::I64(x), ValueType::I32) => match i32::try_from(x) {
            Ok(x) => Value::I32(x),
            Err(_) => return Err(bad(column, &Value::I64(x), ty)),
        },
        (Value::I32(x), ValueType::I64) => Value::I64(x as i64),
        (Value::I64(x), ValueType::Bool) => Value::Bool(x != 0),
        (Value::I32(x), ValueType::Bool) => Value::Bool(x != 0),
        (Value::I64(x), ValueType::F64) => Value::F64(x as f64),
        (Value::I32(x), ValueType::F64) => Value::F64(x as f64),
        (Value::I64(x), ValueType::Decimal) => Value::Decimal(x.into()),
        // A REAL cell (a SQLite column of NUMERIC or REAL affinity in a table Chakra did not
        // create): the shortest decimal that reads back as the same double, so a stored 0.01
        // is 0.01, not the binary expansion 0.0100000000000000002081….
        (Value::F64(x), ValueType::Decimal) if x.is_finite() => {
            match bigdecimal::BigDecimal::from_str(&format!("{x}")) {
                Ok(d) => Value::Decimal(d),
                Err(_) => return Err(bad(column, &Value::F64(x), ty)),
            }
        }
        (Value::Text(s), ValueType::Decimal) => match bigdecimal::BigDecimal::from_str(&s) {
            Ok(d) => Value::Decimal(d),
            Err(_) => return Err(bad(column, &Value::Text(s), ty)),
        },
        (Value::Text(s), ValueType::DateTime) => match parse_datetime(&s) {
            Some(d) => Value::DateTime(d),
            None => return Err(bad(column, &Value::Text(s), ty)),
        },
        (Value::Text(s), ValueType::Date) => {
            match NaiveDate::parse_from_str(s.get(..10).unwrap_or(&s), DATE_FORMAT) {
                Ok(d) => Value::Date(d),
                Err(_) => return Err(bad(column, &Value::Text(s), ty)),
            }
        }
        (Value::Text(s), ValueType::Uuid) => match uuid::Uuid::parse_str(&s) {
            Ok(u) => Value::Uuid(u),
            Err(_) => return Err(bad(column, &Value::Text(s), ty)),
        },
        (Value::Bytes(b), ValueType::Uuid) if b.len() == 16 => {
            Value::Uuid(uuid::Uuid::from_slice(&b).expect("16 bytes"))
        }
        (Value::Text(s), ValueType::Json) => match serde_json::from_str(&s) {
            Ok(j) => Value::Json(j),
            Err(_) => return Err(bad(column, &Value::Text(s), ty)),
        },
        (v @ (Value::I64(_) | Value::F64(_)), ValueType::Json) => match v {
            Value::I64(x) => Value::Json(x.into()),
            Value::F64(x) => Value::Json(x.into()),
            _ => unreachable!(),
        },
        (Value::Text(s), ValueType::Array(elem)) => match json_array(column, &s, elem) {
            Some(a) => Value::Array(a),
            None => return Err(bad(column, &Value::Text(s), ty)),
        },
        (Value::Json(j), ValueType::Text) => Value::Text(j.to_string()),
        (Value::Array(a), ValueType::Array(elem)) => {
            if a.element_type() == **elem {
                Value::Array(a)
            } else {
                let vals: Result<Vec<Value>> = a
                    .to_values()
                    .into_iter()
                    .map(|v| coerce(column, v, elem))
                    .collect();
                match ArrayValue::from_values(elem, &vals?) {
                    Some(a) => Value::Array(a),
                    None => return Err(bad(column, &Value::Array(a), ty)),
                }
            }
        }
        (v, t) if v.value_type() == *t => v,
        (v, t) => return Err(bad(column, &v, t)),
    })
}

fn json_array(column: usize, s: &str, elem: &ValueType) -> Option<ArrayValue> {
    let items: Vec<serde_json::Value> = serde_json::from_str(s).ok()?;
    let mut out = ArrayValue::empty(elem)?;
    for item in items {
        let raw = match item {
            serde_json::Value::Null => Value::Null(elem.clone()),
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::I64(i),
                None => Value::F64(n.as_f64()?),
            },
            serde_json::Value::String(s) => Value::Text(s),
            serde_json::Value::Array(bytes) if *elem == ValueType::Bytes => Value::Bytes(
                bytes
                    .iter()
                    .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect::<Option<Vec<u8>>>()?,
            ),
            other if *elem == ValueType::Json => Value::Json(other),
            _ => return None,
        };
        let v = if *elem == ValueType::Json {
            match raw {
                Value::Null(t) => Value::Null(t),
                Value::Bool(b) => Value::Json(b.into()),
                Value::I64(i) => Value::Json(i.into()),
                Value::F64(f) => Value::Json(f.into()),
                Value::Text(s) => Value::Json(s.into()),
                other => other,
            }
        } else {
            coerce(column, raw, elem).ok()?
        };
        if !out.push(v) {
            return None;
        }
    }
    Some(out)
}

/// True when `v` already has type `t` (no allocation, unlike comparing `value_type()`).
fn has_type(v: &Value, t: &ValueType) -> bool {
    matches!(
        (v, t),
        (Value::Bool(_), ValueType::Bool)
            | (Value::I32(_), ValueType::I32)
            | (Value::I64(_), ValueType::I64)
            | (Value::F64(_), ValueType::F64)
            | (Value::Decimal(_), ValueType::Decimal)
            | (Value::Text(_), ValueType::Text)
            | (Value::Bytes(_), ValueType::Bytes)
            | (Value::DateTime(_), ValueType::DateTime)
            | (Value::Date(_), ValueType::Date)
            | (Value::Json(_), ValueType::Json)
            | (Value::Uuid(_), ValueType::Uuid)
    )
}

/// Coerces a whole row in place against the plan. Cells that already have their declared
/// type (nearly all of them on PostgreSQL) are left untouched.
pub fn coerce_row(mut row: Vec<Value>, plan: &[ValueType]) -> Result<Vec<Value>> {
    for (i, (cell, t)) in row.iter_mut().zip(plan).enumerate() {
        if has_type(cell, t) {
            continue;
        }
        if let Value::Null(nt) = cell {
            if nt != t {
                *nt = t.clone();
            }
            continue;
        }
        let v = std::mem::replace(cell, Value::Bool(false));
        *cell = coerce(i, v, t)?;
    }
    Ok(row)
}
