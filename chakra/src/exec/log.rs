//! The statement log: besides the `tracing` event every statement emits (target
//! `chakra::sql`), one process-wide listener can receive each statement as a
//! [`StatementRecord`]. The Python package installs one to feed the standard `logging`
//! logger `chakra.sql`. When no listener is installed the cost is one relaxed atomic load per
//! statement.

use chakra_dsl::Value;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

/// One statement the executor ran.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementRecord {
    /// The SQL text, with placeholders.
    pub sql: String,
    /// How many values were bound.
    pub binds: usize,
    /// The bound values, when the listener asked for them.
    pub params: Option<Vec<Value>>,
    /// Rows returned or affected.
    pub rows: usize,
    /// Wall time of the statement, in microseconds.
    pub elapsed_us: u64,
    /// The error, when the statement failed.
    pub error: Option<String>,
}

/// What a listener receives.
pub type Listener = Arc<dyn Fn(StatementRecord) + Send + Sync>;

// 0: off, 1: on without values, 2: on with values.
static LEVEL: AtomicU8 = AtomicU8::new(0);
static LISTENER: RwLock<Option<Listener>> = RwLock::new(None);

/// Installs `listener` (replacing any other), or removes it with `None`. With
/// `with_params`, records carry the bound values too.
pub fn set_listener(listener: Option<Listener>, with_params: bool) {
    let level = match (&listener, with_params) {
        (None, _) => 0,
        (Some(_), false) => 1,
        (Some(_), true) => 2,
    };
    *LISTENER.write().unwrap_or_else(|e| e.into_inner()) = listener;
    LEVEL.store(level, Ordering::Release);
}

/// True when a listener is installed.
#[inline]
pub fn enabled() -> bool {
    LEVEL.load(Ordering::Relaxed) != 0
}

/// Hands a statement to the listener (callers check [`enabled`] first).
pub fn record(sql: String, params: &[Value], rows: usize, elapsed_us: u64) {
    let with_params = LEVEL.load(Ordering::Relaxed) == 2;
    let listener = LISTENER.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(l) = listener {
        l(StatementRecord {
            sql,
            binds: params.len(),
            params: with_params.then(|| params.to_vec()),
            rows,
            elapsed_us,
            error: None,
        });
    }
}

/// Hands a failed statement, with its error, to the listener (callers check [`enabled`]
/// first).
pub fn record_failure(sql: String, params: &[Value], elapsed_us: u64, error: String) {
    let with_params = LEVEL.load(Ordering::Relaxed) == 2;
    let listener = LISTENER.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(l) = listener {
        l(StatementRecord {
            sql,
            binds: params.len(),
            params: with_params.then(|| params.to_vec()),
            rows: 0,
            elapsed_us,
            error: Some(error),
        });
    }
}
