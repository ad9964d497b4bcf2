//! Python objects → values of a given type. A mismatch is reported as a reason string; the
//! caller turns it into `BadValue` naming the model, the field and the value.

use super::{decimal_class, enum_class, uuid_class};
use chakra_dsl::limits::{json_too_deep, MAX_DEPTH};
use chakra_dsl::{ArrayValue, Value, ValueType};
use chrono::{NaiveDate, NaiveDateTime};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString,
    PyTuple,
};
use std::str::FromStr;

static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Why a Python object does not fit a type.
pub type Reason = String;

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

fn wrong(obj: &Bound<'_, PyAny>, what: &str) -> Reason {
    format!("expected {what}, got {}", type_name(obj))
}

fn int(obj: &Bound<'_, PyAny>) -> Result<i64, Reason> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(wrong(obj, "an int"));
    }
    obj.extract::<i64>()
        .map_err(|_| "out of range for a 64-bit integer".to_owned())
}

fn datetime(obj: &Bound<'_, PyAny>) -> Result<NaiveDateTime, Reason> {
    let py = obj.py();
    if obj.is_instance_of::<PyDateTime>() {
        let tz = obj
            .getattr(intern!(py, "tzinfo"))
            .map_err(|e| e.to_string())?;
        // The usual cases, naive or in `timezone.utc`: the fields as they are.
        if tz.is_none() || super::datetime::utc(py).is_ok_and(|u| tz.is(u)) {
            if let Some(n) = super::datetime::naive_fields(obj) {
                return Ok(n);
            }
        }
        if !tz.is_none() {
            // Fast paths: UTC and fixed offsets convert without calling back into Python.
            if let Ok(dt) = obj.extract::<chrono::DateTime<chrono::Utc>>() {
                return Ok(dt.naive_utc());
            }
            if let Ok(dt) = obj.extract::<chrono::DateTime<chrono::FixedOffset>>() {
                return Ok(dt.naive_utc());
            }
        }
        let naive = if tz.is_none() {
            obj.clone()
        } else {
            let utc = UTC
                .import(py, "datetime", "timezone")
                .and_then(|tz| tz.getattr("utc"))
                .map_err(|e| e.to_string())?;
            obj.call_method1(intern!(py, "astimezone"), (utc,))
                .and_then(|d| {
                    let kw = PyDict::new(py);
                    kw.set_item("tzinfo", py.None())?;
                    d.call_method(intern!(py, "replace"), (), Some(&kw))
                })
                .map_err(|e| e.to_string())?
        };
        return naive.extract::<NaiveDateTime>().map_err(|e| e.to_string());
    }
    if obj.is_instance_of::<PyDate>() {
        let d: NaiveDate = obj.extract().map_err(|e: PyErr| e.to_string())?;
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight"));
    }
    Err(wrong(obj, "a datetime"))
}

fn date(obj: &Bound<'_, PyAny>) -> Result<NaiveDate, Reason> {
    if obj.is_instance_of::<PyDateTime>() {
        return Ok(datetime(obj)?.date());
    }
    if obj.is_instance_of::<PyDate>() {
        return obj.extract::<NaiveDate>().map_err(|e| e.to_string());
    }
    Err(wrong(obj, "a date"))
}

/// The UTF-8 text of a Python `str`; a lone surrogate (which UTF-8 cannot hold: storing it
/// would change it) is refused, in text and JSON alike.
fn text(s: &Bound<'_, PyString>) -> Result<String, Reason> {
    s.to_str().map(str::to_owned).map_err(|_| {
        "the str holds a lone surrogate (e.g. \\ud800), which is not valid Unicode text: \
         neither backend can store it unchanged"
            .to_owned()
    })
}

/// Converts a JSON-able Python object, nested at most [`MAX_DEPTH`] levels deep (so what is
/// stored can be decoded again; deeper documents are refused, never built).
pub fn json(obj: &Bound<'_, PyAny>) -> Result<serde_json::Value, Reason> {
    json_at(obj, 0)
}

fn json_at(obj: &Bound<'_, PyAny>, depth: usize) -> Result<serde_json::Value, Reason> {
    use serde_json::Value as J;
    if obj.is_none() {
        return Ok(J::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(J::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(J::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(J::from(u));
        }
        return Err("integer too large for JSON".into());
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(J::Number)
            .ok_or_else(|| "NaN and infinities are not valid JSON".to_owned());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(J::String(text(s)?));
    }
    let is_container = obj.is_instance_of::<PyDict>()
        || obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>();
    if is_container && depth >= MAX_DEPTH {
        return Err(json_too_deep(depth + 1));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let k = text(
                k.cast::<PyString>()
                    .map_err(|_| "JSON object keys must be str".to_owned())?,
            )?;
            map.insert(k, json_at(&v, depth + 1)?);
        }
        return Ok(J::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for item in obj.try_iter().map_err(|e| e.to_string())? {
            out.push(json_at(&item.map_err(|e| e.to_string())?, depth + 1)?);
        }
        return Ok(J::Array(out));
    }
    Err(wrong(
        obj,
        "a JSON value (dict, list, str, int, float, bool, None)",
    ))
}

/// Converts `obj` to a value of type `ty`. `None` becomes a typed NULL.
pub fn value(obj: &Bound<'_, PyAny>, ty: &ValueType) -> Result<Value, Reason> {
    if obj.is_none() {
        return Ok(Value::Null(ty.clone()));
    }
    let py = obj.py();
    Ok(match ty {
        ValueType::Bool => match obj.cast::<PyBool>() {
            Ok(b) => Value::Bool(b.is_true()),
            Err(_) => return Err(wrong(obj, "a bool")),
        },
        ValueType::I32 => {
            let i = int(obj)?;
            Value::I32(
                i32::try_from(i).map_err(|_| "out of range for a 32-bit Integer".to_owned())?,
            )
        }
        ValueType::I64 => Value::I64(int(obj)?),
        ValueType::F64 => {
            if let Ok(f) = obj.cast::<PyFloat>() {
                Value::F64(f.value())
            } else {
                Value::F64(int(obj).map_err(|_| wrong(obj, "a float"))? as f64)
            }
        }
        ValueType::Decimal => {
            let is_decimal = decimal_class(py)
                .and_then(|c| obj.is_instance(c))
                .unwrap_or(false);
            if !(is_decimal
                || (obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>())
                || obj.is_instance_of::<PyFloat>())
            {
                return Err(wrong(obj, "a decimal.Decimal"));
            }
            let s = obj.str().map_err(|e| e.to_string())?.to_string();
            Value::Decimal(
                bigdecimal::BigDecimal::from_str(&s)
                    .map_err(|_| format!("{s} is not a finite decimal"))?,
            )
        }
        ValueType::Text => match obj.cast::<PyString>() {
            Ok(s) => Value::Text(text(s)?),
            // An `enum.Enum` member stands for its value (what an `Enum` field stores).
            Err(_)
                if enum_class(py)
                    .and_then(|c| obj.is_instance(c))
                    .unwrap_or(false) =>
            {
                let v = obj.getattr("value").map_err(|e| e.to_string())?;
                match v.cast::<PyString>() {
                    Ok(s) => Value::Text(text(s)?),
                    Err(_) => return Err(wrong(obj, "a str or an enum member with a str value")),
                }
            }
            Err(_) => return Err(wrong(obj, "a str")),
        },
        ValueType::Bytes => {
            if let Ok(b) = obj.cast::<PyBytes>() {
                Value::Bytes(b.as_bytes().to_vec())
            } else if let Ok(b) = obj.cast::<PyByteArray>() {
                Value::Bytes(b.to_vec())
            } else {
                return Err(wrong(obj, "bytes"));
            }
        }
        ValueType::DateTime => Value::DateTime(datetime(obj)?.and_utc()),
        ValueType::Date => Value::Date(date(obj)?),
        ValueType::Json => Value::Json(json(obj)?),
        ValueType::Uuid => {
            let is_uuid = uuid_class(py)
                .and_then(|c| obj.is_instance(c))
                .unwrap_or(false);
            if !(is_uuid || obj.is_instance_of::<PyString>()) {
                return Err(wrong(obj, "a uuid.UUID"));
            }
            let s = obj.str().map_err(|e| e.to_string())?.to_string();
            Value::Uuid(uuid::Uuid::parse_str(&s).map_err(|e| format!("not a UUID: {e}"))?)
        }
        ValueType::Array(elem) => {
            if !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()) {
                return Err(wrong(obj, "a list"));
            }
            let mut vals = Vec::new();
            for item in obj.try_iter().map_err(|e| e.to_string())? {
                vals.push(value(&item.map_err(|e| e.to_string())?, elem)?);
            }
            let arr = ArrayValue::from_values(elem, &vals)
                .ok_or_else(|| format!("arrays of {elem} are not supported"))?;
            Value::Array(arr)
        }
    })
}
