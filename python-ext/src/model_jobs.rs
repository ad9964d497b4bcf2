//! The methods of [`ModelHandle`] Python calls: the job builders (insert, update, delete,
//! get by key, many-to-many links, fetch_related, tracked updates) and the value checks they
//! share, plus the handle's small accessors.

use crate::convert::{from_py, to_py};
use crate::errors::to_py as err;
use crate::hydrate::{reads_back_as_sent, Mode, Tree};
use crate::job::{Finish, Job, LinkOp, Op};
use crate::model::ModelHandle;
use crate::session::target_of;
use chakra_dsl::relations::explicit::related_filter;
use chakra_dsl::relations::{find_relation, resolve_relation, Link};
use chakra_dsl::{
    pk_filter, DefaultValue, Error, FieldMeta, FieldType, LoadPlan, LoadSpec, ModelQuery,
    PrefetchSpec, Statement, Value,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyDict;

impl ModelHandle {
    fn bad(
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
    fn key_of(&self, obj: &Bound<'_, PyAny>, f: &FieldMeta, what: &str) -> PyResult<Value> {
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

    /// A tracked object's guarded UPDATE of the fields `names` (each only if the row still
    /// holds the value in `read`, and the version field, if any, too), and how its
    /// affected-row count is finished.
    fn guarded_update(
        &self,
        obj: &Bound<'_, PyAny>,
        names: &[String],
        read: &Bound<'_, PyDict>,
    ) -> PyResult<(chakra_dsl::Statement, Finish)> {
        let meta = &self.info.meta;
        let (d, key) = self.saved_key(obj)?;
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
            chakra_dsl::tracked::guarded_update(meta, key.clone(), &changes, version_read)
                .map_err(err)?;
        Ok((
            stmt,
            Finish::Guarded {
                model: meta.name.clone(),
                table: meta.table.clone(),
                key,
                new_version,
            },
        ))
    }

    /// An object's `__dict__` and its primary-key value, or an error naming the model when
    /// it has no key value yet (an UPDATE needs a saved row).
    fn saved_key<'py>(&self, obj: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyDict>, Value)> {
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

    fn pk_value(&self, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        let pk = self.info.meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "{} has no primary key",
                self.info.meta.name
            )))
        })?;
        self.field_value(pk, obj)
    }
}

#[pymethods]
impl ModelHandle {
    /// Model name.
    #[getter]
    fn name(&self) -> &str {
        &self.info.meta.name
    }

    /// Table name.
    #[getter]
    fn table(&self) -> &str {
        &self.info.meta.table
    }

    /// The migrations app a new table goes to (`__app__`), if declared.
    #[getter]
    fn app(&self) -> Option<&str> {
        self.info.meta.app.as_deref()
    }

    /// Field names in declaration order.
    fn field_names(&self) -> Vec<String> {
        self.info
            .meta
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect()
    }

    /// The fields a write sets to the current time (`auto_now`, and `auto_now_add` when
    /// `inserting`), with the value: one instant computed by the core for all of them.
    fn auto_now_values<'py>(
        &self,
        py: Python<'py>,
        inserting: bool,
    ) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        let meta = &self.info.meta;
        meta.auto_now_values(inserting)
            .into_iter()
            .map(|(i, v)| Ok((meta.fields[i].name.clone(), to_py::value(py, &v)?)))
            .collect()
    }

    /// The primary-key field name, if any.
    fn pk_name(&self) -> Option<String> {
        self.info.meta.primary_key().map(|f| f.name.clone())
    }

    /// A readable dump of the registered metadata (for debugging and tests).
    fn describe(&self) -> String {
        format!("{:#?}", self.info.meta)
    }

    /// A new query over every row.
    fn query(&self) -> crate::query::Query {
        crate::query::Query::new(self.info.clone(), ModelQuery::new(self.info.meta.clone()))
    }

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
    #[pyo3(signature = (target, objs, conflict=None, return_ids=true))]
    fn insert_job(
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
            let all_none = dicts.iter().try_fold(true, |acc, d| -> PyResult<bool> {
                Ok(acc
                    && d.get_item(self.info.names[i].bind(py))?
                        .is_none_or(|v| v.is_none()))
            })?;
            use_field.push(!(db_fills && all_none));
        }
        let fields: Vec<usize> = (0..meta.fields.len()).filter(|&i| use_field[i]).collect();
        // Per field: every object held a value that reads back as the same Python object
        // (see `reads_back_as_sent`), so the inserted row need not be written back to it.
        let mut as_sent: Vec<bool> = use_field.clone();
        let mut rows = Vec::with_capacity(dicts.len());
        for d in &dicts {
            let mut row = Vec::with_capacity(fields.len());
            for &i in &fields {
                let f = &meta.fields[i];
                let v = match d.get_item(self.info.names[i].bind(py))? {
                    Some(o) => {
                        as_sent[i] = as_sent[i] && reads_back_as_sent(&f.ty, &o);
                        self.field_value(f, &o)?
                    }
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

    /// `bulk_update(objs, fields)`: each object's `fields` written by primary key in one
    /// statement; returns the number of rows updated.
    fn bulk_update_job(
        &self,
        target: &Bound<'_, PyAny>,
        objs: Vec<Bound<'_, PyAny>>,
        fields: Vec<String>,
    ) -> PyResult<Job> {
        let py = target.py();
        let meta = &self.info.meta;
        let pk = meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "bulk_update() on {} needs a primary key",
                meta.name
            )))
        })?;
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
            let key = value_of(o, pk)?;
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
    #[pyo3(signature = (target, obj, fields=None))]
    fn update_job(
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
        let q = ModelQuery::new(meta.clone()).filter(pk_filter(meta, key).map_err(err)?);
        let stmt = q.update(sets).map_err(err)?;
        Ok(Job::new(
            Op::Execute(target_of(target)?, stmt),
            Finish::RowCount,
        ))
    }

    /// `DELETE … WHERE pk = value`.
    fn delete_pk_job(&self, target: &Bound<'_, PyAny>, pk: &Bound<'_, PyAny>) -> PyResult<Job> {
        let meta = &self.info.meta;
        let q =
            ModelQuery::new(meta.clone()).filter(pk_filter(meta, self.pk_value(pk)?).map_err(err)?);
        Ok(Job::new(
            crate::job::delete_op(target_of(target)?, &q).map_err(err)?,
            Finish::RowCount,
        ))
    }

    /// The row with this primary key, or `None`; locked until the transaction ends with
    /// `for_update` (`SELECT … FOR UPDATE` on PostgreSQL).
    #[pyo3(signature = (target, pk, for_update=false))]
    fn get_pk_job(
        &self,
        target: &Bound<'_, PyAny>,
        pk: &Bound<'_, PyAny>,
        for_update: bool,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let q = ModelQuery::new(meta.clone())
            .filter(pk_filter(meta, self.pk_value(pk)?).map_err(err)?)
            .lock(for_update.then(chakra_dsl::RowLock::update));
        Ok(Job::new(
            Op::Fetch(target_of(target)?, Statement::Select(q.select())),
            Finish::First(self.info.clone()),
        ))
    }

    /// The query over the rows related to `obj` through relation `name` (explicit
    /// loading: `await user.posts.all()`, `user.posts.filter(...)`).
    fn related_query(&self, obj: &Bound<'_, PyAny>, name: &str) -> PyResult<crate::query::Query> {
        let models = crate::registry::snapshot();
        let rel = resolve_relation(&models, &self.info.meta, name).map_err(err)?;
        let key = self.key_of(obj, rel.source_key(), name)?;
        let target = models.info(&rel.target.name).cloned().ok_or_else(|| {
            err(Error::UnknownModel {
                model: rel.target.name.clone(),
                referenced_by: rel.display(),
            })
        })?;
        let mut mq = ModelQuery::new(rel.target.clone()).filter(related_filter(&rel, key));
        // The target's default ordering, else primary-key order, as prefetch_related gives
        // them (order_by() replaces either).
        if let (Some(pk), true) = (rel.target.primary_key(), mq.order_by.is_empty()) {
            mq = mq.order_by(chakra_dsl::field_expr(&rel.target, pk), false);
        }
        Ok(crate::query::Query::new(target, mq))
    }

    /// Changes the many-to-many links of `obj` through relation `name`: `op` is `"add"`,
    /// `"remove"`, `"clear"` or `"set"`, `objs` the related objects (or their keys).
    /// Returns the number of join rows written or deleted.
    fn links_job(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        name: &str,
        op: &str,
        objs: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<Job> {
        let py = obj.py();
        let models = crate::registry::snapshot();
        let rel = resolve_relation(&models, &self.info.meta, name).map_err(err)?;
        let Link::Through { target_key, .. } = &rel.link else {
            return Err(err(Error::InvalidRelation {
                model: self.info.meta.name.clone(),
                relation: name.to_owned(),
                reason: format!(
                    "{op}() works on many-to-many relations; set the foreign key on the \
                     related object instead"
                ),
            }));
        };
        let key = self.key_of(obj, rel.source_key(), name)?;
        let mut values = Vec::with_capacity(objs.len());
        for o in &objs {
            let k = match o.getattr(intern!(py, "__chakra__")) {
                Ok(_) => o.getattr(intern!(py, "pk"))?,
                Err(_) => o.clone(),
            };
            if k.is_none() {
                return Err(self.bad(
                    name,
                    o,
                    &target_key.ty,
                    format!(
                        "the {} has no primary key yet (save it first)",
                        rel.target.name
                    ),
                ));
            }
            values.push(
                from_py::value(&k, &target_key.ty.value_type())
                    .map_err(|r| self.bad(name, o, &target_key.ty, r))?,
            );
        }
        let op = match op {
            "add" => LinkOp::Add(values),
            "remove" => LinkOp::Remove(values),
            "clear" => LinkOp::Clear,
            "set" => LinkOp::Set(values),
            other => {
                return Err(err(Error::InvalidQuery(format!(
                    "unknown link operation {other:?}"
                ))))
            }
        };
        Ok(Job::new(
            Op::Links(target_of(target)?, Box::new(rel), key, op),
            Finish::RowCount,
        ))
    }

    /// Loads relation paths (`"author"`, `"comments__commenter"`) onto `obj` with one
    /// statement per level (`await post.fetch_related(...)`).
    fn fetch_related_job(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        paths: Vec<String>,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let pk = meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "{} has no primary key",
                meta.name
            )))
        })?;
        let key = self.key_of(obj, pk, "fetch_related")?;
        let mq = ModelQuery::new(meta.clone()).filter(pk_filter(meta, key).map_err(err)?);
        let spec = LoadSpec {
            select_related: Vec::new(),
            prefetch: paths.into_iter().map(PrefetchSpec::new).collect(),
        };
        let models = crate::registry::snapshot();
        let plan = LoadPlan::build(&models, &mq, &spec).map_err(err)?;
        Ok(Job::new(
            Op::Load(target_of(target)?, Box::new(plan)),
            Finish::Tree(Tree {
                root: self.info.clone(),
                models,
                mode: Mode::Onto(obj.clone().unbind()),
                annotations: Vec::new(),
            }),
        ))
    }

    /// The `chakra.errors.NotLoaded` exception for relation `relation` of this model (to
    /// raise).
    fn not_loaded(&self, py: Python<'_>, relation: &str) -> Py<PyAny> {
        let models = crate::registry::snapshot();
        let model = find_relation(&models, &self.info.meta, relation)
            .map(|r| r.target)
            .unwrap_or_else(|| "?".into());
        let e = Error::NotLoaded {
            owner: self.info.meta.name.clone(),
            relation: relation.to_owned(),
            model,
        };
        crate::errors::to_py_in(py, &e, None)
            .into_value(py)
            .into_any()
    }

    /// Converts `value` for field `name` (checks it; used by `Model.__init__` callers and
    /// tests). Returns the value as it would read back.
    fn check(&self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let f = self.info.meta.require_field(name).map_err(err)?;
        let v = self.field_value(f, value)?;
        chakra_dsl::check_value(&self.info.meta, f, &v).map_err(err)?;
        Ok(to_py::value(py, &v)?.unbind())
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
