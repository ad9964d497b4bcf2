//! Chakra ORM runtime.
//!
//! Where to find things:
//! - [`sql`] — the SQL compilers (IR → dialect SQL + binds).
//! - [`exec`] — the executor: [`Pool`], [`Transaction`], running statements through
//!   diesel-async, decoding rows.
//! - [`config`] — database URLs and the default-database lookup.
//! - The IR, values, model metadata and the error enum live in [`chakra_dsl`], re-exported
//!   here as [`dsl`].

pub mod config;
pub mod exec;
pub mod sql;

pub use chakra_dsl as dsl;
pub use chakra_dsl::{Error, Result};
pub use exec::{Executor, Pool, PoolOptions, Row, Transaction};
pub use sql::{compile, CompiledQuery, Dialect};

/// The usual imports.
pub mod prelude {
    pub use crate::dsl::{Expr, FieldType, Statement, Value, ValueType};
    pub use crate::{Error, Executor, Pool, Result, Transaction};
}
