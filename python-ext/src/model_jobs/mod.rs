//! The methods of [`ModelHandle`] Python calls, one `#[pymethods]` block (its small accessors,
//! and each job builder delegating to the module of its job), and the job builders:
//!
//! - [`values`]: the value conversions and checks the builders share.
//! - [`insert`]: `insert_job` (INSERT, upsert).
//! - [`by_key`]: `update_job`, `bulk_update_job`, `delete_pk_job`, `get_pk_job`.
//! - [`related`]: `related_query`, `links_job`, `fetch_related_job`.
//! - [`tracked`]: `tracked_updates_job`, a session's compare-and-set UPDATEs.

mod by_key;
mod insert;
mod related;
mod tracked;
pub(crate) mod values;

pub use tracked::tracked_updates_job;

use crate::convert::to_py;
use crate::errors::to_py as err;
use crate::job::Job;
use crate::model::ModelHandle;
use chakra_dsl::relations::find_relation;
use chakra_dsl::{Error, ModelQuery};
use pyo3::prelude::*;

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

    /// The primary-key field name of a model keyed by one field; `None` without a key or
    /// with a composite one (see `pk_names`).
    fn pk_name(&self) -> Option<String> {
        self.info.meta.primary_key().map(|f| f.name.clone())
    }

    /// Every primary-key field name, in declared order (several for a composite key).
    fn pk_names(&self) -> Vec<String> {
        self.info
            .meta
            .primary_key_fields()
            .iter()
            .map(|f| f.name.clone())
            .collect()
    }

    /// A readable dump of the registered metadata (for debugging and tests).
    fn describe(&self) -> String {
        format!("{:#?}", self.info.meta)
    }

    /// The query over every row (one object per model, made on first use: queries are
    /// immutable, each narrowing makes a new one).
    fn query(&self, py: Python<'_>) -> PyResult<Py<crate::query::Query>> {
        if let Some(q) = self.all.get() {
            return Ok(q.clone_ref(py));
        }
        let q = Py::new(
            py,
            crate::query::Query::new(self.info.clone(), ModelQuery::new(self.info.meta.clone())),
        )?;
        Ok(self.all.get_or_init(|| q).clone_ref(py))
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
        self.build_insert(target, objs, conflict, return_ids)
    }

    /// `bulk_update(objs, fields)`: each object's `fields` written by primary key in one
    /// statement; returns the number of rows updated.
    fn bulk_update_job(
        &self,
        target: &Bound<'_, PyAny>,
        objs: Vec<Bound<'_, PyAny>>,
        fields: Vec<String>,
    ) -> PyResult<Job> {
        self.build_bulk_update(target, objs, fields)
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
        self.build_update(target, obj, fields)
    }

    /// `DELETE … WHERE pk = value`.
    fn delete_pk_job(&self, target: &Bound<'_, PyAny>, pk: &Bound<'_, PyAny>) -> PyResult<Job> {
        self.build_delete_pk(target, pk)
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
        self.build_get_pk(target, pk, for_update)
    }

    /// The query over the rows related to `obj` through relation `name` (explicit
    /// loading: `await user.posts.all()`, `user.posts.filter(...)`).
    fn related_query(&self, obj: &Bound<'_, PyAny>, name: &str) -> PyResult<crate::query::Query> {
        self.build_related_query(obj, name)
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
        self.build_links(target, obj, name, op, objs)
    }

    /// Loads relation paths (`"author"`, `"comments__commenter"`) onto `obj` with one
    /// statement per level (`await post.fetch_related(...)`).
    fn fetch_related_job(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        paths: Vec<String>,
    ) -> PyResult<Job> {
        self.build_fetch_related(target, obj, paths)
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
