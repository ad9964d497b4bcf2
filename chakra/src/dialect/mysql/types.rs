//! MySQL's type table: the column type of each field type as DDL writes it (the same on
//! MySQL 8 and MariaDB 10.11), and defaults as literals.
//!
//! Text without a length is `LONGTEXT`, except where it is keyed (a primary key, unique,
//! indexed or referenced column): an index needs a bounded type, so a keyed text column is
//! `VARCHAR(255)` (lengths count characters), and a longer value is refused by the server
//! (strict mode, error 1406) rather than cut.

use chakra_dsl::{FieldType, Value};

/// The length a keyed text column without one gets.
pub const KEYED_TEXT_LENGTH: u32 = 255;

/// The column type of a field.
pub fn column_type(ty: &FieldType) -> String {
    match ty {
        FieldType::Integer => "INTEGER".into(),
        FieldType::BigInteger => "BIGINT".into(),
        FieldType::String {
            max_length: Some(n),
        } => format!("VARCHAR({n})"),
        FieldType::String { max_length: None } | FieldType::Text => "LONGTEXT".into(),
        FieldType::Boolean => "BOOLEAN".into(),
        FieldType::Float => "DOUBLE".into(),
        FieldType::Decimal {
            precision: Some(p),
            scale,
        } => format!("DECIMAL({p}, {})", scale.unwrap_or(0)),
        // The widest exact decimal MySQL has: 65 digits, 30 after the point.
        FieldType::Decimal { .. } => "DECIMAL(65, 30)".into(),
        FieldType::DateTime => "DATETIME(6)".into(),
        FieldType::Date => "DATE".into(),
        FieldType::Bytes => "LONGBLOB".into(),
        FieldType::Json => "JSON".into(),
        // Refused before DDL is written (`Mysql::column_type_checked`); never reached.
        FieldType::Array(_) => "JSON".into(),
        FieldType::Uuid => "CHAR(36)".into(),
        FieldType::Enum { .. } => format!("VARCHAR({KEYED_TEXT_LENGTH})"),
    }
}

/// The column type of a keyed field (primary key, unique, indexed, referenced).
pub fn keyed_column_type(ty: &FieldType) -> String {
    match ty {
        FieldType::String { max_length: None } | FieldType::Text => {
            format!("VARCHAR({KEYED_TEXT_LENGTH})")
        }
        other => column_type(other),
    }
}

/// A constant as literal text for a `DEFAULT` clause, in parentheses (MySQL takes a text,
/// blob or JSON column's default only as an expression).
pub fn default_literal(v: &Value) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let inner = match v {
        Value::Null(_) => return "NULL".into(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::F64(x) => format!("{x:?}"),
        Value::Decimal(x) => x.to_string(),
        Value::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("X'{hex}'")
        }
        Value::Text(s) => quote(s),
        Value::DateTime(dt) => quote(&dt.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
        Value::Date(x) => quote(&x.to_string()),
        Value::Uuid(u) => quote(&u.to_string()),
        Value::Json(j) => quote(&j.to_string()),
        _ => return "NULL".into(),
    };
    format!("({inner})")
}
