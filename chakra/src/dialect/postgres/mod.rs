//! PostgreSQL's room: everything Chakra does differently on PostgreSQL.
//!
//! - [`sql`] — [`Postgres`], its SQL hooks.

pub mod sql;

pub use sql::Postgres;
