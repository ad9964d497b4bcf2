//! Canonical field types: the one type vocabulary of migrations, Python `Field`s and Rust derives.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The runtime type of a [`crate::Value`], without declaration parameters
/// (no `max_length`, no precision). Binds and row decoding work on this.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueType {
    /// Boolean.
    Bool,
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 64-bit float.
    F64,
    /// Exact decimal.
    Decimal,
    /// Text.
    Text,
    /// Raw bytes.
    Bytes,
    /// Timestamp with time zone (always UTC in Chakra).
    DateTime,
    /// Calendar date.
    Date,
    /// JSON document.
    Json,
    /// UUID.
    Uuid,
    /// Array of the element type.
    Array(Box<ValueType>),
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Bool => f.write_str("Boolean"),
            ValueType::I32 => f.write_str("Integer"),
            ValueType::I64 => f.write_str("BigInteger"),
            ValueType::F64 => f.write_str("Float"),
            ValueType::Decimal => f.write_str("Decimal"),
            ValueType::Text => f.write_str("String"),
            ValueType::Bytes => f.write_str("Bytes"),
            ValueType::DateTime => f.write_str("DateTime"),
            ValueType::Date => f.write_str("Date"),
            ValueType::Json => f.write_str("JSON"),
            ValueType::Uuid => f.write_str("UUID"),
            ValueType::Array(t) => write!(f, "Array({t})"),
        }
    }
}

/// A declared field type, as written in a model or a migration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldType {
    /// `Integer`: i32 / INTEGER.
    Integer,
    /// `BigInteger`: i64 / BIGINT.
    BigInteger,
    /// `String(n)`: VARCHAR(n) on PostgreSQL (TEXT without a length).
    String {
        /// Declared maximum length in characters.
        max_length: Option<u32>,
    },
    /// `Text`: unbounded text.
    Text,
    /// `Boolean`.
    Boolean,
    /// `Float`: DOUBLE PRECISION.
    Float,
    /// `Decimal(p, s)`: NUMERIC(p, s).
    Decimal {
        /// Total digits.
        precision: Option<u32>,
        /// Digits after the point.
        scale: Option<u32>,
    },
    /// `DateTime`: TIMESTAMPTZ, UTC.
    DateTime,
    /// `Date`.
    Date,
    /// `Bytes`: BYTEA / BLOB.
    Bytes,
    /// `JSON`: JSONB / TEXT.
    Json,
    /// `Array(T)`: T[] / JSON text.
    Array(Box<FieldType>),
    /// `UUID`.
    Uuid,
    /// `Enum`: one of a fixed list of stored text values (a Python `enum.Enum`, a Rust
    /// `#[derive(chakra::Enum)]` enum). PostgreSQL: a native enum type named `name`; SQLite:
    /// text checked against the list.
    Enum {
        /// The enum type's name (`"status"`): validated as an identifier.
        name: String,
        /// The stored form of each value, in declaration order.
        values: Vec<String>,
    },
}

/// Why an enum declaration is refused, if it is: the name must be a valid identifier, the
/// values non-empty text without NUL, at least one, none repeated.
pub fn check_enum_declaration(name: &str, values: &[String]) -> Result<(), String> {
    if let Err(e) = crate::ident::validate(name) {
        return Err(format!(
            "the enum name {name:?} is not a valid identifier: {e}"
        ));
    }
    if values.is_empty() {
        return Err(format!("the enum {name} has no values"));
    }
    for (i, v) in values.iter().enumerate() {
        if v.is_empty() || v.contains('\0') {
            return Err(format!(
                "the enum {name} has the value {v:?}: values are non-empty text without NUL"
            ));
        }
        if values[..i].contains(v) {
            return Err(format!("the enum {name} repeats the value {v:?}"));
        }
    }
    Ok(())
}

impl FieldType {
    /// The runtime value type values of this field carry.
    pub fn value_type(&self) -> ValueType {
        match self {
            FieldType::Integer => ValueType::I32,
            FieldType::BigInteger => ValueType::I64,
            FieldType::String { .. } | FieldType::Text => ValueType::Text,
            FieldType::Boolean => ValueType::Bool,
            FieldType::Float => ValueType::F64,
            FieldType::Decimal { .. } => ValueType::Decimal,
            FieldType::DateTime => ValueType::DateTime,
            FieldType::Date => ValueType::Date,
            FieldType::Bytes => ValueType::Bytes,
            FieldType::Json => ValueType::Json,
            FieldType::Array(t) => ValueType::Array(Box::new(t.value_type())),
            FieldType::Uuid => ValueType::Uuid,
            FieldType::Enum { .. } => ValueType::Text,
        }
    }

    /// The canonical name used in migration files (`"String"`, `"BigInteger"`, …).
    pub fn canonical_name(&self) -> &'static str {
        match self {
            FieldType::Integer => "Integer",
            FieldType::BigInteger => "BigInteger",
            FieldType::String { .. } => "String",
            FieldType::Text => "Text",
            FieldType::Boolean => "Boolean",
            FieldType::Float => "Float",
            FieldType::Decimal { .. } => "Decimal",
            FieldType::DateTime => "DateTime",
            FieldType::Date => "Date",
            FieldType::Bytes => "Bytes",
            FieldType::Json => "JSON",
            FieldType::Array(_) => "Array",
            FieldType::Uuid => "UUID",
            FieldType::Enum { .. } => "Enum",
        }
    }

    /// True for the text types, on which the LIKE family of lookups is allowed.
    pub fn is_text(&self) -> bool {
        matches!(self, FieldType::String { .. } | FieldType::Text)
    }

    /// The stored values of an `Enum` field, `None` for every other type.
    pub fn enum_values(&self) -> Option<&[String]> {
        match self {
            FieldType::Enum { values, .. } => Some(values),
            _ => None,
        }
    }

    /// The enum type's name of an `Enum` field, `None` for every other type.
    pub fn enum_name(&self) -> Option<&str> {
        match self {
            FieldType::Enum { name, .. } => Some(name),
            _ => None,
        }
    }

    /// True for `DateTime` and `Date`, on which date-part transforms are allowed.
    pub fn is_temporal(&self) -> bool {
        matches!(self, FieldType::DateTime | FieldType::Date)
    }
}
