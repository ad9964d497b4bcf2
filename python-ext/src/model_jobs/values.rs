//! The value conversions and checks the job builders share: a Python value for a field
//! (a named `BadValue` when it does not fit), an object's key, a saved object's key.

use crate::convert::from_py;
use crate::errors::to_py as err;
use crate::model::ModelHandle;
use chakra_dsl::{Error, FieldMeta, FieldType, Value};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyDict;

impl ModelHandle {
    pub(super) fn bad(
        &self,
        field: &str,
        obj: &Bound<'_, PyAny>,
        expected: &FieldType,
        reason: String,
    ) -> PyErr {
        err(Error::BadValue {
            model: self.info.meta.name.clone(),
            field: field.to_owned(),
            value: obj.repr().map(|r| r.to_string()).unwrap_or_default(),
            expected: expected.canonical_name().to_owned(),
            reason: Some(reason),
        })
    }

    /// Converts a Python value for field `f`.
    pub fn field_value(&self, f: &FieldMeta, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        from_py::value(obj, &f.ty.value_type()).map_err(|r| self.bad(&f.name, obj, &f.ty, r))
    }

    /// The value of `obj`'s field `f`, which must be set (a key that identifies related
    /// rows; `what` names the relation or operation for the message).
    pub(super) fn key_of(
        &self,
        obj: &Bound<'_, PyAny>,
        f: &FieldMeta,
        what: &str,
    ) -> PyResult<Value> {
        let py = obj.py();
        let d = obj
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        match d.get_item(f.name.as_str())? {
            Some(v) if !v.is_none() => self.field_value(f, &v),
            _ => Err(err(Error::InvalidQuery(format!(
                "{}.{what}: this {} has no {} yet (save it first)",
                self.info.meta.name, self.info.meta.name, f.name
            )))),
        }
    }

    /// An object's `__dict__` and its primary-key value, or an error naming the model when
    /// it has no key value yet (an UPDATE needs a saved row).
    pub(super) fn saved_key<'py>(
        &self,
        obj: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyDict>, Value)> {
        let py = obj.py();
        let meta = &self.info.meta;
        let d = obj
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        let pk = meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "{} has no primary key",
                meta.name
            )))
        })?;
        match d.get_item(pk.name.as_str())? {
            Some(o) if !o.is_none() => {
                let key = self.field_value(pk, &o)?;
                Ok((d, key))
            }
            _ => Err(err(Error::InvalidQuery(format!(
                "cannot update a {} that has no primary key value (save it first)",
                meta.name
            )))),
        }
    }

    pub(super) fn pk_value(&self, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        let pk = self.info.meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "{} has no primary key",
                self.info.meta.name
            )))
        })?;
        self.field_value(pk, obj)
    }
}
