//! `chakra migrate inspect`: an existing database turned into its initial migration files.
//!
//! - [`catalog`] — what a room's catalog reader hands over ([`Catalog`]);
//!   [`read`] — reading it (the I/O, through `dialect/<d>/introspect.rs`).
//! - [`convert`] — the catalog as a migration [`State`](crate::migrate::State), RunSQL
//!   operations and the named list of what is left out (pure); [`defaults`] — defaults read
//!   back exactly; [`predicates`] — enum-like CHECKs, partial-index conditions and index
//!   expressions in the format's words.
//! - [`verify`] — the state checked against the database as `check` will (indexes whose
//!   format words come out otherwise kept as RunSQL); [`files`] — the files, written by
//!   `make`'s planner and writer.

pub mod catalog;
pub mod convert;
pub mod defaults;
pub mod files;
pub mod predicates;
pub mod read;
pub mod verify;

pub use catalog::{
    Catalog, CatalogCheck, CatalogColumn, CatalogForeignKey, CatalogIndex, CatalogKey,
    CatalogTable, IndexKey,
};
pub use convert::{to_state, Inspected, LeftOut};
pub use files::initial_files;
pub use read::read_catalog;

#[cfg(test)]
mod tests;
