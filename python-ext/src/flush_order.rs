//! `flush_order`: the order a session's flush writes its changed and deleted objects in,
//! decided by the core (`chakra_dsl::tracked::flush_order`, the one Rust's `Tx` uses), so
//! Python's session cannot drift from it.

use crate::convert::from_py;
use crate::errors::to_py as err;
use crate::model::ModelHandle;
use chakra_dsl::{Error, Value};
use pyo3::prelude::*;

/// The positions of `items` ((model handle, primary-key value) pairs) in flush order:
/// tables in the order they first appear, each table's rows in primary-key order (integers
/// by value, other keys by their text), writes to one row in their given order. A key that
/// is not a value of the model's primary-key type is a `BadValue` naming model and field.
#[pyfunction]
pub fn flush_order(items: Vec<(PyRef<'_, ModelHandle>, Bound<'_, PyAny>)>) -> PyResult<Vec<usize>> {
    let mut keyed: Vec<(usize, String, Value)> = Vec::with_capacity(items.len());
    for (i, (handle, key)) in items.iter().enumerate() {
        let meta = &handle.info.meta;
        let pk = meta.single_key("a session's writes").map_err(err)?;
        let value = from_py::value(key, &pk.ty.value_type()).map_err(|reason| {
            err(Error::BadValue {
                model: meta.name.clone(),
                field: pk.name.clone(),
                value: key.repr().map(|r| r.to_string()).unwrap_or_default(),
                expected: pk.ty.value_type().to_string(),
                reason: Some(reason),
            })
        })?;
        keyed.push((i, meta.table.clone(), value));
    }
    chakra_dsl::tracked::flush_order(&mut keyed, |w| &w.1, |w| &w.2);
    Ok(keyed.into_iter().map(|(i, _, _)| i).collect())
}
