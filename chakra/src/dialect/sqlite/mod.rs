//! SQLite's room: its connections, statement runner and per-connection setup.
//!
//! - [`binds`] — a compiled statement as a diesel query (diesel's own path).
//! - [`caps`] — its executor capabilities (statements run inline).
//! - [`conn`] — SQLite connections run inline, waiting for locks asynchronously.
//! - [`errors`] — its errors as Chakra's (busy timeout, constraint names from messages).
//! - [`pool`] — a pool's connection manager (file or memory, size, busy timeout, durability).
//! - [`row_by_row`] — a multi-row INSERT run as its one-row statement once per row.
//! - [`read_datetime`] — timestamp text read back as an instant.
//! - [`row`] — rows read through diesel, each cell by its storage class.
//! - [`run`] — compiled statements run on the SQLite handle (prepared-statement cache,
//!   binds, typed cells).
//! - [`setup`] — per-connection pragmas (durability) and functions.
//! - [`transaction`] — `BEGIN IMMEDIATE`.
//! - [`url`] — its database URLs (a file, or memory).

pub mod binds;
pub mod caps;
pub mod conn;
pub mod errors;
pub mod pool;
pub mod read_datetime;
pub mod row;
pub mod row_by_row;
pub mod run;
pub mod setup;
pub mod transaction;
pub mod url;
