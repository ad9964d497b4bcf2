//! The names of field types, relation kinds and concurrency modes, parsed in one place: a
//! paired `FromStr` / `name()` on the enum that owns each, used by the migration reader and
//! writer and by the Python door. An unknown name is a `Config` error naming it and listing
//! the accepted ones.

use crate::meta::{Concurrency, RelationKind};
use crate::types::FieldType;
use crate::Error;
use std::str::FromStr;

/// The field type names (one per [`FieldType`] variant), as migration files and the Python
/// door write them; an array is written `Array(<type>)`.
pub const FIELD_TYPE_NAMES: [&str; 14] = [
    "Integer",
    "BigInteger",
    "String",
    "Text",
    "Boolean",
    "Float",
    "Decimal",
    "DateTime",
    "Date",
    "Bytes",
    "JSON",
    "UUID",
    "Enum",
    "Array",
];

/// The accepted field type names, comma-separated, the array written `Array(<type>)` (for
/// error messages).
pub fn field_type_names() -> String {
    FIELD_TYPE_NAMES
        .iter()
        .map(|n| if *n == "Array" { "Array(<type>)" } else { n })
        .collect::<Vec<_>>()
        .join(", ")
}

impl FieldType {
    /// The type as it is named (`BigInteger`, `String`, `Array(Integer)`): [`FromStr`] reads
    /// it back (without the type's parameters: length, precision and scale, enum values).
    pub fn name(&self) -> String {
        match self {
            FieldType::Array(inner) => format!("Array({})", inner.name()),
            other => other.canonical_name().to_owned(),
        }
    }
}

impl FromStr for FieldType {
    type Err = Error;

    /// A type by name (`Array(<type>)` for an array; surrounding blanks ignored, case
    /// significant). Parameters are left for the caller to fill: no `max_length`, precision
    /// or scale; an `Enum` with no name and no values.
    fn from_str(s: &str) -> Result<Self, Error> {
        let name = s.trim();
        if let Some(inner) = name
            .strip_prefix("Array(")
            .and_then(|r| r.strip_suffix(')'))
        {
            return Ok(FieldType::Array(Box::new(
                inner
                    .parse()
                    .map_err(|_| unknown("field type", s, &field_type_names()))?,
            )));
        }
        Ok(match name {
            "Integer" => FieldType::Integer,
            "BigInteger" => FieldType::BigInteger,
            "String" => FieldType::String { max_length: None },
            "Text" => FieldType::Text,
            "Boolean" => FieldType::Boolean,
            "Float" => FieldType::Float,
            "Decimal" => FieldType::Decimal {
                precision: None,
                scale: None,
            },
            "DateTime" => FieldType::DateTime,
            "Date" => FieldType::Date,
            "Bytes" => FieldType::Bytes,
            "JSON" => FieldType::Json,
            "UUID" => FieldType::Uuid,
            "Enum" => FieldType::Enum {
                name: String::new(),
                values: Vec::new(),
            },
            _ => return Err(unknown("field type", s, &field_type_names())),
        })
    }
}

/// The relation kinds a front door declares, by name.
pub const RELATION_KIND_NAMES: [&str; 4] = ["ForeignKey", "OneToOne", "OneToMany", "ManyToMany"];

impl RelationKind {
    /// The kind's name (`ForeignKey`, `OneToOne`, `OneToMany`, `ManyToMany`;
    /// `ReverseOneToOne`, which is derived and never declared).
    pub fn name(&self) -> &'static str {
        match self {
            RelationKind::ForeignKey => "ForeignKey",
            RelationKind::OneToOne => "OneToOne",
            RelationKind::ReverseOneToOne => "ReverseOneToOne",
            RelationKind::OneToMany => "OneToMany",
            RelationKind::ManyToMany { .. } => "ManyToMany",
        }
    }
}

impl FromStr for RelationKind {
    type Err = Error;

    /// A declared kind by name ([`RELATION_KIND_NAMES`], case significant). A
    /// `ManyToMany`'s join table and columns are left empty for the caller to fill.
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.trim() {
            "ForeignKey" => RelationKind::ForeignKey,
            "OneToOne" => RelationKind::OneToOne,
            "OneToMany" => RelationKind::OneToMany,
            "ManyToMany" => RelationKind::ManyToMany {
                through: String::new(),
                source_column: String::new(),
                target_column: String::new(),
            },
            _ => return Err(unknown("relation kind", s, &RELATION_KIND_NAMES.join(", "))),
        })
    }
}

/// The concurrency modes, by name.
pub const CONCURRENCY_NAMES: [&str; 3] = ["compare", "version", "unchecked"];

impl Concurrency {
    /// The mode's name (`compare`, `version`, `unchecked`).
    pub fn name(self) -> &'static str {
        match self {
            Concurrency::Compare => "compare",
            Concurrency::Version => "version",
            Concurrency::Unchecked => "unchecked",
        }
    }
}

impl FromStr for Concurrency {
    type Err = Error;

    /// A mode by name ([`CONCURRENCY_NAMES`]).
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.trim() {
            "compare" => Concurrency::Compare,
            "version" => Concurrency::Version,
            "unchecked" => Concurrency::Unchecked,
            _ => return Err(unknown("concurrency", s, &CONCURRENCY_NAMES.join(", "))),
        })
    }
}

fn unknown(what: &str, s: &str, accepted: &str) -> Error {
    Error::Config(format!("unknown {what} {s:?}; expected one of {accepted}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for n in FIELD_TYPE_NAMES.iter().filter(|n| **n != "Array") {
            let t: FieldType = n.parse().unwrap();
            assert_eq!(t.name(), *n);
            assert_eq!(t.canonical_name(), *n);
            let a: FieldType = format!("Array({n})").parse().unwrap();
            assert_eq!(a, FieldType::Array(Box::new(t.clone())));
            assert_eq!(a.name().parse::<FieldType>().unwrap(), a);
        }
        let nested: FieldType = "Array(Array(Text))".parse().unwrap();
        assert_eq!(nested.name(), "Array(Array(Text))");
        for n in RELATION_KIND_NAMES {
            assert_eq!(n.parse::<RelationKind>().unwrap().name(), n);
        }
        for n in CONCURRENCY_NAMES {
            assert_eq!(n.parse::<Concurrency>().unwrap().name(), n);
        }
        for c in [
            Concurrency::Compare,
            Concurrency::Version,
            Concurrency::Unchecked,
        ] {
            assert_eq!(c.name().parse::<Concurrency>().unwrap(), c);
        }
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        for bad in ["Varchar", "Array", "Array(Nope)", "integer", ""] {
            let e = bad.parse::<FieldType>().unwrap_err().to_string();
            assert!(e.contains(&format!("unknown field type {bad:?}")), "{e}");
            assert!(
                e.contains(
                    "expected one of Integer, BigInteger, String, Text, Boolean, Float, \
                     Decimal, DateTime, Date, Bytes, JSON, UUID, Enum, Array(<type>)"
                ),
                "{e}"
            );
        }
        let e = "ReverseOneToOne".parse::<RelationKind>().unwrap_err();
        assert!(
            e.to_string().contains(
                "unknown relation kind \"ReverseOneToOne\"; expected one of ForeignKey, \
                 OneToOne, OneToMany, ManyToMany"
            ),
            "{e}"
        );
        let e = "optimistic".parse::<Concurrency>().unwrap_err();
        assert!(
            e.to_string().contains(
                "unknown concurrency \"optimistic\"; expected one of compare, version, \
                 unchecked"
            ),
            "{e}"
        );
    }
}
