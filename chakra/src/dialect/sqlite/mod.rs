//! SQLite's room: its connections, statement runner and per-connection setup.
//!
//! - [`conn`] — SQLite connections run inline, waiting for locks asynchronously.
//! - [`run`] — compiled statements run on the SQLite handle (prepared-statement cache,
//!   binds, typed cells).
//! - [`setup`] — per-connection pragmas (durability) and functions.

pub mod conn;
pub mod run;
pub mod setup;
