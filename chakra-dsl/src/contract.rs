//! The type contract: what a value must be to be stored in a field, checked in the core
//! before any SQL, so SQLite and PostgreSQL, and Rust and Python, accept and refuse the same
//! values (SQLite would otherwise store almost anything as given, and PostgreSQL would round
//! decimals silently or fail with a generic overflow).
//!
//! - `Decimal(p, s)`: at most `s` digits after the point and `p - s` before it. A value with
//!   more fraction digits is refused, not rounded: rounding would change money without anyone
//!   asking (quantize it first, e.g. `Decimal("1.005").quantize(Decimal("0.01"))`).
//! - `Float`: NaN and the infinities are refused (SQLite stores NaN as NULL, PostgreSQL keeps
//!   it: the two would disagree).
//! - `String(n)`: at most `n` characters.
//! - `DateTime`/`Date`: the year, after conversion to UTC, is within 1..=9999 (what both
//!   backends store and both languages read back).
//! - `Json`: nested at most [`crate::limits::MAX_DEPTH`] levels deep.
//! - An unconstrained `Decimal`: at most [`MAX_DECIMAL_WHOLE`] digits before the point and
//!   [`MAX_DECIMAL_FRACTION`] after it (PostgreSQL's `numeric` limits; SQLite would store
//!   more, so both refuse the same values).
//! - `Enum`: one of the declared stored values (exactly; no case folding).
//! - Arrays: each element follows its element type's rules.

use crate::limits::{json_depth, json_too_deep, MAX_DEPTH};
use crate::types::FieldType;
use crate::value::{ArrayValue, Value};
use bigdecimal::BigDecimal;
use chrono::Datelike;

/// The most digits an unconstrained decimal may have before the point (PostgreSQL's
/// `numeric` limit).
pub const MAX_DECIMAL_WHOLE: u64 = 131_072;
/// The most digits an unconstrained decimal may have after the point (PostgreSQL's
/// `numeric` limit).
pub const MAX_DECIMAL_FRACTION: u64 = 16_383;

/// Why `v` does not fit a field of type `ty`, or `None` when it fits. Assumes the value's
/// runtime type already matches the field's.
pub fn violation(ty: &FieldType, v: &Value) -> Option<String> {
    match (ty, v) {
        (FieldType::String { .. } | FieldType::Text, Value::Text(s)) if s.contains('\0') => {
            Some(NUL.into())
        }
        (FieldType::Json, Value::Json(j)) => match json_depth(j) {
            d if d > MAX_DEPTH => Some(json_too_deep(d)),
            _ if json_has_nul(j) => Some(NUL.into()),
            _ => None,
        },
        (FieldType::DateTime, Value::DateTime(d)) => year_violation(d.year()),
        (FieldType::Date, Value::Date(d)) => year_violation(d.year()),
        (
            FieldType::String {
                max_length: Some(n),
            },
            Value::Text(s),
        ) if s.chars().count() > *n as usize => Some(format!("longer than max_length {n}")),
        (FieldType::Decimal { precision, scale }, Value::Decimal(d)) => {
            decimal_violation(*precision, *scale, d)
        }
        (FieldType::Float, Value::F64(x)) if !x.is_finite() => Some(format!(
            "{x} is not stored: NaN and infinities are refused, as SQLite and PostgreSQL would \
             store them differently"
        )),
        (FieldType::Array(inner), Value::Array(a)) => array_violation(inner, a),
        (FieldType::Enum { name, values }, Value::Text(s)) if !values.iter().any(|v| v == s) => {
            Some(enum_violation(name, values, s))
        }
        _ => None,
    }
}

/// Why `s` is not a value of the enum `name`.
pub fn enum_violation(name: &str, values: &[String], s: &str) -> String {
    format!("{s:?} is not a value of the enum {name} (its values: {values:?})")
}

/// Why text holding NUL is refused on both backends.
const NUL: &str = "text holds a NUL character (\\0), which PostgreSQL cannot store in text or \
     JSON (SQLite would keep it): the value is refused on both backends; store binary data in \
     a Bytes field";

/// Why a date or datetime in `year` (in UTC) is refused, if it is.
fn year_violation(year: i32) -> Option<String> {
    (!(1..=9999).contains(&year)).then(|| {
        format!(
            "year {year} (in UTC) is outside 1..9999, the years both backends store and both \
             languages read back"
        )
    })
}

/// True when a JSON document holds NUL in a string or a key (walked without recursion).
fn json_has_nul(j: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    let mut stack = vec![j];
    while let Some(v) = stack.pop() {
        match v {
            J::String(s) if s.contains('\0') => return true,
            J::Array(items) => stack.extend(items.iter()),
            J::Object(o) => {
                if o.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                stack.extend(o.values());
            }
            _ => {}
        }
    }
    false
}

fn array_violation(inner: &FieldType, a: &ArrayValue) -> Option<String> {
    a.to_values()
        .iter()
        .enumerate()
        .find_map(|(i, v)| violation(inner, v).map(|r| format!("element {i}: {r}")))
}

/// (digits before the point, digits after it) of a decimal, trailing zeros ignored.
pub fn decimal_digits(d: &BigDecimal) -> (u64, u64) {
    let n = d.normalized();
    let (int, exp) = n.as_bigint_and_exponent();
    if int == 0.into() {
        return (0, 0);
    }
    let digits = int.magnitude().to_string().len() as i64;
    let frac = exp.max(0);
    let whole = (digits - exp).max(0);
    (whole as u64, frac as u64)
}

fn decimal_violation(precision: Option<u32>, scale: Option<u32>, d: &BigDecimal) -> Option<String> {
    let (whole, frac) = decimal_digits(d);
    if whole > MAX_DECIMAL_WHOLE || frac > MAX_DECIMAL_FRACTION {
        return Some(format!(
            "{whole} digits before the point and {frac} after it: decimals are stored with at \
             most {MAX_DECIMAL_WHOLE} digits before the point and {MAX_DECIMAL_FRACTION} after \
             it on both backends"
        ));
    }
    let scale = scale.unwrap_or(if precision.is_some() { 0 } else { u32::MAX }) as u64;
    if frac > scale {
        return Some(format!(
            "{frac} digits after the point, the column keeps {scale}: round it first, Chakra \
             never rounds silently"
        ));
    }
    if let Some(p) = precision {
        let max_whole = (p as u64).saturating_sub(scale);
        if whole > max_whole {
            return Some(format!(
                "{whole} digits before the point, Decimal({p}, {scale}) allows {max_whole}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Value {
        Value::Decimal(BigDecimal::from_str(s).unwrap())
    }

    fn ty(p: u32, s: u32) -> FieldType {
        FieldType::Decimal {
            precision: Some(p),
            scale: Some(s),
        }
    }

    #[test]
    fn decimals_fit_precision_and_scale() {
        let t = ty(6, 2);
        for ok in [
            "1.23", "1.2", "1.50", "1234.56", "-1234.56", "0", "0.00", "100",
        ] {
            assert_eq!(violation(&t, &dec(ok)), None, "{ok}");
        }
        assert!(violation(&t, &dec("1.23456"))
            .unwrap()
            .contains("after the point"));
        assert!(violation(&t, &dec("123456789"))
            .unwrap()
            .contains("before the point"));
        assert!(violation(&t, &dec("12345.6"))
            .unwrap()
            .contains("before the point"));
        assert!(violation(&ty(12, 2), &dec("1.005")).is_some());
        assert_eq!(
            decimal_digits(&BigDecimal::from_str("1.500").unwrap()),
            (1, 1)
        );
        assert_eq!(
            decimal_digits(&BigDecimal::from_str("1E+3").unwrap()),
            (4, 0)
        );
        assert_eq!(
            decimal_digits(&BigDecimal::from_str("0.001").unwrap()),
            (0, 3)
        );
        // An unconstrained Decimal takes anything.
        let free = FieldType::Decimal {
            precision: None,
            scale: None,
        };
        assert_eq!(violation(&free, &dec("1.234567890123456789")), None);
    }

    #[test]
    fn nul_is_refused_in_text_and_json() {
        let text = FieldType::String {
            max_length: Some(10),
        };
        assert!(violation(&text, &Value::Text("a\0b".into())).is_some());
        assert!(violation(&FieldType::Text, &Value::Text("a\0".into())).is_some());
        assert_eq!(
            violation(&FieldType::Text, &Value::Text("a\\0".into())),
            None
        );
        let j = |v: serde_json::Value| violation(&FieldType::Json, &Value::Json(v));
        assert!(j(serde_json::json!({"k": ["x\u{0}"]})).is_some());
        assert!(j(serde_json::json!({"k\u{0}": 1})).is_some());
        assert_eq!(j(serde_json::json!({"k": ["ü😀"]})), None);
    }

    #[test]
    fn unbounded_decimals_stay_within_what_both_backends_store() {
        let free = FieldType::Decimal {
            precision: None,
            scale: None,
        };
        assert!(violation(&free, &dec("1E-20000")).is_some());
        assert!(violation(&free, &dec("1E+200000")).is_some());
        assert_eq!(violation(&free, &dec("1E-16383")), None);
        assert_eq!(violation(&free, &dec("1E+131071")), None);
    }

    #[test]
    fn datetimes_are_within_years_1_to_9999() {
        use chrono::{NaiveDate, TimeZone, Utc};
        let at = |y| Value::DateTime(Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap());
        assert!(violation(&FieldType::DateTime, &at(0)).is_some());
        assert!(violation(&FieldType::DateTime, &at(10000)).is_some());
        assert_eq!(violation(&FieldType::DateTime, &at(1)), None);
        assert_eq!(violation(&FieldType::DateTime, &at(9999)), None);
        let day = |y| Value::Date(NaiveDate::from_ymd_opt(y, 1, 1).unwrap());
        assert!(violation(&FieldType::Date, &day(0)).is_some());
        assert_eq!(violation(&FieldType::Date, &day(2024)), None);
    }

    #[test]
    fn json_deeper_than_the_limit_is_refused() {
        let mut j = serde_json::Value::Null;
        for _ in 0..MAX_DEPTH {
            j = serde_json::Value::Array(vec![j]);
        }
        assert_eq!(violation(&FieldType::Json, &Value::Json(j.clone())), None);
        let deeper = Value::Json(serde_json::Value::Array(vec![j]));
        assert!(violation(&FieldType::Json, &deeper)
            .unwrap()
            .contains("100 levels"));
    }

    #[test]
    fn floats_must_be_finite() {
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(violation(&FieldType::Float, &Value::F64(x)).is_some());
        }
        assert_eq!(violation(&FieldType::Float, &Value::F64(1e308)), None);
    }

    #[test]
    fn enums_take_only_their_declared_values() {
        let t = FieldType::Enum {
            name: "status".into(),
            values: vec!["open".into(), "closed".into()],
        };
        assert_eq!(violation(&t, &Value::Text("open".into())), None);
        assert_eq!(violation(&t, &Value::Text("closed".into())), None);
        for bad in ["Open", "opened", "", "open "] {
            let why = violation(&t, &Value::Text(bad.into())).unwrap();
            assert!(
                why.contains(&format!("{bad:?}")) && why.contains("status"),
                "{why}"
            );
        }
    }
}
