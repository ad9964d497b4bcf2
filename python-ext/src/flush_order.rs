//! `flush_order`: the order a session's flush writes its changed and deleted objects in,
//! decided by the core (`chakra_dsl::tracked::flush_order`, the one Rust's `Tx` uses), so
//! Python's session cannot drift from it.

use crate::model::ModelHandle;
use crate::model_jobs::values::key_values;
use chakra_dsl::Value;
use pyo3::prelude::*;

/// The positions of `items` ((model handle, primary-key value) pairs) in flush order:
/// tables in the order they first appear, each table's rows in primary-key order (integers
/// by value, other keys by their text; a composite key, a tuple, field by field), writes to
/// one row in their given order. A key that is not a value of the model's primary-key type
/// is a `BadValue` naming model and field; a composite key that is not a tuple of one value
/// per key field is an error naming the model and its key fields.
#[pyfunction]
pub fn flush_order(items: Vec<(PyRef<'_, ModelHandle>, Bound<'_, PyAny>)>) -> PyResult<Vec<usize>> {
    let mut keyed: Vec<(usize, String, Vec<Value>)> = Vec::with_capacity(items.len());
    for (i, (handle, key)) in items.iter().enumerate() {
        let values = key_values(handle, key)?;
        keyed.push((i, handle.info.meta.table.clone(), values));
    }
    chakra_dsl::tracked::flush_order(&mut keyed, |w| &w.1, |w| &w.2);
    Ok(keyed.into_iter().map(|(i, _, _)| i).collect())
}
