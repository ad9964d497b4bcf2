//! The dialect rooms: everything that differs between the databases Chakra speaks, one folder
//! per dialect, so a newcomer finds every SQLite (or PostgreSQL) specific in its room and a
//! new backend adds one folder plus the hooks below.
//!
//! - [`names`] — [`Dialect`] and its names (`FromStr`/`name()`), for every door and the CLI.
//! - [`hooks`] — [`SqlHooks`], the small per-dialect hooks the dialect-free compilers call
//!   (standard SQL as the default body), reached with [`Dialect::sql`] (a `&'static` table:
//!   no allocation, one indirect call).
//! - [`migrate`] — [`MigrateHooks`], the migration engine's hooks ([`Dialect::migrate`]),
//!   and the migration lock's dispatch.
//! - [`standard`] — the standard-SQL forms the hooks' defaults write.
//! - [`sqlite`] — SQLite's room: connections, statement runner, setup, value storage, SQL
//!   hooks, type table, catalog, table rebuild.
//! - [`postgres`] — PostgreSQL's room: connections, pooler and cancel support, SQL hooks, type
//!   tables, catalog, migration lock, native enum DDL.
//! - [`mysql`] — MySQL's and MariaDB's room: connections and their strict session, binds and
//!   rows, errors by number, SQL hooks, type table (migrations: a later stage).

pub mod hooks;
pub mod migrate;
pub mod mysql;
pub mod names;
pub mod postgres;
pub mod sqlite;
pub mod standard;

pub use hooks::SqlHooks;
pub use migrate::MigrateHooks;
pub use names::Dialect;
