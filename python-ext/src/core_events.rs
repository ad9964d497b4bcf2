//! The core's replica decisions (`tracing` target `chakra::replicas`: a replica down and
//! skipped, lagging, usable again, a read on the primary because no replica could serve it)
//! reach the standard `logging` logger `chakra.replicas`, levels mapped (`ERROR` → 40,
//! `WARN` → 30, `INFO` → 20, `DEBUG` → 10, `TRACE` → 5, `chakra.TRACE`), each field of the
//! event as an attribute of the record (`replica`, `error`, `lag_ms`, …; one named like a
//! `LogRecord` attribute gets a `chakra_` prefix) and after the message.
//!
//! A minimal `tracing` subscriber of this module's own (process-wide, installed when the
//! module loads) takes events of that target only: every other call site of the core is
//! disabled once, at its first use, and costs nothing after. Events happen on the runtime
//! threads, which never take the GIL: they are queued, and emitted on a Python thread with
//! the statement log's records ([`crate::statement_log::emit`]). Which levels are taken
//! follows the logger's level, read before each job ([`refresh`]: one lookup in the
//! logger's level cache, as the statement log does).

use crate::py_logger::{LogQueue, PyLogger};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicI32, Ordering};
use tracing::field::{Field, Visit};
use tracing::span;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata};

/// The target forwarded, and the logger it goes to.
const TARGET: &str = "chakra::replicas";
const LOGGER: &str = "chakra.replicas";

/// The lowest `logging` level the logger is enabled for (above every level: none).
static THRESHOLD: AtomicI32 = AtomicI32::new(i32::MAX);
static QUEUE: LogQueue<Record> = LogQueue::new();
/// Stop queueing past this many records not yet emitted (no Python call for a long time).
const MAX_QUEUED: usize = 10_000;

/// One event, as queued.
struct Record {
    level: i32,
    message: String,
    fields: Vec<(&'static str, String)>,
}

/// The `logging` level of a `tracing` level.
fn py_level(l: &Level) -> i32 {
    match *l {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => crate::statement_log::TRACE,
    }
}

fn forwarded(m: &Metadata<'_>) -> bool {
    m.is_event() && m.target().starts_with(TARGET)
}

struct Forward;

impl tracing::Subscriber for Forward {
    fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
        if forwarded(m) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        forwarded(m) && py_level(m.level()) >= THRESHOLD.load(Ordering::Relaxed)
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut r = Record {
            level: py_level(e.metadata().level()),
            message: String::new(),
            fields: Vec::new(),
        };
        e.record(&mut r);
        QUEUE.push(r, Some(MAX_QUEUED));
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

impl Visit for Record {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

impl Record {
    fn put(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.fields.push((field.name(), value));
        }
    }
}

/// Installs the subscriber (once per process; a subscriber already installed stays).
pub fn install() {
    let _ = tracing::subscriber::set_global_default(Forward);
}

static PY_LOGGER: PyOnceLock<PyLogger> = PyOnceLock::new();

fn logger(py: Python<'_>) -> PyResult<&PyLogger> {
    PyLogger::get(py, &PY_LOGGER, LOGGER)
}

/// Follows the logger's level (with the GIL, before each job). While the logger's level
/// cache still holds the lowest level's answer, one dict lookup; after a level change
/// (`logging` clears the cache), the levels are asked again.
pub fn refresh(py: Python<'_>) {
    let Ok(l) = logger(py) else { return };
    let trace = crate::statement_log::TRACE;
    if let Some(cache) = &l.cache {
        if matches!(cache.bind(py).get_item(trace), Ok(Some(_))) {
            return;
        }
    }
    let logger = l.logger.bind(py);
    let mut lowest = i32::MAX;
    // Lowest first; asking for TRACE last fills the cache entry looked up above.
    for level in [10, 20, 30, 40, 50, trace] {
        let on = logger
            .call_method1(intern!(py, "isEnabledFor"), (level,))
            .and_then(|v| v.is_truthy())
            .unwrap_or(false);
        if on {
            lowest = lowest.min(level);
        }
    }
    THRESHOLD.store(lowest, Ordering::Relaxed);
}

/// Names `logging.LogRecord` gives its own attributes: a field named so gets a prefix.
const RESERVED: &[&str] = &[
    "name",
    "msg",
    "args",
    "levelname",
    "levelno",
    "pathname",
    "filename",
    "module",
    "exc_info",
    "exc_text",
    "stack_info",
    "lineno",
    "funcName",
    "created",
    "msecs",
    "relativeCreated",
    "thread",
    "threadName",
    "processName",
    "process",
    "message",
    "asctime",
    "taskName",
];

/// Emits the queued events to `chakra.replicas` (with the GIL, on a Python thread). As
/// for the statement log, only an exception that is not an `Exception` (an interrupt) is
/// returned; others are reported by `logging`'s own means.
pub fn emit(py: Python<'_>) -> PyResult<()> {
    QUEUE.drain(py, || logger(py), |l, r| emit_one(py, l, r))
}

fn emit_one(py: Python<'_>, l: &PyLogger, r: Record) -> PyResult<()> {
    let extra = PyDict::new(py);
    let mut text = r.message;
    for (i, (k, v)) in r.fields.iter().enumerate() {
        text.push_str(if i == 0 { " (" } else { ", " });
        text.push_str(k);
        text.push('=');
        text.push_str(v);
        if RESERVED.contains(k) {
            extra.set_item(format!("chakra_{k}"), v)?;
        } else {
            extra.set_item(*k, v)?;
        }
    }
    if !r.fields.is_empty() {
        text.push(')');
    }
    let kw = PyDict::new(py);
    kw.set_item(intern!(py, "extra"), &extra)?;
    l.logger
        .bind(py)
        .call_method(intern!(py, "log"), (r.level, "%s", text), Some(&kw))?;
    Ok(())
}
