//! PostgreSQL's room: everything Chakra does differently on PostgreSQL: its connections, pool
//! setup, cancel requests and pooler support, SQL hooks, type tables, catalog and migrations.
//!
//! - [`binds`] — a compiled statement's values bound as diesel parameters (typed NULLs).
//! - [`cancel`] — cancel requests that reach the server through a pooler too.
//! - [`caps`] — its executor capabilities (cancellable, streamed, pipelined).
//! - [`conn`] — a pooled connection and how a compiled statement runs on it.
//! - [`enum_ddl`] — native enum types as DDL (create, add values, recreate, drop), the type of
//!   every `Enum` field.
//! - [`errors`] — its errors as Chakra's (recognised by message: no SQLSTATE at hand).
//! - [`introspect`] — reading its catalog for drift checks.
//! - [`migrate_ddl`] — its in-place `ALTER FIELD` statements for the migration planner.
//! - [`migrate_lock`] — the migration lock, a session advisory lock.
//! - [`migrate`] — its migration hooks (lock timeouts, statements outside transactions).
//! - [`pool`] — a pool's connection manager (direct or behind a pooler, `statement_timeout`).
//! - [`pooler`] — connections through a transaction pooler (PgBouncer).
//! - [`row`] — rows decoded by each cell's type OID.
//! - [`sql`] — [`Postgres`], its SQL hooks.
//! - [`transaction`] — `BEGIN` per isolation level, the transaction-local statement timeout.
//! - [`types`] — its type table (DDL column types) and `DEFAULT` literals.
//! - [`url`] — its database URLs, checked by the driver's parser.

pub mod binds;
pub mod cancel;
pub mod caps;
pub mod conn;
pub mod enum_ddl;
pub mod errors;
pub mod introspect;
pub mod migrate;
pub mod migrate_ddl;
pub mod migrate_lock;
pub mod pool;
pub mod pooler;
pub mod row;
pub mod sql;
pub mod transaction;
pub mod typed_row;
pub mod types;
pub mod url;

pub use sql::Postgres;
