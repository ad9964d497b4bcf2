//! Chakra ORM runtime.
//!
//! Where to find things:
//! - [`model`] — the [`Model`] trait `#[derive(Model)]` implements: `User::get`, `User::query`,
//!   `save`, `delete`, `insert_many`; the model registry.
//! - [`query`] — [`Query<M>`], the typed query builder (`filter`, `order_by`, `all`, …).
//! - [`session`] — [`Session`] (unit of work), [`Tx`] (transaction closures, savepoints),
//!   [`Tracked`] rows.
//! - [`sql`] — the SQL compilers (IR → dialect SQL + binds).
//! - [`dialect`] — the dialect rooms: [`Dialect`], its hooks, each database's specifics.
//! - [`exec`] — the executor: [`Pool`], [`Transaction`], running statements through
//!   diesel-async, decoding rows.
//! - [`load`] — running `select_related` / `prefetch_related` plans into row trees (the
//!   Python door's); [`load_typed`] — the Rust door's, into structs by the generated readers.
//! - [`schema`] — creating the tables of models (foreign keys, join tables) without migrations.
//! - [`config`] — database URLs and the default-database lookup.
//! - [`cli`] — the `chakra migrate …` command line ([`cli::run`] embeds it in a binary).
//! - [`migrate`] — migrations: the shared TOML files, schema state, DDL, apply/rollback.
//! - The IR, values, model metadata, the typed column layer and the error enum live in
//!   [`chakra_dsl`], re-exported here as [`dsl`].
#![warn(missing_docs)]

extern crate self as chakra;

pub mod cli;
pub mod config;
pub mod databases;
pub mod dialect;
pub mod exec;
pub mod from_row;
pub mod generate;
pub mod load;
pub mod load_typed;
pub mod migrate;
pub mod model;
pub mod query;
pub mod schema;
pub mod session;
pub mod sql;

pub use chakra_dsl as dsl;
pub use chakra_dsl::{Error, Result};
pub use config::{Pooler, SchemaCheck};
pub use databases::{Database, Databases, ReadPolicy, Scope};
pub use exec::{Executor, Isolation, Pool, PoolOptions, Row, Transaction, TxOptions};
pub use from_row::{fetch_as, raw_as, FromRow};
pub use model::Model;
pub use query::{
    bulk_update, exists, explain, in_query, raw, raw_execute, raw_fetch, upsert, Combined, Query,
    UpdateQuery,
};
pub use session::{Added, Session, Tracked, TransactionError, TransactionOptions, Tx};
pub use sql::{compile, CompiledQuery, Dialect};

/// `#[derive(Enum)]`: see [`chakra_codegen::Enum`].
pub use chakra_codegen::Enum;
/// `#[derive(FromRow)]`: see [`chakra_codegen::FromRow`] and [`from_row`].
pub use chakra_codegen::FromRow;
/// `#[derive(Model)]`: see [`chakra_codegen::Model`].
pub use chakra_codegen::Model;

#[doc(hidden)]
pub use inventory;

/// The compile-time checks of models against `schema.rs` (`#[chakra(schema = …)]`), as the
/// derive writes them; with the `skip-schema-check` feature they are left out, so the binary
/// that runs `migrate make` builds while a model is ahead of its migrations.
#[cfg(not(feature = "skip-schema-check"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __schema_check {
    ($($checks:tt)*) => { $($checks)* };
}

/// The compile-time checks of models against `schema.rs`, left out (`skip-schema-check`).
#[cfg(feature = "skip-schema-check")]
#[doc(hidden)]
#[macro_export]
macro_rules! __schema_check {
    ($($checks:tt)*) => {};
}

/// The usual imports: `use chakra::prelude::*;`.
pub mod prelude {
    pub use crate::dsl::typed::{
        avg, cast, coalesce, count, count_all, length, lower, max, min, named, now, sum, upper,
        when, Agg, AggregateSet, Column, Condition, FilterFor, IntoOrdering, Ordering, Related,
        Relation, RelationPath, TypedExpr, ValueFor,
    };
    pub use crate::dsl::OnDelete;
    pub use crate::dsl::{Expr, FieldType, Statement, Value, ValueType};
    pub use crate::model::hooks::{Hooks, ValidationErrors};
    pub use crate::{
        Error, Executor, FromRow, Model, Pool, Query, Result, Session, Tracked, Transaction,
        TransactionError, Tx, UpdateQuery,
    };
}
