//! PostgreSQL's room: its connections, pool setup, cancel requests and pooler support.
//!
//! - [`cancel`] — cancel requests that reach the server through a pooler too.
//! - [`conn`] — a pooled connection and how a compiled statement runs on it.
//! - [`pool`] — a pool's connection manager (direct or behind a pooler, `statement_timeout`).
//! - [`pooler`] — connections through a transaction pooler (PgBouncer).

pub mod cancel;
pub mod conn;
pub mod pool;
pub mod pooler;
