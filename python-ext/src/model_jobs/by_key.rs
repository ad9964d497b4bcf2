//! Statements on rows named by their primary key: `update_job` (one object's fields),
//! `bulk_update_job` (many objects' fields in one statement), `delete_pk_job`, `get_pk_job`.

use crate::errors::to_py as err;
use crate::job::{Finish, Job, Op};
use crate::model::ModelHandle;
use crate::session::target_of;
use chakra_dsl::{pk_filter_values, ModelQuery, Statement, Value};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyDict;

impl ModelHandle {
    /// `bulk_update(objs, fields)`: each object's `fields` written by primary key (every
    /// field of a composite key) in one statement; returns the number of rows updated.
    pub(super) fn build_bulk_update(
        &self,
        target: &Bound<'_, PyAny>,
        objs: Vec<Bound<'_, PyAny>>,
        fields: Vec<String>,
    ) -> PyResult<Job> {
        let py = target.py();
        let meta = &self.info.meta;
        let keys = meta.primary_key_fields();
        let mut resolved = Vec::with_capacity(fields.len());
        for n in &fields {
            resolved.push(
                chakra_dsl::lookup::resolve_field(meta, n)
                    .map_err(err)?
                    .clone(),
            );
        }
        let value_of = |o: &Bound<'_, PyAny>, f: &chakra_dsl::FieldMeta| -> PyResult<Value> {
            let d = o
                .getattr(intern!(py, "__dict__"))?
                .cast_into::<PyDict>()
                .map_err(PyErr::from)?;
            match d.get_item(f.name.as_str())? {
                Some(v) => self.field_value(f, &v),
                None => Ok(Value::Null(f.ty.value_type())),
            }
        };
        let mut rows = Vec::with_capacity(objs.len());
        for o in &objs {
            let key = keys
                .iter()
                .map(|k| value_of(o, k))
                .collect::<PyResult<Vec<_>>>()?;
            let mut values = Vec::with_capacity(resolved.len());
            for f in &resolved {
                values.push(value_of(o, f)?);
            }
            rows.push((key, values));
        }
        let names: Vec<String> = resolved.iter().map(|f| f.name.clone()).collect();
        let stmt = chakra_dsl::bulk_update_rows(meta, &names, rows).map_err(err)?;
        if objs.is_empty() {
            return Ok(Job::new(Op::Noop, Finish::Nothing));
        }
        Ok(Job::new(
            Op::Execute(target_of(target)?, Statement::BulkUpdate(stmt)),
            Finish::RowCount,
        ))
    }

    /// `UPDATE … SET <fields> WHERE pk = obj.pk` with the object's current values; all
    /// non-key fields when `fields` is `None`.
    pub(super) fn build_update(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        fields: Option<Vec<String>>,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let (d, key) = self.saved_key(obj)?;
        let mut sets = Vec::new();
        for f in &meta.fields {
            let wanted = match &fields {
                Some(list) => list.iter().any(|n| n == &f.name),
                None => !f.primary_key,
            };
            if !wanted {
                continue;
            }
            let v = match d.get_item(f.name.as_str())? {
                Some(o) => self.field_value(f, &o)?,
                None => Value::Null(f.ty.value_type()),
            };
            sets.push((f.name.clone(), chakra_dsl::Expr::Value(v)));
        }
        if let Some(list) = &fields {
            for n in list {
                meta.require_field(n).map_err(err)?;
            }
        }
        if sets.is_empty() {
            return Ok(Job::new(Op::Noop, Finish::Nothing));
        }
        let q = ModelQuery::new(meta.clone()).filter(pk_filter_values(meta, key).map_err(err)?);
        let stmt = q.update(sets).map_err(err)?;
        Ok(Job::new(
            Op::Execute(target_of(target)?, stmt),
            Finish::RowCount,
        ))
    }

    /// `DELETE … WHERE pk = value`.
    pub(super) fn build_delete_pk(
        &self,
        target: &Bound<'_, PyAny>,
        pk: &Bound<'_, PyAny>,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let q = ModelQuery::new(meta.clone())
            .filter(pk_filter_values(meta, self.pk_value(pk)?).map_err(err)?);
        Ok(Job::new(
            crate::job::delete_op(target_of(target)?, &q).map_err(err)?,
            Finish::RowCount,
        ))
    }

    /// The row with this primary key, or `None`; locked until the transaction ends with
    /// `for_update` (`SELECT … FOR UPDATE` on PostgreSQL).
    pub(super) fn build_get_pk(
        &self,
        target: &Bound<'_, PyAny>,
        pk: &Bound<'_, PyAny>,
        for_update: bool,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let q = ModelQuery::new(meta.clone())
            .filter(pk_filter_values(meta, self.pk_value(pk)?).map_err(err)?)
            .lock(for_update.then(chakra_dsl::RowLock::update));
        Ok(Job::new(
            Op::Fetch(target_of(target)?, Statement::Select(q.select())),
            Finish::First(self.info.clone()),
        ))
    }
}
