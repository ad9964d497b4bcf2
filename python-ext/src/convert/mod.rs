//! Conversions between Python objects and [`chakra_dsl::Value`]s.
//!
//! - [`to_py`]: values decoded from rows → Python objects (run on the event-loop thread,
//!   one GIL acquisition per batch).
//! - [`from_py`]: Python arguments → values of a field's type, checked before any SQL.
//! - [`datetime`]: UTC and naive `datetime`s read and made field by field (the common case,
//!   without pyo3's generic conversions).

pub mod datetime;
pub mod from_py;
pub mod to_py;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static ENUM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `decimal.Decimal`.
pub fn decimal_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

/// `uuid.UUID`.
pub fn uuid_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    UUID.import(py, "uuid", "UUID")
}

/// `enum.Enum`.
pub fn enum_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    ENUM.import(py, "enum", "Enum")
}

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One level of a recursive conversion of a Python tree (`Q`, `F` arithmetic, annotation
/// expressions): entering past [`chakra_dsl::limits::MAX_DEPTH`] levels is an
/// `InvalidQuery` stating the limit, so no input can overflow the stack. Dropping it leaves
/// the level.
pub struct Nesting(());

impl Nesting {
    /// Enters one level of `what` (named in the error).
    pub fn enter(what: &str) -> PyResult<Nesting> {
        NESTING.with(|n| {
            if n.get() >= chakra_dsl::limits::MAX_DEPTH {
                return Err(crate::errors::to_py(chakra_dsl::limits::query_too_deep(
                    what,
                )));
            }
            n.set(n.get() + 1);
            Ok(Nesting(()))
        })
    }
}

impl Drop for Nesting {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get() - 1));
    }
}
