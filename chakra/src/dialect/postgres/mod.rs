//! PostgreSQL's room: its connections, pool setup, cancel requests and pooler support.
//!
//! - [`binds`] — a compiled statement's values bound as diesel parameters (typed NULLs).
//! - [`caps`] — its executor capabilities (cancellable, streamed, pipelined).
//! - [`cancel`] — cancel requests that reach the server through a pooler too.
//! - [`conn`] — a pooled connection and how a compiled statement runs on it.
//! - [`errors`] — its errors as Chakra's (recognised by message: no SQLSTATE at hand).
//! - [`pool`] — a pool's connection manager (direct or behind a pooler, `statement_timeout`).
//! - [`pooler`] — connections through a transaction pooler (PgBouncer).
//! - [`row`] — rows decoded by each cell's type OID.
//! - [`transaction`] — `BEGIN` per isolation level, the transaction-local statement timeout.
//! - [`url`] — its database URLs, checked by the driver's parser.

pub mod binds;
pub mod cancel;
pub mod caps;
pub mod conn;
pub mod errors;
pub mod pool;
pub mod pooler;
pub mod row;
pub mod transaction;
pub mod url;
