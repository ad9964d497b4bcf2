//! The executor: pools, connections, transactions, and running compiled statements through
//! diesel-async.
//!
//! - [`pool`] — [`Pool`] (deadpool over diesel-async, PostgreSQL or SQLite).
//! - [`conn`] — [`Conn`], one checked-out connection, and statement execution.
//! - [`transaction`] — [`Transaction`] with savepoints; dropped-while-open safety.
//! - [`caps`](mod@caps) — [`ExecCaps`], what a backend's executor can do (a table per dialect).
//! - [`executor`] — the [`Executor`] trait front doors are generic over.
//! - [`scope`] — [`TxScope`], the transaction a write with model hooks runs in.
//! - [`known_tables`] — the tables a pool's database was seen to hold (asked once).
//! - [`model_names`] — which model and field a table's column belongs to (for errors).
//! - [`log`] — the statement listener (the Python `chakra.sql` logger's source).
//! - [`query`] — the diesel query node binding every value as a parameter.
//! - [`row`] and [`coerce`] — row decoding by runtime type, then by the statement's plan.
//! - [`errors`] — diesel/pool errors → [`chakra_dsl::Error`].
//!
//! What differs per backend lives in its room: [`crate::dialect::sqlite`],
//! [`crate::dialect::postgres`].

pub mod caps;
pub mod coerce;
pub mod conn;
pub mod errors;
pub mod executor;
pub mod fork;
pub mod known_tables;
pub mod log;
pub mod model_names;
pub mod pool;
pub mod query;
pub mod row;
pub mod scope;
pub mod transaction;

pub use crate::dialect::sqlite::setup::{JournalMode, Synchronous};
pub use caps::{caps, ExecCaps};
pub use conn::{Conn, Row};
pub use executor::Executor;
pub use known_tables::KnownTables;
pub use pool::{Pool, PoolOptions, PoolStatus};
pub use row::NamedRows;
pub use scope::TxScope;
pub use transaction::{Isolation, Transaction, TxOptions};
