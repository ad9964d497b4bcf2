//! Values → Python objects.

use super::{decimal_class, uuid_class};
use chakra_dsl::{ArrayValue, Value};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3::IntoPyObjectExt;

/// Converts one value.
pub fn value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    match v {
        Value::Null(_) => Ok(py.None().into_bound(py)),
        Value::Bool(b) => b.into_bound_py_any(py),
        Value::I32(x) => x.into_bound_py_any(py),
        Value::I64(x) => x.into_bound_py_any(py),
        Value::F64(x) => x.into_bound_py_any(py),
        Value::Text(s) => s.into_bound_py_any(py),
        Value::Bytes(b) => Ok(PyBytes::new(py, b).into_any()),
        Value::Decimal(d) => decimal_class(py)?.call1((d.to_string(),)),
        Value::DateTime(dt) => super::datetime::to_py(py, dt),
        Value::Date(d) => d.into_bound_py_any(py),
        Value::Uuid(u) => uuid_class(py)?.call1((u.hyphenated().to_string(),)),
        Value::Json(j) => json(py, j),
        Value::Array(a) => array(py, a),
    }
}

/// Converts a JSON document to dicts, lists, str, int, float, bool and None.
pub fn json<'py>(py: Python<'py>, j: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as J;
    match j {
        J::Null => Ok(py.None().into_bound(py)),
        J::Bool(b) => b.into_bound_py_any(py),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_bound_py_any(py)
            } else if let Some(u) = n.as_u64() {
                u.into_bound_py_any(py)
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py)
            }
        }
        J::String(s) => s.into_bound_py_any(py),
        J::Array(items) => {
            let l = PyList::empty(py);
            for i in items {
                l.append(json(py, i)?)?;
            }
            Ok(l.into_any())
        }
        J::Object(map) => {
            let d = PyDict::new(py);
            for (k, v) in map {
                d.set_item(k, json(py, v)?)?;
            }
            Ok(d.into_any())
        }
    }
}

fn array<'py>(py: Python<'py>, a: &ArrayValue) -> PyResult<Bound<'py, PyAny>> {
    let l = PyList::empty(py);
    for v in a.to_values() {
        l.append(value(py, &v)?)?;
    }
    Ok(l.into_any())
}
