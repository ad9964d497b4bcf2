//! `chakra._chakra`: the Python front door's native half. Python describes models and
//! calls in here; lookups, SQL, execution and hydration are the Rust core's.
//!
//! Where to find things:
//! - [`runtime`]: the one tokio runtime thread, shut down from `atexit`.
//! - [`bridge`]: asyncio futures resolved from the runtime, two thread hops per query.
//! - [`job`]: a unit of work: an op run on the runtime, and its conversion to Python.
//! - [`pools`]: pools by URL. [`session`]: transactions for `Session`.
//! - [`model`]: a registered model ([`model::ModelInfo`], [`model::ModelHandle`]);
//!   [`model_specs`]: registration (Python's field/relation specs → metadata);
//!   [`model_jobs`]: the handle's job builders. [`query`]: `QuerySet` state.
//! - [`registry`]: the registered models by name (relations resolve against it).
//!   [`schema`]: tables from metadata. [`hydrate`]: row trees (eager loads) → instances.
//!   [`links`]: many-to-many add/remove/clear/set. [`statement_log`]: the `chakra.sql`
//!   logger. [`migrate`]: `chakra migrate …` (the Rust CLI) with the Python models.
//! - [`filters`]: `Q` / `F` / `field__lookup=value` → the shared lookup parser.
//! - [`flush_order`]: the order a session flush writes rows in, the core's.
//! - [`convert`]: values ↔ Python objects. [`errors`]: the error enum → `chakra.errors`.

mod annotations;
mod bridge;
mod chunks;
mod convert;
mod core_events;
mod databases;
mod errors;
mod filters;
mod flush_order;
mod hydrate;
mod job;
mod links;
mod migrate;
mod model;
mod model_jobs;
mod model_options;
mod model_specs;
mod pools;
mod py_logger;
mod query;
mod raw;
mod read_ahead;
mod registry;
mod runtime;
mod schema;
mod session;
mod sqlite_copy;
mod statement_log;

use pyo3::prelude::*;

/// Stops the runtime thread and closes every pool (registered with `atexit` by
/// `chakra/__init__.py`, so it runs before the interpreter finalizes).
#[pyfunction]
fn shutdown(py: Python<'_>) {
    py.detach(runtime::shutdown);
}

/// The Rust extension module.
#[pymodule]
fn _chakra(m: &Bound<'_, PyModule>) -> PyResult<()> {
    core_events::install();
    m.add_class::<bridge::Completer>()?;
    m.add_class::<job::Job>()?;
    m.add_class::<pools::PoolRef>()?;
    m.add_class::<pools::WalMarkRef>()?;
    m.add_function(wrap_pyfunction!(databases::configure_databases, m)?)?;
    m.add_function(wrap_pyfunction!(databases::reset_databases, m)?)?;
    m.add_function(wrap_pyfunction!(databases::database_names, m)?)?;
    m.add_function(wrap_pyfunction!(databases::database_url, m)?)?;
    m.add_function(wrap_pyfunction!(databases::database_pool, m)?)?;
    m.add_function(wrap_pyfunction!(databases::database_models, m)?)?;
    m.add_class::<session::TxHandle>()?;
    m.add_class::<model::ModelHandle>()?;
    m.add_class::<query::Query>()?;
    m.add_class::<chunks::ChunkCursor>()?;
    m.add_function(wrap_pyfunction!(model_specs::register_model, m)?)?;
    m.add_function(wrap_pyfunction!(model_jobs::tracked_updates_job, m)?)?;
    m.add_function(wrap_pyfunction!(flush_order::flush_order, m)?)?;
    m.add_function(wrap_pyfunction!(migrate::migrate_main, m)?)?;
    m.add_function(wrap_pyfunction!(migrate::generate_models, m)?)?;
    m.add_function(wrap_pyfunction!(migrate::check_schema, m)?)?;
    m.add_function(wrap_pyfunction!(migrate::register_model_layer, m)?)?;
    m.add_function(wrap_pyfunction!(schema::create_tables_job, m)?)?;
    m.add_function(wrap_pyfunction!(schema::drop_tables_job, m)?)?;
    m.add_function(wrap_pyfunction!(schema::create_table_sql, m)?)?;
    m.add("TRACE", statement_log::TRACE)?;
    m.add_function(wrap_pyfunction!(pools::default_url, m)?)?;
    m.add_function(wrap_pyfunction!(pools::fork_prepare, m)?)?;
    m.add_function(wrap_pyfunction!(pools::fork_parent, m)?)?;
    m.add_function(wrap_pyfunction!(pools::fork_child, m)?)?;
    m.add_function(wrap_pyfunction!(pools::check_url, m)?)?;
    m.add_function(wrap_pyfunction!(sqlite_copy::sqlite_info, m)?)?;
    m.add_function(wrap_pyfunction!(job::noop_job, m)?)?;
    m.add_function(wrap_pyfunction!(job::batch_job, m)?)?;
    m.add_function(wrap_pyfunction!(raw::raw_job, m)?)?;
    m.add_function(wrap_pyfunction!(raw::execute_job, m)?)?;
    m.add_function(wrap_pyfunction!(raw::fetch_job, m)?)?;
    m.add_function(wrap_pyfunction!(shutdown, m)?)?;
    Ok(())
}
