//! Migrations: the shared TOML files, the schema state they replay to, the SQL they run, and
//! applying them to a database.
//!
//! - [`operations`] — [`Migration`] and [`Operation`], a parsed migration file.
//! - [`format`] — reading a file (errors name the file and line); [`writer`] — writing the
//!   canonical text; [`values`] — type names and defaults as files write them.
//! - [`checksum`] — the checksum over the canonical content.
//! - [`state`] — [`State`], the schema a list of migrations replays to (or models describe).
//! - [`error`] — [`MigrationError`].

pub mod checksum;
pub mod error;
pub mod format;
pub mod operations;
pub mod state;
pub mod values;
pub mod writer;

pub use checksum::checksum;
pub use error::{MResult, MigrationError};
pub use format::parse_migration;
pub use operations::{
    ConstraintDef, ConstraintKind, Dependency, DialectSql, IndexDef, Migration, Operation,
};
pub use state::{State, TableState};
pub use writer::write_migration;
