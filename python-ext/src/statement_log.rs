//! The statement log: every statement the core runs reaches the standard `logging` logger
//! `chakra.sql` (and, emitted with it, the core's replica events: [`crate::core_events`]) (SQL, bind count, rows, duration at DEBUG; a failed statement with its error,
//! also at DEBUG; the bound values at level 5, `chakra.TRACE`).
//!
//! The core's listener ([`chakra::exec::log`]) is called on the runtime thread, which never
//! takes the GIL: it only queues the record. Records are emitted on a Python thread when a
//! job's result is delivered (the event loop's drain, or the end of a synchronous call).
//! The listener is installed only while the logger is enabled for DEBUG: each submitted job
//! checks that in the logger's own level cache (one dict lookup), so with logging off a
//! statement costs the core one atomic load.

use crate::convert::to_py;
use crate::py_logger::{LogQueue, PyLogger};
use chakra::exec::log::{set_listener, StatementRecord};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// `logging.DEBUG`.
const DEBUG: i32 = 10;
/// The level of records carrying bound values (`chakra.TRACE`).
pub const TRACE: i32 = 5;

static QUEUE: LogQueue<StatementRecord> = LogQueue::new();
/// 0: no listener, 1: listener without values, 2: listener with values.
static INSTALLED: AtomicU8 = AtomicU8::new(0);

static LOGGER: PyOnceLock<PyLogger> = PyOnceLock::new();

fn logger(py: Python<'_>) -> PyResult<&PyLogger> {
    PyLogger::get(py, &LOGGER, "chakra.sql")
}

fn enabled_for(py: Python<'_>, l: &PyLogger, level: i32) -> PyResult<bool> {
    if let Some(cache) = &l.cache {
        if let Some(v) = cache.bind(py).get_item(level)? {
            return v.is_truthy();
        }
    }
    l.logger
        .bind(py)
        .call_method1(intern!(py, "isEnabledFor"), (level,))?
        .is_truthy()
}

fn push(r: StatementRecord) {
    QUEUE.push(r, None);
}

/// Installs or removes the core listener to match the logger's level. Called (with the
/// GIL) before each job starts.
pub fn refresh(py: Python<'_>) {
    crate::core_events::refresh(py);
    let want = match logger(py) {
        Ok(l) => match enabled_for(py, l, DEBUG) {
            Ok(false) | Err(_) => 0,
            Ok(true) => 1 + u8::from(enabled_for(py, l, TRACE).unwrap_or(false)),
        },
        Err(_) => 0,
    };
    if INSTALLED.load(Ordering::Relaxed) == want || INSTALLED.swap(want, Ordering::AcqRel) == want {
        return;
    }
    match want {
        0 => set_listener(None, false),
        n => set_listener(Some(Arc::new(push)), n == 2),
    }
}

/// Emits the queued records to `chakra.sql` (with the GIL, on a Python thread). Logging
/// errors are reported by `logging` itself, never raised into the query's caller, except
/// `KeyboardInterrupt`, `SystemExit` and other exceptions that are not `Exception`s: those
/// are returned (the rest of the records dropped), for the caller to raise once the job's
/// result is handled, so an interrupt is never swallowed (and an interrupted transaction
/// rolls back).
pub fn emit(py: Python<'_>) -> PyResult<()> {
    // The core's replica events first (`chakra.replicas`): what happened before the
    // statements' records.
    crate::core_events::emit(py)?;
    QUEUE.drain(py, || logger(py), |l, r| emit_one(py, l, r))
}

fn emit_one(py: Python<'_>, l: &PyLogger, r: StatementRecord) -> PyResult<()> {
    let logger = l.logger.bind(py);
    let extra = PyDict::new(py);
    extra.set_item(intern!(py, "sql"), &r.sql)?;
    extra.set_item(intern!(py, "binds"), r.binds)?;
    extra.set_item(intern!(py, "rows"), r.rows)?;
    extra.set_item(intern!(py, "elapsed_us"), r.elapsed_us)?;
    extra.set_item(intern!(py, "error"), &r.error)?;
    let kw = PyDict::new(py);
    kw.set_item(intern!(py, "extra"), &extra)?;
    let ms = r.elapsed_us as f64 / 1000.0;
    if let Some(error) = &r.error {
        // A failed statement: the same logger and level, with the error.
        logger.call_method(
            intern!(py, "log"),
            (
                DEBUG,
                "%s [%d binds, failed after %.3f ms: %s]",
                &r.sql,
                r.binds,
                ms,
                error,
            ),
            Some(&kw),
        )?;
    } else {
        logger.call_method(
            intern!(py, "log"),
            (
                DEBUG,
                "%s [%d binds, %d rows, %.3f ms]",
                &r.sql,
                r.binds,
                r.rows,
                ms,
            ),
            Some(&kw),
        )?;
    }
    if let Some(params) = r.params {
        let values = params
            .iter()
            .map(|v| to_py::value(py, v))
            .collect::<PyResult<Vec<_>>>()?;
        let values = PyTuple::new(py, values)?;
        extra.set_item(intern!(py, "params"), &values)?;
        logger.call_method(
            intern!(py, "log"),
            (TRACE, "%s params: %r", &r.sql, PyList::new(py, values)?),
            Some(&kw),
        )?;
    }
    Ok(())
}
