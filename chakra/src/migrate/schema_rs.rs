//! `schema.rs` from the migrations alone (no database): one module per table, one type alias
//! per column naming the Rust type that holds it (`Option<T>` when nullable). A model can then
//! be checked against the migrated table at compile time: a field whose name is not a column
//! fails to resolve (`schema::users::emial`), one whose type differs fails to unify.

use super::state::State;
use chakra_dsl::{FieldMeta, FieldType};
use std::fmt::Write;

/// The Rust type a column of this type is read into (paths absolute, as models write them).
pub fn rust_type(ty: &FieldType) -> String {
    match ty {
        FieldType::Integer => "i32".into(),
        FieldType::BigInteger => "i64".into(),
        FieldType::String { .. } | FieldType::Text | FieldType::Enum { .. } => {
            "::std::string::String".into()
        }
        FieldType::Boolean => "bool".into(),
        FieldType::Float => "f64".into(),
        FieldType::Decimal { .. } => "::bigdecimal::BigDecimal".into(),
        FieldType::DateTime => "::chrono::DateTime<::chrono::Utc>".into(),
        FieldType::Date => "::chrono::NaiveDate".into(),
        FieldType::Bytes => "::std::vec::Vec<u8>".into(),
        FieldType::Json => "::serde_json::Value".into(),
        FieldType::Uuid => "::uuid::Uuid".into(),
        FieldType::Array(inner) => format!("::std::vec::Vec<{}>", rust_type(inner)),
    }
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// A Rust identifier for a table or column name (`type` → `r#type`; other characters → `_`).
pub fn rust_ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    match s.as_str() {
        "self" | "Self" | "super" | "crate" | "_" => format!("{s}_"),
        k if KEYWORDS.contains(&k) => format!("r#{s}"),
        _ => s,
    }
}

fn describe(f: &FieldMeta) -> String {
    let mut parts = vec![f.ty.name()];
    match &f.ty {
        FieldType::String {
            max_length: Some(n),
        } => parts[0] = format!("String({n})"),
        FieldType::Decimal {
            precision: Some(p),
            scale,
        } => parts[0] = format!("Decimal({p}, {})", scale.unwrap_or(0)),
        _ => {}
    }
    for (on, word) in [
        (f.primary_key, "primary key"),
        (f.auto_increment, "auto-increment"),
        (f.unique, "unique"),
        (f.index, "indexed"),
        (f.nullable, "nullable"),
        (f.default.is_some(), "has a default"),
    ] {
        if on {
            parts.push(word.into());
        }
    }
    if let Some(r) = &f.references {
        parts.push(format!("references {}.{}", r.table, r.column));
    }
    parts.join(", ")
}

/// Rust names for `names` (table or column names), unique among themselves: a name that is
/// already an identifier keeps it; one that had to change (`a-b c` → `a_b_c`) and collides
/// with another gets the first free `_2`, `_3`… suffix. Returns the names and a note for each
/// name that is not what a reader would guess.
pub fn unique_idents<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, Option<String>)> {
    let names: Vec<&str> = names.into_iter().collect();
    let plain: Vec<String> = names.iter().map(|n| rust_ident(n)).collect();
    let bare = |i: &str| i.strip_prefix("r#").unwrap_or(i).to_owned();
    // Exact names first: `a_b_c` the column keeps `a_b_c`.
    let mut taken: std::collections::BTreeSet<String> = names
        .iter()
        .zip(&plain)
        .filter(|(n, i)| bare(i) == **n)
        .map(|(_, i)| bare(i))
        .collect();
    let mut out = Vec::with_capacity(names.len());
    for (n, ident) in names.iter().zip(&plain) {
        if bare(ident) == *n {
            out.push((ident.clone(), None));
            continue;
        }
        let mut candidate = ident.clone();
        let mut k = 2;
        while taken.contains(&bare(&candidate)) {
            candidate = rust_ident(&format!("{}_{k}", bare(ident)));
            k += 1;
        }
        taken.insert(bare(&candidate));
        let note = (candidate != *ident).then(|| {
            let others: Vec<&str> = names
                .iter()
                .zip(&plain)
                .filter(|(o, i)| **o != *n && bare(i) == bare(ident))
                .map(|(o, _)| *o)
                .collect();
            format!(
                "`{n}` is `{candidate}` in schema.rs: `{}` is also the name of {}",
                bare(ident),
                others
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        out.push((candidate, note));
    }
    out
}

/// The text of `schema.rs` for a state.
pub fn schema_rs(state: &State) -> String {
    schema_rs_with_notes(state).0
}

/// The text of `schema.rs` for a state, and a note for each table or column whose Rust name
/// had to be made unique (two names that read the same once made identifiers, such as
/// columns `a-b c` and `a_b_c`, get distinct names instead of a duplicate definition).
pub fn schema_rs_with_notes(state: &State) -> (String, Vec<String>) {
    let mut w = String::new();
    let mut notes = Vec::new();
    w.push_str(
        "//! The schema the migrations build, one module per table and one type per column.\n\
         //! @generated by `chakra migrate schema` from the migrations alone: do not edit.\n\
         #![allow(non_camel_case_types, dead_code)]\n",
    );
    let tables: Vec<_> = state.tables.values().collect();
    let modules = unique_idents(tables.iter().map(|t| t.table.as_str()));
    for (t, (module, note)) in tables.iter().zip(modules) {
        if let Some(n) = note {
            notes.push(format!("table {n}"));
        }
        let _ = write!(
            w,
            "\n/// Table `{}` (model `{}`).\npub mod {} {{\n    /// The table's name.\n    pub const TABLE: &str = {:?};\n",
            t.table,
            t.name,
            module,
            t.table
        );
        let idents = unique_idents(t.fields.iter().map(|f| f.column.as_str()));
        for (f, (ident, note)) in t.fields.iter().zip(idents) {
            if let Some(n) = note {
                notes.push(format!("{}: column {n}", t.table));
            }
            let ty = rust_type(&f.ty);
            let ty = if f.nullable {
                format!("::std::option::Option<{ty}>")
            } else {
                ty
            };
            let _ = write!(
                w,
                "    /// `{}`: {}.\n    pub type {} = {ty};\n",
                f.column,
                describe(f),
                ident
            );
        }
        w.push_str("}\n");
    }
    (w, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::format::parse_migration;

    #[test]
    fn the_seed_schema() {
        let seed = include_str!("../../../migrations/users/0001_initial.toml");
        let state = State::replay([&parse_migration(seed, "seed").unwrap()]).unwrap();
        let text = schema_rs(&state);
        assert!(text.contains("pub mod users {\n    /// The table's name.\n    pub const TABLE: &str = \"users\";\n"), "{text}");
        assert!(
            text.contains(
                "    /// `id`: BigInteger, primary key, auto-increment.\n    pub type id = i64;\n"
            ),
            "{text}"
        );
        assert!(text.contains("    /// `username`: String(50), unique.\n    pub type username = ::std::string::String;\n"), "{text}");
    }

    #[test]
    fn identifiers_and_types() {
        assert_eq!(rust_ident("type"), "r#type");
        assert_eq!(rust_ident("2fa code"), "_2fa_code");
        assert_eq!(rust_ident("self"), "self_");
        assert_eq!(
            rust_type(&FieldType::Array(Box::new(FieldType::Uuid))),
            "::std::vec::Vec<::uuid::Uuid>"
        );
    }
}
