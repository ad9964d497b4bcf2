//! Chakra ORM proc-macros: `#[derive(Model)]`, `#[derive(FromRow)]` and `#[derive(Enum)]`.
//!
//! - `attrs`: parsing and checking `#[chakra(...)]` attributes (errors point at the
//!   attribute and say what is allowed).
//! - `expand`: the generated code (metadata, column accessors, row decoding, `Default`).
//! - `from_row`: `#[derive(FromRow)]`, a struct read from a row by column name.
//! - `enum_type`: `#[derive(Enum)]`, a fieldless enum stored as one of its values.

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

mod attrs;
mod enum_type;
mod expand;
mod from_row;
mod schema_file;
mod table_options;

/// Derives `chakra::Model` for a struct with named fields.
///
/// Struct attributes: `#[chakra(table = "users")]` (default: the struct name in
/// snake_case), `#[chakra(no_default)]` (do not generate `Default`).
///
/// Field attributes: `primary_key`, `auto_increment`, `unique`, `index`,
/// `max_length = N`, `precision = P`, `scale = S`, `default = "now()"` or a literal,
/// `column = "name"`; on `Related<…>` fields `relation = OneToMany | ForeignKey | OneToOne |
/// ManyToMany`, `foreign_key = "col"`, `back_populates = "field"`, and for many-to-many
/// `through = "table"`, `source_column = "col"`, `target_column = "col"`. `Option<T>` fields
/// are nullable.
#[proc_macro_derive(Model, attributes(chakra))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match attrs::parse_model(&input).and_then(|m| expand::expand(&input, &m)) {
        Ok(ts) => ts.into(),
        Err(e) => e.into_compile_error().into(),
    }
}

/// Derives `chakra::FromRow` for a struct with named fields: each field reads the result
/// column of its name (or `#[chakra(column = "name")]`), so raw SQL (`chakra::raw_as`) and
/// selections (`chakra::fetch_as`) fill any struct. Field types are those a model field may
/// have; a missing or mistyped column is a `Decode` error naming the struct and field.
#[proc_macro_derive(FromRow, attributes(chakra))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match from_row::expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.into_compile_error().into(),
    }
}

/// Derives a field type for a fieldless enum, stored as text (canonical type `Enum`): use
/// it as a model field (`status: Status`, `Option<Status>`), in filters
/// (`Ticket::status().eq(Status::Open)`, `.is_in([...])`) and in `FromRow` structs.
///
/// `#[chakra(name = "ticket_status")]` on the enum names it in migrations (default: snake
/// case of the enum name); `#[chakra(value = "on hold")]` on a variant sets its stored text
/// (default: snake case of the variant name). Generates `ENUM_NAME`, `VALUES`, `as_str()`
/// and `from_stored()`; a stored value no variant has is a `Decode` error naming the model,
/// the field and the value.
#[proc_macro_derive(Enum, attributes(chakra))]
pub fn derive_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match enum_type::expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.into_compile_error().into(),
    }
}
