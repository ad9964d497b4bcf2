//! `datetime` objects in UTC (or naive) ↔ chrono, field by field. The extension is built for
//! the stable ABI, where pyo3's chrono conversions read each field through an attribute
//! looked up by a fresh name and build a datetime through a generic call (~10,000
//! instructions to read one, ~5,000 to make one: more than the rest of a row's insert or of
//! a get). The common cases here, a `datetime` whose `tzinfo` is `timezone.utc` or `None`
//! read with interned attribute names, and a UTC instant read back made from `datetime`'s
//! pickled state in one constructor call; every other value goes through pyo3's
//! conversions as before.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyTuple};

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
/// conversion gives). Years 1–9999 are made from the ten-byte state `datetime` pickles
/// itself as ([`state`]): one `bytes`, no seven `int`s, no argument parsing (~1,000
/// instructions less a get). Other years, and a leap second (chrono's nanoseconds past
/// 10⁹), take the field constructor or pyo3's path, which refuse them as before.
pub fn to_py<'py>(py: Python<'py>, dt: &DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::IntoPyObjectExt;
    let n = dt.naive_utc();
    let nanos = n.nanosecond();
    if nanos >= 1_000_000_000 {
        return dt.into_bound_py_any(py);
    }
    if let Some(bytes) = state(&n) {
        if *STATE_OK.get_or_try_init(py, || state_agrees(py))? {
            let bytes = PyBytes::new(py, &bytes);
            return datetime_class(py)?.call1((bytes, utc(py)?));
        }
    }
    by_fields(py, &n)
}

/// Whether the state constructor is available and agrees with the field constructor
/// (checked once per process, on instants whose every field differs from its neighbours').
static STATE_OK: PyOnceLock<bool> = PyOnceLock::new();

/// `datetime`'s pickled state of a wall-clock time (CPython's `_datetimemodule.c`: the
/// year big-endian in two bytes, month, day, hour, minute, second, then the microseconds
/// big-endian in three bytes; `fold` 0). `datetime(state, tzinfo)` builds the object from
/// these bytes as they are, so only a time with every field in its range is written:
/// `None` for years outside 1–9999 (`datetime.MINYEAR`, `MAXYEAR`).
fn state(n: &NaiveDateTime) -> Option<[u8; 10]> {
    let year = u16::try_from(n.year())
        .ok()
        .filter(|y| (1..=9999).contains(y))?;
    let micros = n.nanosecond() / 1_000;
    if micros >= 1_000_000 {
        return None;
    }
    let [y1, y2] = year.to_be_bytes();
    let [_, m1, m2, m3] = micros.to_be_bytes();
    // chrono's fields are in range: month 1–12, day of that month, hour, minute, second.
    let small = |v: u32| v as u8;
    Some([
        y1,
        y2,
        small(n.month()),
        small(n.day()),
        small(n.hour()),
        small(n.minute()),
        small(n.second()),
        m1,
        m2,
        m3,
    ])
}

/// True when `datetime(state, timezone.utc)` makes the same object as the field
/// constructor for a few instants (the C `datetime` reads pickled state so; another
/// implementation that does not is given fields instead).
fn state_agrees(py: Python<'_>) -> PyResult<bool> {
    let samples = [
        (1, 1, 1, 0, 0, 0, 0),
        (999, 12, 31, 23, 59, 59, 999_999),
        (2024, 2, 29, 13, 45, 58, 123_456),
        (9999, 12, 31, 23, 59, 59, 999_999),
        (1970, 7, 4, 1, 2, 3, 65_536),
    ];
    for (y, mo, d, h, mi, s, us) in samples {
        let Some(n) =
            NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_micro_opt(h, mi, s, us))
        else {
            return Ok(false);
        };
        let Some(bytes) = state(&n) else {
            return Ok(false);
        };
        let Ok(made) = datetime_class(py)?.call1((PyBytes::new(py, &bytes), utc(py)?)) else {
            return Ok(false);
        };
        let want = by_fields(py, &n)?;
        if !made.eq(&want)? || !made.getattr("tzinfo")?.is(utc(py)?) {
            return Ok(false);
        }
        if made.repr()?.to_str()? != want.repr()?.to_str()? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `datetime(year, month, day, hour, minute, second, microsecond, timezone.utc)`.
fn by_fields<'py>(py: Python<'py>, n: &NaiveDateTime) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::IntoPyObjectExt;
    let args = PyTuple::new(
        py,
        [
            n.year().into_bound_py_any(py)?,
            n.month().into_bound_py_any(py)?,
            n.day().into_bound_py_any(py)?,
            n.hour().into_bound_py_any(py)?,
            n.minute().into_bound_py_any(py)?,
            n.second().into_bound_py_any(py)?,
            (n.nanosecond() / 1_000).into_bound_py_any(py)?,
            utc(py)?.clone(),
        ],
    )?;
    datetime_class(py)?.call1(args)
}
