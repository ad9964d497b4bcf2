//! PostgreSQL's room: everything Chakra does differently on PostgreSQL.
//!
//! - [`enum_ddl`] — native enum types as DDL (create, add values, recreate, drop).
//! - [`introspect`] — reading its catalog for drift checks.
//! - [`migrate`] — its migration hooks (lock timeouts, statements outside transactions).
//! - [`migrate_lock`] — the migration lock, a session advisory lock.
//! - [`types`] — its type table (DDL column types) and `DEFAULT` literals.
//! - [`sql`] — [`Postgres`], its SQL hooks.

pub mod enum_ddl;
pub mod introspect;
pub mod migrate;
pub mod migrate_lock;
pub mod sql;
pub mod types;

pub use sql::Postgres;
