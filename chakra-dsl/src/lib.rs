//! `chakra-dsl`: everything about a query that involves no I/O.
//!
//! Where to find things:
//! - [`types`] — the canonical field types shared by Rust, Python and the migration TOML.
//! - [`names`] — field type, relation kind and concurrency names: one `FromStr`/`name()` each.
//! - [`value`] — [`Value`], one runtime value of a canonical type (what gets bound and decoded).
//! - [`meta`] — [`ModelMeta`] / [`FieldMeta`] / [`RelationMeta`], the one description of a model.
//! - [`ir`] — the query IR ([`Expr`], [`Select`], [`Insert`], [`Update`], [`Delete`]).
//! - [`lookup`] — the `field__lookup` parser (Python kwargs and the Rust string form) and Q trees.
//! - [`relations`] — relations resolved against the registered models: links, join tables,
//!   `EXISTS` filters across relations, lookup paths.
//! - [`load_plan`] — `select_related` / `prefetch_related` resolved into statements.
//! - [`model_query`] — [`ModelQuery`], queries over one model lowered to the IR.
//! - [`typed`] — the typed layer of the Rust front door ([`typed::Column`], typed expressions).
//! - [`ident`] — identifier validation.
//! - [`contract`] — the type contract every stored value meets (decimal precision and scale,
//!   finite floats, lengths), checked before any SQL.
//! - [`error`] — the one error enum both front doors and the executor report through.
#![warn(missing_docs)]

pub mod aggregate;
pub mod annotate;
pub mod chunks;
pub mod contract;
pub mod deferred;
pub mod error;
pub mod functions;
pub mod ident;
pub mod ir;
pub mod limits;
pub mod load_plan;
pub mod lookup;
pub mod meta;
pub mod model_query;
pub mod names;
pub mod relations;
pub mod subquery;
pub mod table_options;
pub mod tracked;
pub mod typed;
pub mod types;
pub mod value;

pub use error::{Error, Failure, Result, Violation};
pub use ir::*;
pub use load_plan::{LoadPlan, LoadSpec, PrefetchSpec};
pub use meta::{
    Concurrency, DefaultValue, FieldMeta, ForeignKeyRef, ModelMeta, OnDelete, RelationKind,
    RelationMeta,
};
pub use model_query::{
    bulk_update_rows, check_value, field_expr, insert_field_rows, insert_rows, pk_filter,
    pk_filter_values, upsert_rows, ModelQuery,
};
pub use types::{FieldType, ValueType};
pub use value::{ArrayValue, Value};
