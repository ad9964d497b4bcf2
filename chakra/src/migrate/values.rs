//! Default values as migration files write them (type names are `chakra_dsl::names`: the
//! `FromStr`/`name()` of `FieldType`, `Array(Integer)` for arrays, as in Python). Defaults are TOML constants read according to the field's
//! type: integers and floats as numbers, booleans as booleans, everything else as a string
//! (`"2024-01-01T00:00:00Z"`, `"1.50"`, a UUID, JSON text, hex for bytes); `"now()"` on a
//! `DateTime` or `Date` field is the database's current time.

use chakra_dsl::{DefaultValue, FieldType, Value};

/// A default as it appears in the file, before the field's type is known.
#[derive(Debug, Clone, PartialEq)]
pub enum RawDefault {
    /// A TOML string.
    Str(String),
    /// A TOML integer.
    Int(i64),
    /// A TOML float.
    Float(f64),
    /// A TOML boolean.
    Bool(bool),
}

/// Reads a default for a field of type `ty`, or says why it does not fit.
pub fn default_from_raw(raw: &RawDefault, ty: &FieldType) -> Result<DefaultValue, String> {
    let want = |what: &str| Err(format!("a {} default must be {what}", ty.name()));
    if let RawDefault::Str(s) = raw {
        if s == "now()" {
            return if ty.is_temporal() {
                Ok(DefaultValue::Now)
            } else {
                Err(format!(
                    "\"now()\" is only a default for DateTime and Date fields, not {}",
                    ty.name()
                ))
            };
        }
    }
    let v = match (ty, raw) {
        (FieldType::Integer, RawDefault::Int(i)) => match i32::try_from(*i) {
            Ok(x) => Value::I32(x),
            Err(_) => return Err(format!("{i} does not fit an Integer (32-bit)")),
        },
        (FieldType::Integer, _) => return want("an integer"),
        (FieldType::BigInteger, RawDefault::Int(i)) => Value::I64(*i),
        (FieldType::BigInteger, _) => return want("an integer"),
        (FieldType::Float, RawDefault::Float(f)) => Value::F64(*f),
        (FieldType::Float, RawDefault::Int(i)) => Value::F64(*i as f64),
        (FieldType::Float, _) => return want("a number"),
        (FieldType::Boolean, RawDefault::Bool(b)) => Value::Bool(*b),
        (FieldType::Boolean, _) => return want("true or false"),
        (FieldType::String { .. } | FieldType::Text, RawDefault::Str(s)) => Value::Text(s.clone()),
        (FieldType::String { .. } | FieldType::Text, _) => return want("a string"),
        (FieldType::Decimal { .. }, RawDefault::Str(s)) => match s.parse() {
            Ok(d) => Value::Decimal(d),
            Err(_) => return Err(format!("{s:?} is not a decimal number")),
        },
        (FieldType::Decimal { .. }, RawDefault::Int(i)) => Value::Decimal((*i).into()),
        (FieldType::Decimal { .. }, _) => return want("a string such as \"1.50\""),
        (FieldType::DateTime, RawDefault::Str(s)) => {
            match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(dt) => Value::DateTime(dt.with_timezone(&chrono::Utc)),
                Err(e) => return Err(format!("{s:?} is not an RFC 3339 timestamp: {e}")),
            }
        }
        (FieldType::Date, RawDefault::Str(s)) => match s.parse() {
            Ok(d) => Value::Date(d),
            Err(e) => return Err(format!("{s:?} is not a date (YYYY-MM-DD): {e}")),
        },
        (FieldType::Uuid, RawDefault::Str(s)) => match s.parse() {
            Ok(u) => Value::Uuid(u),
            Err(e) => return Err(format!("{s:?} is not a UUID: {e}")),
        },
        (FieldType::Json, RawDefault::Str(s)) => match serde_json::from_str(s) {
            Ok(j) => Value::Json(j),
            Err(e) => return Err(format!("{s:?} is not JSON text: {e}")),
        },
        (FieldType::Bytes, RawDefault::Str(s)) => match hex_decode(s) {
            Some(b) => Value::Bytes(b),
            None => return Err(format!("{s:?} is not hex text (\"00ff\")")),
        },
        (FieldType::DateTime | FieldType::Date | FieldType::Uuid | FieldType::Json, _)
        | (FieldType::Bytes, _) => return want("a string"),
        (FieldType::Enum { name, values }, RawDefault::Str(s)) => {
            if !values.contains(s) {
                return Err(chakra_dsl::contract::enum_violation(name, values, s));
            }
            Value::Text(s.clone())
        }
        (FieldType::Enum { .. }, _) => return want("a string"),
        (FieldType::Array(_), _) => {
            return Err("Array fields cannot have a default in a migration yet".into())
        }
    };
    Ok(DefaultValue::Value(v))
}

/// The file form of a default (the inverse of [`default_from_raw`]).
pub fn default_to_raw(d: &DefaultValue) -> RawDefault {
    match d {
        DefaultValue::Now => RawDefault::Str("now()".into()),
        DefaultValue::Value(v) => match v {
            Value::I32(i) => RawDefault::Int((*i).into()),
            Value::I64(i) => RawDefault::Int(*i),
            Value::F64(f) => RawDefault::Float(*f),
            Value::Bool(b) => RawDefault::Bool(*b),
            Value::Text(s) => RawDefault::Str(s.clone()),
            Value::Decimal(x) => RawDefault::Str(x.to_string()),
            Value::DateTime(dt) => RawDefault::Str(Value::datetime_text(dt)),
            Value::Date(x) => RawDefault::Str(x.to_string()),
            Value::Uuid(u) => RawDefault::Str(u.to_string()),
            Value::Json(j) => RawDefault::Str(j.to_string()),
            Value::Bytes(b) => RawDefault::Str(b.iter().map(|x| format!("{x:02x}")).collect()),
            Value::Null(_) | Value::Array(_) => RawDefault::Str(String::new()),
        },
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("\\x").unwrap_or(s);
    if s.len() % 2 == 1 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_field_type() {
        let d = default_from_raw(
            &RawDefault::Str("1.50".into()),
            &"Decimal".parse::<FieldType>().unwrap(),
        )
        .unwrap();
        assert_eq!(default_to_raw(&d), RawDefault::Str("1.50".into()));
        assert!(default_from_raw(&RawDefault::Str("x".into()), &FieldType::Integer).is_err());
        assert_eq!(
            default_from_raw(&RawDefault::Str("now()".into()), &FieldType::DateTime).unwrap(),
            DefaultValue::Now
        );
        assert!(default_from_raw(&RawDefault::Str("now()".into()), &FieldType::Text).is_err());
        let b = default_from_raw(&RawDefault::Str("00ff".into()), &FieldType::Bytes).unwrap();
        assert_eq!(b, DefaultValue::Value(Value::Bytes(vec![0, 255])));
        assert!(default_from_raw(&RawDefault::Int(1 << 40), &FieldType::Integer).is_err());
    }
}
