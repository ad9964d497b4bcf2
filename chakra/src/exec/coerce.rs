//! Plan-driven decoding: gives each decoded cell the type the statement declared for it.
//! On PostgreSQL this is mostly the identity; on SQLite it turns storage classes back into
//! canonical values (text → timestamp / date / decimal / UUID / JSON / array, 0/1 → bool).

use crate::sql::sqlite_values::DATE_FORMAT;
use chakra_dsl::{ArrayValue, Error, Result, Value, ValueType};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::str::FromStr;

fn bad(column: usize, v: &Value, ty: &ValueType) -> Error {
    Error::Decode {
        column: format!("#{column}"),
        reason: format!("{v} cannot be read as {ty}"),
    }
}

/// Parses the timestamp text forms found in SQLite databases: Chakra's canonical form, any
/// RFC 3339 text, SQLite's own `YYYY-MM-DD HH:MM:SS[.fff]` (UTC), and the forms of
/// [`crate::sql::sqlite_datetime::canonical`] (an offset without a colon, a bare date).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Some(dt) = parse_canonical(s.as_bytes()) {
        return Some(dt);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc());
        }
    }
    // The other forms writers use (an offset without a colon, `-0430`, after a space or a
    // `T`), as comparisons read them (`sql/sqlite_datetime.rs`).
    crate::sql::sqlite_datetime::canonical(s).and_then(|c| parse_canonical(c.as_bytes()))
}

/// Chakra's own timestamp text, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (what
/// [`Value::datetime_text`] writes), read without a general parser; anything else (other
/// forms, out-of-range fields) is `None` and goes through the general parsers, which read
/// this form the same way.
fn parse_canonical(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 27
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[26] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let t = date.and_hms_micro_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 26)?)?;
    Some(t.and_utc())
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn canonical_timestamps_read_and_write_as_chrono_does() {
        let instants = [
            Utc.timestamp_opt(0, 0).unwrap(),
            Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1, 2, 3, 4, 5, 6).unwrap(),
            Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(12_345, 1, 1, 0, 0, 0).unwrap(),
        ];
        for t in instants {
            let text = Value::datetime_text(&t);
            assert_eq!(text, t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            if text.len() != 27 {
                continue; // signed or five-digit years: formatted by chrono, not read back
            }
            let back = parse_datetime(&text).unwrap();
            let general = DateTime::parse_from_rfc3339(&text).map(|d| d.with_timezone(&Utc));
            if let Ok(g) = general {
                assert_eq!(back, g, "{text}");
            }
            assert_eq!(back.timestamp_micros(), t.timestamp_micros(), "{text}");
        }
        // Not the canonical form: the general parsers decide.
        assert_eq!(
            parse_datetime("2024-02-30T00:00:00.000000Z"),
            None,
            "no such day"
        );
        assert_eq!(
            parse_datetime("2024-01-01T00:00:60.000000Z"),
            DateTime::parse_from_rfc3339("2024-01-01T00:00:60.000000Z")
                .ok()
                .map(|d| d.with_timezone(&Utc))
        );
        assert!(parse_datetime("2024-01-01 10:00:00").is_some());
        assert!(parse_datetime("2024-01-01T1x:00:00.000000Z").is_none());
    }
}
