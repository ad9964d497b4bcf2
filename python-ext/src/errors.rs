//! The one bridge from [`chakra_dsl::Error`] to the exception classes of `chakra.errors`
//! (defined in Python, so users can subclass and catch them like any exception).

use chakra_dsl::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let m = ERRORS_MODULE.get_or_try_init(py, || {
        PyModule::import(py, "chakra.errors").map(|m| m.unbind())
    })?;
    m.bind(py).getattr(name)
}

/// The `chakra.errors` class name for an error.
fn class_name(e: &Error) -> &'static str {
    match e {
        Error::NotFound { .. } => "DoesNotExist",
        Error::MultipleObjectsReturned { .. } => "MultipleObjectsReturned",
        Error::UniqueViolation(_) => "UniqueViolation",
        Error::ForeignKeyViolation(_) => "ForeignKeyViolation",
        Error::NotNullViolation(_) => "NotNullViolation",
        Error::CheckViolation(_) => "CheckViolation",
        Error::UnknownField { .. } => "UnknownField",
        Error::UnknownLookup { .. } => "UnknownLookup",
        Error::InvalidAggregate { .. } => "InvalidAggregate",
        Error::AnnotationConflict { .. } => "AnnotationConflict",
        Error::BadValue { .. } => "BadValue",
        Error::InvalidIdentifier { .. } => "InvalidIdentifier",
        Error::InvalidUrl { .. } => "InvalidUrl",
        Error::Config(_) => "ConfigError",
        Error::Connection(_) => "ConnectionError",
        Error::InvalidQuery(_) => "InvalidQuery",
        Error::Database { .. } => "DatabaseError",
        Error::Decode { .. } => "DecodeError",
        Error::Transaction(_) => "TransactionError",
        Error::NotLoaded { .. } => "NotLoaded",
        Error::UnknownModel { .. } => "UnknownModel",
        Error::UnknownRelation { .. } => "UnknownRelation",
        Error::InvalidRelation { .. } => "InvalidRelation",
        Error::DeleteRestricted(_) => "DeleteRestricted",
        Error::ConcurrentUpdate { .. } => "ConcurrentUpdate",
        Error::Deadlock(_) => "Deadlock",
        Error::SerializationFailure(_) => "SerializationFailure",
        Error::ConnectionLost(_) => "ConnectionLost",
        Error::LockTimeout(_) => "LockTimeout",
        Error::StatementTimeout(_) => "StatementTimeout",
        Error::ConnectionTimeout { .. } => "ConnectionTimeout",
        Error::Validation { .. } => "ValidationError",
        Error::UnknownDatabase { .. } => "UnknownDatabase",
        Error::CrossDatabase { .. } => "CrossDatabaseQuery",
        Error::ReadOnlyDatabase { .. } => "ReadOnlyDatabase",
        Error::StaleModels { .. } => "StaleModels",
        _ => "ChakraError",
    }
}

/// Keyword details attached to the exception as attributes (`exc.model`, `exc.field`, …).
fn details<'py>(py: Python<'py>, e: &Error) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("retryable", e.retryable())?;
    d.set_item("sqlstate", e.sqlstate())?;
    if let Some(f) = e.failure() {
        d.set_item("table", &f.table)?;
        d.set_item("message", &f.message)?;
    }
    match e {
        Error::Validation { model, errors } => {
            d.set_item("model", model)?;
            d.set_item("errors", errors.clone().into_pyobject(py)?)?;
        }
        Error::ConcurrentUpdate { model, table, key } => {
            d.set_item("model", model)?;
            d.set_item("table", table)?;
            d.set_item("key", key)?;
        }
        Error::ConnectionTimeout {
            pool_size,
            waited_ms,
        } => {
            d.set_item("pool_size", pool_size)?;
            d.set_item("waited_ms", waited_ms)?;
        }
        Error::NotFound { model, detail } => {
            d.set_item("model", model)?;
            d.set_item("detail", detail)?;
        }
        Error::MultipleObjectsReturned { model, count } => {
            d.set_item("model", model)?;
            d.set_item("count", count)?;
        }
        Error::UnknownField {
            model,
            field,
            choices,
        } => {
            d.set_item("model", model)?;
            d.set_item("field", field)?;
            d.set_item("choices", PyList::new(py, choices)?)?;
        }
        Error::InvalidAggregate {
            model,
            field,
            function,
            reason,
        } => {
            d.set_item("model", model)?;
            d.set_item("field", field)?;
            d.set_item("function", function)?;
            d.set_item("reason", reason)?;
        }
        Error::AnnotationConflict {
            model,
            name,
            reason,
        } => {
            d.set_item("model", model)?;
            d.set_item("name", name)?;
            d.set_item("reason", reason)?;
        }
        Error::UnknownLookup {
            model,
            field,
            lookup,
            choices,
        } => {
            d.set_item("model", model)?;
            d.set_item("field", field)?;
            d.set_item("lookup", lookup)?;
            d.set_item("choices", PyList::new(py, choices)?)?;
        }
        Error::BadValue {
            model,
            field,
            value,
            expected,
            reason,
        } => {
            d.set_item("model", model)?;
            d.set_item("field", field)?;
            d.set_item("value", value)?;
            d.set_item("expected", expected)?;
            d.set_item("reason", reason)?;
        }
        Error::InvalidUrl { url, reason } => {
            d.set_item("url", url)?;
            d.set_item("reason", reason)?;
        }
        Error::NotLoaded {
            owner,
            relation,
            model,
        } => {
            d.set_item("model", owner)?;
            d.set_item("relation", relation)?;
            d.set_item("related_model", model)?;
        }
        Error::UnknownModel {
            model,
            referenced_by,
        } => {
            d.set_item("model", model)?;
            d.set_item("referenced_by", referenced_by)?;
        }
        Error::UnknownRelation {
            model,
            relation,
            choices,
        } => {
            d.set_item("model", model)?;
            d.set_item("relation", relation)?;
            d.set_item("choices", PyList::new(py, choices)?)?;
        }
        Error::InvalidRelation {
            model,
            relation,
            reason,
        } => {
            d.set_item("model", model)?;
            d.set_item("relation", relation)?;
            d.set_item("reason", reason)?;
        }
        Error::Database { message, sql } => {
            d.set_item("message", message)?;
            d.set_item("sql", sql)?;
        }
        other => {
            if let Some(v) = other.violation() {
                d.set_item("constraint", &v.constraint)?;
                d.set_item("table", &v.table)?;
                d.set_item("column", &v.column)?;
                d.set_item("message", &v.message)?;
                d.set_item("detail", v.detail.as_deref())?;
                // The registered model of the table, and its field of the column.
                let models = crate::registry::snapshot();
                let meta = v.table.as_deref().and_then(|t| {
                    chakra_dsl::relations::Models::all(&models)
                        .into_iter()
                        .find(|m| m.table == t)
                });
                if let Some(meta) = meta {
                    d.set_item("model", &meta.name)?;
                    let field = v
                        .column
                        .as_deref()
                        .and_then(|c| meta.fields.iter().find(|f| f.column == c));
                    d.set_item("field", field.map(|f| f.name.as_str()))?;
                }
            }
        }
    }
    Ok(d)
}

fn build(py: Python<'_>, cls: Bound<'_, PyAny>, e: &Error) -> PyErr {
    let make = || -> PyResult<PyErr> {
        let exc = cls.call1((e.to_string(),))?;
        for (k, v) in details(py, e)?.iter() {
            exc.setattr(k.cast::<pyo3::types::PyString>()?, v)?;
        }
        Ok(PyErr::from_value(exc))
    };
    make().unwrap_or_else(|err| err)
}

/// Converts an error to the matching `chakra.errors` exception.
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| to_py_in(py, &e, None))
}

/// Converts an error, using the model's own `DoesNotExist` / `MultipleObjectsReturned`
/// subclasses when `model_cls` is given.
pub fn to_py_in(py: Python<'_>, e: &Error, model_cls: Option<&Bound<'_, PyAny>>) -> PyErr {
    if let Some(cls) = model_cls {
        let attr = match e {
            Error::NotFound { .. } => Some("DoesNotExist"),
            Error::MultipleObjectsReturned { .. } => Some("MultipleObjectsReturned"),
            _ => None,
        };
        if let Some(attr) = attr {
            if let Ok(sub) = cls.getattr(attr) {
                return build(py, sub, e);
            }
        }
    }
    match class(py, class_name(e)) {
        Ok(cls) => build(py, cls, e),
        Err(err) => err,
    }
}
