//! `insert_job`: new objects as one INSERT (or an upsert), the generated columns written
//! back.

use crate::errors::to_py as err;
use crate::hydrate::reads_back_as_sent;
use crate::job::{Finish, Job, Op};
use crate::model::ModelHandle;
use crate::session::target_of;
use chakra_dsl::{DefaultValue, Error, FieldType, Statement, Value};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyDateTime, PyDict};

/// True for an exact `datetime` or `date`: immutable, so the same object converts to the
/// same value (and reads back the same way) every time.
fn is_exact_datetime(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_exact_instance_of::<PyDateTime>() || obj.is_exact_instance_of::<PyDate>()
}

impl ModelHandle {
    /// Inserts `objs` in one statement (chunked when large) and writes generated columns
    /// back into them: the key, and each field whose value the objects do not already hold
    /// as stored (`reads_back_as_sent`). Fields left `None` that the database fills
    /// (auto-increment keys, `now()` defaults) are left out when every object leaves them
    /// `None`.
    ///
    /// `conflict` = `(unique_fields, update_fields)` makes it an upsert: conflicting rows
    /// get `update_fields` from the proposed row (written back), or, with no update
    /// fields, are skipped (nothing is written back).
    /// With `return_ids=False` (no conflict handling) the INSERT has no `RETURNING`: nothing
    /// is decoded or written back, for loads that do not need the keys.
    pub(super) fn build_insert(
        &self,
        target: &Bound<'_, PyAny>,
        objs: Vec<Bound<'_, PyAny>>,
        conflict: Option<(Vec<String>, Vec<String>)>,
        return_ids: bool,
    ) -> PyResult<Job> {
        let py = target.py();
        let meta = &self.info.meta;
        let dicts = objs
            .iter()
            .map(|o| {
                o.getattr(intern!(py, "__dict__"))?
                    .cast_into::<PyDict>()
                    .map_err(PyErr::from)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let mut use_field = Vec::with_capacity(meta.fields.len());
        for (i, f) in meta.fields.iter().enumerate() {
            let db_fills = f.auto_increment || matches!(f.default, Some(DefaultValue::Now));
            // Only a field the database can fill is looked at in every object (and only
            // until one holds a value).
            let all_none = db_fills
                && dicts.iter().try_fold(true, |acc, d| -> PyResult<bool> {
                    Ok(acc
                        && d.get_item(self.info.names[i].bind(py))?
                            .is_none_or(|v| v.is_none()))
                })?;
            use_field.push(!all_none);
        }
        let fields: Vec<usize> = (0..meta.fields.len()).filter(|&i| use_field[i]).collect();
        // Per field: every object held a value that reads back as the same Python object
        // (see `reads_back_as_sent`), so the inserted row need not be written back to it.
        let mut as_sent: Vec<bool> = use_field.clone();
        let mut rows = Vec::with_capacity(dicts.len());
        // Per field, the `datetime` the previous object held and its value: the same object
        // again (one instant for a whole batch, as `auto_now` stamps are) is read once.
        let mut last: Vec<Option<(Bound<'_, PyAny>, Value)>> = vec![None; fields.len()];
        for d in &dicts {
            let mut row = Vec::with_capacity(fields.len());
            for (k, &i) in fields.iter().enumerate() {
                let f = &meta.fields[i];
                let v = match d.get_item(self.info.names[i].bind(py))? {
                    Some(o) => match &last[k] {
                        Some((prev, v)) if prev.is(&o) => v.clone(),
                        _ => {
                            as_sent[i] = as_sent[i] && reads_back_as_sent(&f.ty, &o);
                            let v = self.field_value(f, &o)?;
                            if matches!(f.ty, FieldType::DateTime | FieldType::Date)
                                && is_exact_datetime(&o)
                            {
                                last[k] = Some((o, v.clone()));
                            }
                            v
                        }
                    },
                    None => Value::Null(f.ty.value_type()),
                };
                if v.is_null() && f.auto_increment {
                    return Err(err(Error::InvalidQuery(format!(
                        "bulk insert of {}: set {} on every object or on none",
                        meta.name, f.name
                    ))));
                }
                row.push(v);
            }
            rows.push(row);
        }
        if rows.is_empty() {
            return Ok(Job::new(Op::Noop, Finish::Nothing));
        }
        if let Some((unique, update)) = conflict {
            let rows = rows
                .into_iter()
                .map(|r| {
                    fields
                        .iter()
                        .map(|&i| meta.fields[i].name.clone())
                        .zip(r)
                        .collect()
                })
                .collect();
            let up = chakra_dsl::upsert_rows(meta, rows, &unique, &update).map_err(err)?;
            let finish = if update.is_empty() {
                Finish::Nothing
            } else {
                // A conflicting row comes back as it is in the table: every field written.
                Finish::Created(
                    self.info.clone(),
                    objs.into_iter().map(|o| o.unbind()).collect(),
                    (0..meta.fields.len()).collect(),
                )
            };
            return Ok(Job::new(
                Op::Fetch(target_of(target)?, Statement::Upsert(up)),
                finish,
            ));
        }
        let mut ins = chakra_dsl::insert_field_rows(meta, &fields, rows).map_err(err)?;
        if !return_ids {
            ins.returning.clear();
            return Ok(Job::new(
                Op::Execute(target_of(target)?, Statement::Insert(ins)),
                Finish::Nothing,
            ));
        }
        // Only the key and the fields the objects do not already hold as stored come back
        // (less to return, decode and convert); the key always does, so every object is
        // marked saved.
        let back: Vec<usize> = (0..meta.fields.len())
            .filter(|&i| !as_sent[i] || meta.fields[i].primary_key)
            .collect();
        ins.returning = back.iter().map(|&i| ins.returning[i].clone()).collect();
        Ok(Job::new(
            Op::Fetch(target_of(target)?, Statement::Insert(ins)),
            Finish::Created(
                self.info.clone(),
                objs.into_iter().map(|o| o.unbind()).collect(),
                back,
            ),
        ))
    }
}
