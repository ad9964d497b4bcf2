//! How canonical values are stored on SQLite, which only knows NULL, INTEGER, REAL, TEXT and
//! BLOB: dates and timestamps as fixed-width ISO-8601 text (so they sort), decimals as exact
//! text, UUIDs as hyphenated lowercase text, JSON and arrays as JSON text, booleans as 0/1.

use chakra_dsl::{ArrayValue, Value, ValueType};

/// Date text format on SQLite.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Converts a value to what SQLite stores for it.
pub fn to_storage(v: Value) -> Value {
    match v {
        Value::Null(t) => Value::Null(storage_type(&t)),
        Value::Decimal(d) => Value::Text(d.to_string()),
        Value::DateTime(dt) => Value::Text(Value::datetime_text(&dt)),
        Value::Date(d) => Value::Text(d.format(DATE_FORMAT).to_string()),
        Value::Uuid(u) => Value::Text(u.hyphenated().to_string()),
        Value::Json(j) => Value::Text(j.to_string()),
        Value::Array(a) => Value::Text(array_to_json(&a).to_string()),
        other => other,
    }
}

/// The storage type of a canonical type on SQLite.
pub fn storage_type(t: &ValueType) -> ValueType {
    match t {
        ValueType::Decimal
        | ValueType::DateTime
        | ValueType::Date
        | ValueType::Uuid
        | ValueType::Json
        | ValueType::Array(_) => ValueType::Text,
        other => other.clone(),
    }
}

/// One scalar as JSON, in the same textual forms as [`to_storage`].
pub fn scalar_to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null(_) => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::I32(i) => J::from(*i),
        Value::I64(i) => J::from(*i),
        Value::F64(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        Value::Json(j) => j.clone(),
        Value::Bytes(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
        other => match to_storage(other.clone()) {
            Value::Text(s) => J::String(s),
            _ => J::Null,
        },
    }
}

/// An array as a JSON list.
pub fn array_to_json(a: &ArrayValue) -> serde_json::Value {
    serde_json::Value::Array(a.to_values().iter().map(scalar_to_json).collect())
}
