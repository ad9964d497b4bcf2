//! `tracked_updates_job`: the compare-and-set UPDATEs of a session's changed objects
//! (`chakra_dsl::tracked`), in one job.

use crate::errors::to_py as err;
use crate::job::{Finish, Job, Op};
use crate::model::ModelHandle;
use crate::session::target_of;
use chakra_dsl::Value;
use pyo3::prelude::*;
use pyo3::types::PyDict;

impl ModelHandle {
    /// A tracked object's guarded UPDATE of the fields `names` (each only if the row still
    /// holds the value in `read`, and the version field, if any, too), and how its
    /// affected-row count is finished.
    pub(super) fn guarded_update(
        &self,
        obj: &Bound<'_, PyAny>,
        names: &[String],
        read: &Bound<'_, PyDict>,
    ) -> PyResult<(chakra_dsl::Statement, Finish)> {
        let meta = &self.info.meta;
        let (d, keys) = self.saved_key(obj)?;
        let value_of = |dict: &Bound<'_, PyDict>, f: &chakra_dsl::FieldMeta| -> PyResult<Value> {
            match dict.get_item(f.name.as_str())? {
                Some(o) => self.field_value(f, &o),
                None => Ok(Value::Null(f.ty.value_type())),
            }
        };
        let mut changes = Vec::with_capacity(names.len());
        for n in names {
            meta.require_field(n).map_err(err)?;
        }
        for (i, f) in meta.fields.iter().enumerate() {
            if names.iter().any(|n| n == &f.name) {
                changes.push(chakra_dsl::tracked::Change {
                    field: i,
                    new: value_of(&d, f)?,
                    read: value_of(read, f)?,
                });
            }
        }
        let version_read = match meta.version_field() {
            Some((_, vf)) => Some(value_of(read, vf)?),
            None => None,
        };
        let (stmt, new_version) =
            chakra_dsl::tracked::guarded_update(meta, keys.clone(), &changes, version_read)
                .map_err(err)?;
        Ok((
            stmt,
            Finish::Guarded {
                model: meta.name.clone(),
                table: meta.table.clone(),
                key: chakra_dsl::tracked::key_text(&keys),
                new_version,
            },
        ))
    }
}

/// One item of [`tracked_updates_job`]: model handle, object, changed field names, values
/// read.
type TrackedChange<'py> = (
    PyRef<'py, ModelHandle>,
    Bound<'py, PyAny>,
    Vec<String>,
    Bound<'py, PyDict>,
);

/// Tracked objects' UPDATEs in one job, in the order given: pipelined on PostgreSQL (one
/// round trip for all). Each item is `(model handle, obj, names, read)`: `names` are the
/// changed fields, `read` holds the values last read (or written) for them and for the
/// version field. Each UPDATE is a compare-and-set (see `chakra_dsl::tracked`); the first
/// that matches no row raises `ConcurrentUpdate`. The job returns the version fields' new
/// values (or `None`), in order.
#[pyfunction]
pub fn tracked_updates_job(
    target: &Bound<'_, PyAny>,
    items: Vec<TrackedChange<'_>>,
) -> PyResult<Job> {
    let mut stmts = Vec::with_capacity(items.len());
    let mut guards = Vec::with_capacity(items.len());
    for (handle, obj, names, read) in &items {
        let (stmt, guard) = handle.guarded_update(obj, names, read)?;
        stmts.push(stmt);
        guards.push(guard);
    }
    Ok(Job::new(
        Op::ExecuteMany(target_of(target)?, stmts),
        Finish::GuardedMany(guards),
    ))
}
