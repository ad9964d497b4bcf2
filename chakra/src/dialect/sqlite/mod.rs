//! SQLite's room: everything Chakra does differently on SQLite: its connections, statement
//! runner and per-connection setup, value storage, SQL hooks, type table, catalog and rebuild.
//!
//! - [`binds`] — a compiled statement as a diesel query (diesel's own path).
//! - [`caps`] — its executor capabilities (statements run inline).
//! - [`conn`] — SQLite connections run inline, waiting for locks asynchronously.
//! - [`datetime`] — datetimes other programs store, read as the instant they name.
//! - [`errors`] — its errors as Chakra's (busy timeout, constraint names from messages).
//! - [`introspect`] — reading its catalog for drift checks.
//! - [`library`] — the SQLite library linked: version check, its file, the same copy as another module's or not.
//! - [`json_contains`] — PostgreSQL's `@>` rules for `chakra_json_contains`.
//! - [`migrate`] — its migration hooks (`BEGIN IMMEDIATE`, foreign keys paused).
//! - [`pool`] — a pool's connection manager (file or memory, size, busy timeout, durability).
//! - [`read_datetime`] — timestamp text read back as an instant.
//! - [`rebuild`] — the table rebuild, for the alterations its `ALTER TABLE` cannot do.
//! - [`row_by_row`] — a multi-row INSERT run as its one-row statement once per row.
//! - [`row`] — rows read through diesel, each cell by its storage class.
//! - [`run`] — compiled statements run on the SQLite handle (prepared-statement cache,
//!   binds, typed cells).
//! - [`setup`] — per-connection pragmas (durability) and functions.
//! - [`sql`] — [`Sqlite`], its SQL hooks.
//! - [`transaction`] — `BEGIN IMMEDIATE`.
//! - [`types`] — its type table (DDL column types) and `DEFAULT` literals.
//! - [`url`] — its database URLs (a file, or memory).
//! - [`values`] — how canonical values are stored (text dates, JSON arrays, 0/1 booleans…).

pub mod binds;
pub mod caps;
pub mod conn;
pub mod datetime;
pub mod errors;
pub mod introspect;
pub mod json_contains;
pub mod library;
pub mod migrate;
pub mod pool;
pub mod read_datetime;
pub mod rebuild;
pub mod row;
pub mod row_by_row;
pub mod run;
pub mod setup;
pub mod sql;
pub mod transaction;
pub mod types;
pub mod url;
pub mod values;

pub use sql::Sqlite;
