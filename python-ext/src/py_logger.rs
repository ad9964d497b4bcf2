//! What the extension's two log forwarders share (the statement log, `chakra.sql`, and the
//! core's replica events, `chakra.replicas`): the `logging` logger, looked up once per
//! process, and the queue the runtime threads fill (they never take the GIL) and a Python
//! thread drains.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// A `logging.Logger` and its level cache.
pub struct PyLogger {
    /// The `logging.Logger`.
    pub logger: Py<PyAny>,
    /// `logger._cache`: level → enabled, cleared by `logging` whenever levels change.
    pub cache: Option<Py<PyDict>>,
}

impl PyLogger {
    /// The logger named `name`, looked up on first use and kept in `cell`.
    pub fn get<'a>(
        py: Python<'_>,
        cell: &'a PyOnceLock<PyLogger>,
        name: &str,
    ) -> PyResult<&'a PyLogger> {
        cell.get_or_try_init(py, || {
            let logger = py
                .import(intern!(py, "logging"))?
                .call_method1(intern!(py, "getLogger"), (name,))?;
            let cache = logger
                .getattr(intern!(py, "_cache"))
                .ok()
                .and_then(|c| c.cast_into::<PyDict>().ok())
                .map(|c| c.unbind());
            Ok(PyLogger {
                logger: logger.unbind(),
                cache,
            })
        })
    }
}

/// Records queued on the runtime threads, emitted on a Python thread by [`LogQueue::drain`].
pub struct LogQueue<R> {
    records: Mutex<Vec<R>>,
    queued: AtomicBool,
}

impl<R> LogQueue<R> {
    /// An empty queue (for a `static`).
    pub const fn new() -> Self {
        LogQueue {
            records: Mutex::new(Vec::new()),
            queued: AtomicBool::new(false),
        }
    }

    /// Queues `r`; with `max`, `r` is dropped when that many records already wait.
    pub fn push(&self, r: R, max: Option<usize>) {
        let mut q = crate::pools::lock(&self.records);
        if max.is_none_or(|m| q.len() < m) {
            q.push(r);
            self.queued.store(true, Ordering::Release);
        }
    }

    /// Emits every queued record through `emit_one` (with the GIL, on a Python thread;
    /// `logger` is asked only when a record waits). A logging error that is an `Exception`
    /// is printed and the rest emitted; any other (`KeyboardInterrupt`, `SystemExit`) is
    /// returned at once, the remaining records dropped, so an interrupt is never swallowed.
    pub fn drain<'a>(
        &self,
        py: Python<'_>,
        logger: impl FnOnce() -> PyResult<&'a PyLogger>,
        mut emit_one: impl FnMut(&PyLogger, R) -> PyResult<()>,
    ) -> PyResult<()> {
        if !self.queued.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let records = std::mem::take(&mut *crate::pools::lock(&self.records));
        let Ok(l) = logger() else { return Ok(()) };
        for r in records {
            if let Err(e) = emit_one(l, r) {
                if !e.is_instance_of::<pyo3::exceptions::PyException>(py) {
                    return Err(e);
                }
                e.print(py);
            }
        }
        Ok(())
    }
}
