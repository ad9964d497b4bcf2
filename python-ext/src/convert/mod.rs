//! Conversions between Python objects and [`chakra_dsl::Value`]s.
//!
//! - [`to_py`]: values decoded from rows → Python objects (run on the event-loop thread,
//!   one GIL acquisition per batch).
//! - [`from_py`]: Python arguments → values of a field's type, checked before any SQL.

pub mod from_py;
pub mod to_py;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `decimal.Decimal`.
pub fn decimal_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

/// `uuid.UUID`.
pub fn uuid_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    UUID.import(py, "uuid", "UUID")
}
