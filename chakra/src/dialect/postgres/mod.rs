//! PostgreSQL's room: its connections, pool setup, cancel requests and pooler support.
//!
//! - [`cancel`] — cancel requests that reach the server through a pooler too.
//! - [`pooler`] — connections through a transaction pooler (PgBouncer).

pub mod cancel;
pub mod pooler;
