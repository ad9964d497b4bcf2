//! Migrations: the shared TOML files, the schema state they replay to, the SQL they run, and
//! applying them to a database.
//!
//! - [`operations`] — [`Migration`] and [`Operation`], a parsed migration file.
//! - [`format`](mod@format) — reading a file (errors name the file and line); [`writer`] — writing the
//!   canonical text; [`values`] — type names and defaults as files write them.
//! - [`checksum`](mod@checksum) — the checksum over the canonical content; [`check_sql`] —
//!   raw-SQL check constraints refused unless they are one balanced expression.
//! - [`state`] — [`State`], the schema a list of migrations replays to (or models describe).
//! - [`ddl`] — operations → SQL per dialect, forward and backward ([`Plan`]);
//!   [`table_sql`] — CREATE TABLE/INDEX pieces and the names of implied constraints;
//!   [`rebuild`](crate::dialect::sqlite::rebuild) (in `dialect/sqlite/`) — the SQLite table rebuild.
//! - [`loader`] — reading `migrations/<app>/<NNNN>_<name>.toml`; [`graph`] — dependency
//!   order, one leaf per app, `--to` targets.
//! - [`plan`] — what `apply`/`rollback`/`status` do, from the files and the history (pure);
//!   [`history`] — the `chakra_migrations` table and the lock; [`locks`] — the tables a
//!   step locks and who holds them (PostgreSQL `lock_timeout` errors); [`apply`] — [`Migrator`], the
//!   only part that talks to a database.
//! - [`inspect`] — `migrate inspect`: an existing database as its initial migrations;
//!   [`apply::fake_initial`] — `apply --fake-initial`: those recorded without running them,
//!   once the database matches.
//! - [`autodetect`] — the operations between two states (migrations vs models), in an order
//!   that applies; renames only when confirmed. [`make`](mod@make) — the next migration files.
//! - [`data_checks`] — type changes checked against the rows before they run.
//! - [`lint`] — operations that lose data, fail on rows or lock a big table (codes).
//! - [`schema_rs`] — `schema.rs` (one type per column) from the migrations alone.
//! - [`drift`] — differences between the migrated schema and the database's;
//!   [`introspect`] — reading the database's schema.
//! - [`enum_ddl`](crate::dialect::postgres::enum_ddl) (in `dialect/postgres/`) — PostgreSQL
//!   native enum types as DDL (create, add values in place, recreate when values go).
//! - [`enum_types`] — the enum types a schema declares, one list of values per name, and the
//!   native type statements (PostgreSQL) planned around each operation.
//! - [`error`] — [`MigrationError`].

pub mod apply;
pub mod autodetect;
pub mod check_sql;
pub mod checksum;
pub mod conditions;
pub mod data_checks;
pub mod ddl;
pub mod definitions;
pub mod drift;
pub mod enum_types;
pub mod error;
pub mod format;
pub mod graph;
pub mod history;
pub mod inspect;
pub mod introspect;
pub mod lint;
pub mod loader;
pub mod locks;
pub mod make;
pub mod operations;
pub mod plan;
pub mod schema_rs;
pub mod state;
pub mod table_sql;
mod toml_reader;
pub mod values;
pub mod writer;

pub use apply::fake_initial::{presence, Presence};
pub use apply::Migrator;
pub use autodetect::{diff, rename_candidates, DiffOptions, RenameCandidate, Renames};
pub use checksum::checksum;
pub use ddl::{migration_backward, migration_forward, Plan};
pub use error::{MResult, MigrationError};
pub use format::parse_migration;
pub use graph::Graph;
pub use loader::{load_dir, LoadedMigration};
pub use make::{make, merge, MakeOptions, NewMigration};
pub use operations::{
    ConstraintDef, ConstraintKind, Dependency, DialectSql, IndexDef, Migration, Operation,
};
pub use plan::{Direction, RollbackTarget, Status, StatusEntry, Step};
pub use state::{State, TableState};
pub use writer::write_migration;
