//! MySQL's and MariaDB's room (two flavours of one backend): connections and their
//! session, binds and rows, errors by number, SQL hooks and type table.
//!
//! - [`binds`] — a compiled statement's values as the driver's parameters.
//! - [`caps`] — its executor capabilities.
//! - [`conn`] — a connection and how a compiled statement runs on it.
//! - [`errors`] — its errors as Chakra's, recognised by error number.
//! - [`introspect`] — its catalog for drift checks, in the words the drift code compares.
//! - [`migrate`] — its migration hooks (DDL commits: every step recorded as it completes).
//! - [`migrate_ddl`] — the migration planner's statements per operation.
//! - [`migrate_lock`] — the migration lock (`GET_LOCK`, a session lock).
//! - [`pool`] — its pool's manager (session setup, flavour, the check at checkout).
//! - [`returning`] — inserts that return rows on a server without `RETURNING` (MySQL).
//! - [`row`] — rows decoded by each column's type.
//! - [`server`] — the flavour (MySQL or MariaDB) and version detected at connect.
//! - [`setup`] — the strict session every connection gets (`sql_mode`, UTC, utf8mb4).
//! - [`sql`] — [`Mysql`], its SQL hooks.
//! - [`transaction`] — `START TRANSACTION` per isolation level.
//! - [`types`] — its type table (DDL column types) and `DEFAULT` literals.
//! - [`url`] — its database URLs (`mysql://`, `mariadb://`).

pub mod binds;
pub mod caps;
pub mod conn;
pub mod errors;
pub mod introspect;
pub mod migrate;
pub mod migrate_ddl;
pub mod migrate_lock;
pub mod pool;
pub mod returning;
pub mod row;
pub mod server;
pub mod setup;
pub mod sql;
pub mod transaction;
pub mod types;
pub mod url;

pub use sql::Mysql;
