//! SQLite's type table: the column type (affinity) of each field type, defaults as literals
//! in the stored form (`values.rs`).

use super::values::to_storage;
use chakra_dsl::{FieldType, Value};

/// The column type of a field.
pub fn column_type(ty: &FieldType) -> String {
    match ty {
        FieldType::Integer | FieldType::BigInteger | FieldType::Boolean => "INTEGER".into(),
        FieldType::Float => "REAL".into(),
        FieldType::Bytes => "BLOB".into(),
        _ => "TEXT".into(),
    }
}

/// A constant as literal text for a `DEFAULT` clause, in its stored form.
pub fn default_literal(v: &Value) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match v {
        Value::Null(_) => "NULL".into(),
        Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::F64(x) => format!("{x:?}"),
        Value::Decimal(x) => quote(&x.to_string()),
        Value::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("X'{hex}'")
        }
        other => match to_storage(other.clone()) {
            Value::Text(s) => quote(&s),
            _ => "NULL".into(),
        },
    }
}
