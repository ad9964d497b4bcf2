//! `datetime` objects in UTC (or naive) ↔ chrono, field by field. The extension is built for
//! the stable ABI, where pyo3's chrono conversions read each field through an attribute
//! looked up by a fresh name and build a datetime through a generic call (~10,000
//! instructions to read one, ~5,000 to make one: more than the rest of a row's insert or of
//! a get). The common cases here, a `datetime` whose `tzinfo` is `timezone.utc` or `None`
//! and a UTC instant read back, take interned attribute names and one constructor call;
//! every other value goes through pyo3's conversions as before.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

static DATETIME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `datetime.datetime`.
fn datetime_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    DATETIME.import(py, "datetime", "datetime")
}

/// `datetime.timezone.utc`.
pub fn utc(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    UTC.get_or_try_init(py, || {
        Ok(py
            .import(intern!(py, "datetime"))?
            .getattr(intern!(py, "timezone"))?
            .getattr(intern!(py, "utc"))?
            .unbind())
    })
    .map(|u| u.bind(py))
}

/// The wall-clock fields of `obj` (a `datetime` whose `tzinfo` was checked by the caller),
/// or `None` when one cannot be read as expected (the caller then takes the general path).
pub fn naive_fields(obj: &Bound<'_, PyAny>) -> Option<NaiveDateTime> {
    let py = obj.py();
    let get = |name: &Bound<'_, pyo3::types::PyString>| -> Option<u32> {
        obj.getattr(name).ok()?.extract::<u32>().ok()
    };
    let year = obj
        .getattr(intern!(py, "year"))
        .ok()?
        .extract::<i32>()
        .ok()?;
    let date = NaiveDate::from_ymd_opt(year, get(intern!(py, "month"))?, get(intern!(py, "day"))?)?;
    date.and_hms_micro_opt(
        get(intern!(py, "hour"))?,
        get(intern!(py, "minute"))?,
        get(intern!(py, "second"))?,
        get(intern!(py, "microsecond"))?,
    )
}

/// A UTC instant as a `datetime` with `tzinfo=timezone.utc` (microseconds; what pyo3's
/// conversion gives). A leap second (chrono's nanoseconds past 10⁹) takes pyo3's path.
pub fn to_py<'py>(py: Python<'py>, dt: &DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::IntoPyObjectExt;
    let n = dt.naive_utc();
    let nanos = n.nanosecond();
    if nanos >= 1_000_000_000 {
        return dt.into_bound_py_any(py);
    }
    let args = PyTuple::new(
        py,
        [
            n.year().into_bound_py_any(py)?,
            n.month().into_bound_py_any(py)?,
            n.day().into_bound_py_any(py)?,
            n.hour().into_bound_py_any(py)?,
            n.minute().into_bound_py_any(py)?,
            n.second().into_bound_py_any(py)?,
            (nanos / 1_000).into_bound_py_any(py)?,
            utc(py)?.clone(),
        ],
    )?;
    datetime_class(py)?.call1(args)
}
