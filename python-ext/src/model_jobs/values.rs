//! The value conversions and checks the job builders share: a Python value for a field
//! (a named `BadValue` when it does not fit), an object's key, a saved object's key.

use crate::convert::from_py;
use crate::errors::to_py as err;
use crate::model::ModelHandle;
use chakra_dsl::{Error, FieldMeta, FieldType, Value};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

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

    /// An object's `__dict__` and its primary-key values (one per key field, in declared
    /// order), or an error naming the model when it has no key, or a key field has no value
    /// yet (an UPDATE needs a saved row).
    pub(super) fn saved_key<'py>(
        &self,
        obj: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyDict>, Vec<Value>)> {
        let py = obj.py();
        let meta = &self.info.meta;
        let d = obj
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        let keys = meta.primary_key_fields();
        if keys.is_empty() {
            return Err(err(Error::InvalidQuery(format!(
                "{} has no primary key",
                meta.name
            ))));
        }
        let mut out = Vec::with_capacity(keys.len());
        for pk in keys {
            match d.get_item(pk.name.as_str())? {
                Some(o) if !o.is_none() => out.push(self.field_value(pk, &o)?),
                _ => {
                    return Err(err(Error::InvalidQuery(format!(
                        "cannot update a {} that has no primary key value {} (save it first)",
                        meta.name, pk.name
                    ))))
                }
            }
        }
        Ok((d, out))
    }

    /// A primary-key value given by the caller as key values: the value itself for a model
    /// keyed by one field; a tuple (or list) of one value per key field, in declared order,
    /// for a composite key (anything else is an error naming the model and its key fields).
    pub(super) fn pk_value(&self, obj: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
        key_values(self, obj)
    }
}

/// `obj` as the key values of `handle`'s model (see [`ModelHandle::pk_value`]).
pub(crate) fn key_values(handle: &ModelHandle, obj: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    let meta = &handle.info.meta;
    let keys = meta.primary_key_fields();
    match keys.as_slice() {
        [] => Err(err(Error::InvalidQuery(format!(
            "{} has no primary key",
            meta.name
        )))),
        [pk] => Ok(vec![handle.field_value(pk, obj)?]),
        _ => {
            let items: Option<Vec<Bound<'_, PyAny>>> =
                if obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyList>() {
                    obj.try_iter()?.collect::<PyResult<Vec<_>>>().ok()
                } else {
                    None
                };
            match items {
                Some(items) if items.len() == keys.len() => keys
                    .iter()
                    .zip(&items)
                    .map(|(f, v)| handle.field_value(f, v))
                    .collect(),
                _ => Err(err(Error::InvalidQuery(format!(
                    "{} has the composite primary key {}: pk must be a tuple of {} values, \
                     got {}",
                    meta.name,
                    meta.key_names(),
                    keys.len(),
                    obj.repr().map(|r| r.to_string()).unwrap_or_default()
                )))),
            }
        }
    }
}
