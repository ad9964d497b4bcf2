//! SQLite's room: everything Chakra does differently on SQLite.
//!
//! - [`values`] — how canonical values are stored (text dates, JSON arrays, 0/1 booleans…).
//! - [`datetime`] — datetimes other programs store, read as the instant they name.
//! - [`json_contains`] — PostgreSQL's `@>` rules for `chakra_json_contains`.
//! - [`introspect`] — reading its catalog for drift checks.
//! - [`migrate`] — its migration hooks (`BEGIN IMMEDIATE`, foreign keys paused).
//! - [`rebuild`] — the table rebuild, for the alterations its `ALTER TABLE` cannot do.
//! - [`types`] — its type table (DDL column types) and `DEFAULT` literals.
//! - [`sql`] — [`Sqlite`], its SQL hooks.

pub mod datetime;
pub mod introspect;
pub mod json_contains;
pub mod migrate;
pub mod rebuild;
pub mod sql;
pub mod types;
pub mod values;

pub use sql::Sqlite;
