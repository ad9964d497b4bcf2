//! PostgreSQL's type table: the column type of each field type (as DDL writes it and as the
//! catalog spells it back), defaults as literals.

use chakra_dsl::{FieldType, Value};

/// The column type of a field.
pub fn column_type(ty: &FieldType) -> String {
    match ty {
        FieldType::Integer => "INTEGER".into(),
        FieldType::BigInteger => "BIGINT".into(),
        FieldType::String {
            max_length: Some(n),
        } => format!("VARCHAR({n})"),
        FieldType::String { max_length: None } | FieldType::Text => "TEXT".into(),
        FieldType::Boolean => "BOOLEAN".into(),
        FieldType::Float => "DOUBLE PRECISION".into(),
        FieldType::Decimal {
            precision: Some(p),
            scale,
        } => format!("NUMERIC({p}, {})", scale.unwrap_or(0)),
        FieldType::Decimal { .. } => "NUMERIC".into(),
        FieldType::DateTime => "TIMESTAMPTZ".into(),
        FieldType::Date => "DATE".into(),
        FieldType::Bytes => "BYTEA".into(),
        FieldType::Json => "JSONB".into(),
        FieldType::Array(inner) => format!("{}[]", column_type(inner)),
        FieldType::Uuid => "UUID".into(),
        // The native enum type of that name (created before the tables using it).
        FieldType::Enum { name, .. } => chakra_dsl::ident::quote(name),
    }
}

/// A constant as literal text for a `DEFAULT` clause.
pub fn default_literal(v: &Value) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match v {
        Value::Null(_) => "NULL".into(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::F64(x) => format!("{x:?}"),
        Value::Decimal(x) => x.to_string(),
        Value::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("'\\x{hex}'::bytea")
        }
        Value::Text(s) => quote(s),
        Value::DateTime(dt) => quote(&Value::datetime_text(dt)),
        Value::Date(x) => quote(&x.to_string()),
        Value::Uuid(u) => quote(&u.to_string()),
        Value::Json(j) => format!("{}::jsonb", quote(&j.to_string())),
        _ => "NULL".into(),
    }
}

/// How the catalog (`format_type`) spells the type of a column of type `ty`.
pub fn db_type(ty: &FieldType) -> String {
    match ty {
        FieldType::Integer => "integer".into(),
        FieldType::BigInteger => "bigint".into(),
        FieldType::String {
            max_length: Some(n),
        } => format!("character varying({n})"),
        FieldType::String { max_length: None } | FieldType::Text => "text".into(),
        FieldType::Boolean => "boolean".into(),
        FieldType::Float => "double precision".into(),
        FieldType::Decimal {
            precision: Some(p),
            scale,
        } => format!("numeric({p},{})", scale.unwrap_or(0)),
        FieldType::Decimal { .. } => "numeric".into(),
        FieldType::DateTime => "timestamp with time zone".into(),
        FieldType::Date => "date".into(),
        FieldType::Bytes => "bytea".into(),
        FieldType::Json => "jsonb".into(),
        FieldType::Uuid => "uuid".into(),
        // As `introspect::COLUMNS_SQL` spells an enum-typed column.
        FieldType::Enum { name, .. } => format!("enum {name}"),
        FieldType::Array(inner) => format!("{}[]", db_type(inner)),
    }
}
