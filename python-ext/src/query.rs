//! [`Query`]: the immutable query state behind a Python `QuerySet` (filters, ordering,
//! slicing), over the shared [`ModelQuery`]. Every method that narrows the query parses and
//! checks its arguments at once, so a bad field or value fails before any SQL runs.

use crate::errors::to_py as err;
use crate::filters;
use crate::hydrate::{Mode, Tree};
use crate::job::{Finish, Job, Op, Shape};
use crate::model::ModelInfo;
use crate::registry;
use crate::session::target_of;
use chakra_dsl::lookup::resolve_field;
use chakra_dsl::{field_expr, Error, LoadPlan, LoadSpec, ModelQuery, PrefetchSpec, Statement};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::sync::Arc;

/// One aggregate as the Python package passes it: `(alias, function, field or None,
/// distinct, filter Q or None)`.
type AggItem<'py> = (
    String,
    String,
    Option<String>,
    bool,
    Option<Bound<'py, PyAny>>,
);

/// A dialect by name (`chakra::Dialect`'s `FromStr`: `postgres`, `postgresql`, `pg`,
/// `sqlite`, `sqlite3`, `mysql`, `mariadb`, any case); an unknown name is a `ConfigError`
/// listing them.
pub(crate) fn dialect_of(dialect: &str) -> PyResult<chakra::Dialect> {
    dialect.parse().map_err(err)
}

/// Query state over one model (Python: `chakra._chakra.Query`).
#[pyclass(frozen, module = "chakra._chakra")]
pub struct Query {
    info: Arc<ModelInfo>,
    pub(crate) mq: ModelQuery,
    load: LoadSpec,
    /// Fields left unloaded (`only` / `defer`), as indices into the model's fields.
    deferred: Arc<[usize]>,
}

impl Query {
    /// The op of [`Query::pk_get_job`], or `None` when the get does not qualify.
    fn pk_get_op(
        &self,
        target: &Bound<'_, PyAny>,
        name: &str,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Option<Op>> {
        let meta = &self.info.meta;
        let Some(pk) = meta.primary_key() else {
            return Ok(None);
        };
        let ModelQuery {
            meta: _,
            filter,
            annotations,
            group_by,
            having,
            order_by,
            limit,
            offset,
            distinct,
            distinct_on,
            lock,
            related_filters: _,
            path_joins,
            default_order,
            compound,
        } = &self.mq;
        let plain = filter.is_none()
            && annotations.is_empty()
            && group_by.is_empty()
            && having.is_none()
            && (order_by.is_empty() || *default_order)
            && limit.is_none()
            && offset.is_none()
            && !distinct
            && distinct_on.is_empty()
            && lock.is_none()
            && path_joins.is_empty()
            && compound.is_empty()
            && self.load.is_empty()
            && self.deferred.is_empty();
        if !plain || (name != "pk" && name != pk.name) {
            return Ok(None);
        }
        let key = match crate::convert::from_py::value(value, &pk.ty.value_type()) {
            Ok(k) if !k.is_null() => k,
            _ => return Ok(None),
        };
        Ok(Some(Op::GetByPk(
            target_of(target)?,
            self.info.static_meta(),
            key,
        )))
    }

    /// A query over `info`'s model.
    pub fn new(info: Arc<ModelInfo>, mq: ModelQuery) -> Query {
        Query {
            info,
            mq,
            load: LoadSpec::default(),
            deferred: Arc::new([]),
        }
    }

    fn with(&self, mq: ModelQuery) -> Query {
        Query {
            info: self.info.clone(),
            mq,
            load: self.load.clone(),
            deferred: self.deferred.clone(),
        }
    }

    /// The job fetching `mq`'s rows: one statement, or the load plan when relations are to
    /// be loaded eagerly.
    fn rows_job(
        &self,
        target: &Bound<'_, PyAny>,
        mq: ModelQuery,
        finish: Finish,
        mode: Mode,
    ) -> PyResult<Job> {
        if self.load.is_empty() {
            let mut select = mq.select();
            chakra_dsl::deferred::apply(&mut select, &self.info.meta, &self.deferred);
            return Ok(Job::new(
                Op::Fetch(target_of(target)?, Statement::Select(select)),
                self.deferring(target.py(), finish),
            ));
        }
        // The annotations follow the fields in the queried model's rows of the tree.
        let annotations = mq
            .annotations
            .iter()
            .map(|(n, _)| PyString::intern(target.py(), n).unbind())
            .collect();
        let models = registry::snapshot();
        let plan = LoadPlan::build(&models, &mq, &self.load).map_err(err)?;
        Ok(Job::new(
            Op::Load(target_of(target)?, Box::new(plan)),
            Finish::Tree(Tree {
                root: self.info.clone(),
                models,
                mode,
                annotations,
            }),
        ))
    }

    /// The aggregate statement of `items`: `(alias, function, field or None, distinct,
    /// filter Q or None)` each; checked before any SQL.
    fn aggregate_statement(&self, items: Vec<AggItem<'_>>) -> PyResult<(Statement, Vec<String>)> {
        let mut out = Vec::with_capacity(items.len());
        let mut names = Vec::with_capacity(items.len());
        for (name, func, field, distinct, filter) in items {
            let func = chakra_dsl::aggregate::parse_func(&func).map_err(err)?;
            let models = registry::snapshot();
            let filter = match filter {
                Some(q) if !q.is_none() => Some(filters::q_node(&models, &self.info, &q)?),
                _ => None,
            };
            // `Sum("books__pages")`: per row, then over every row (Django's path form).
            let path = match field.as_deref() {
                Some(f) => self
                    .mq
                    .path_aggregate(&models, func, f, distinct, filter.as_ref(), Some(true))
                    .map_err(err)?,
                None => None,
            };
            let e = match path {
                Some(e) => e,
                None => self
                    .mq
                    .aggregate_expr(func, field.as_deref(), distinct, filter.map(|q| q.lower()))
                    .map_err(err)?,
            };
            names.push(name.clone());
            out.push((name, e));
        }
        Ok((self.mq.aggregate(out).map_err(err)?, names))
    }

    /// `finish`, then the deferred fields taken off the instances it built (reading one
    /// raises `NotLoaded`).
    pub(crate) fn deferring(&self, py: Python<'_>, finish: Finish) -> Finish {
        if self.deferred.is_empty() {
            return finish;
        }
        let names = self
            .deferred
            .iter()
            .map(|&i| PyString::intern(py, &self.info.meta.fields[i].name).unbind())
            .collect();
        Finish::Deferred(Box::new(finish), names)
    }

    /// Checks the load spec against the registered models (before any I/O).
    fn with_load(&self, load: LoadSpec) -> PyResult<Query> {
        LoadPlan::build(&registry::snapshot(), &self.mq, &load).map_err(err)?;
        if !self.deferred.is_empty() {
            return Err(deferred_with_loads(&self.info.meta.name));
        }
        Ok(Query {
            info: self.info.clone(),
            mq: self.mq.clone(),
            load,
            deferred: self.deferred.clone(),
        })
    }
}

/// `InvalidQuery` for deferred fields combined with relation loading.
fn deferred_with_loads(model: &str) -> PyErr {
    err(Error::InvalidQuery(format!(
        "only()/defer() on {model} cannot be combined with select_related()/prefetch_related() yet"
    )))
}

impl Query {
    /// The query `values(names)` reads and the names to select: fields by attribute name,
    /// annotations, and relation paths (`author__name` as a scalar subquery, `books__title`
    /// joined: see `ModelQuery::path_value`) added as annotations under their path.
    fn values_query(&self, names: &[String]) -> PyResult<(ModelQuery, Vec<String>)> {
        let meta = &self.info.meta;
        let mut resolved = Vec::with_capacity(names.len());
        let mut mq = self.mq.clone();
        let models = registry::snapshot();
        for n in names {
            if self.mq.annotation(n).is_some() {
                resolved.push(n.clone());
                continue;
            }
            match resolve_field(meta, n) {
                Ok(f) => resolved.push(f.name.clone()),
                // `author__name`: a value across relations to one row, selected under its
                // path (validated as an identifier by the compiler); `books__title`: the
                // row once per book, joined.
                Err(e)
                    if n.contains("__")
                        || chakra_dsl::relations::find_relation(&models, meta, n).is_some() =>
                {
                    let v = match mq.path_value(&models, n, true) {
                        Ok(v) => v,
                        Err(Error::InvalidQuery(m)) if m.contains("relation to many") => {
                            return Err(err(Error::InvalidQuery(m)))
                        }
                        Err(_) => return Err(err(e)),
                    };
                    mq.annotations.push((n.clone(), v));
                    resolved.push(n.clone());
                }
                Err(e) => return Err(err(e)),
            }
        }
        Ok((mq, resolved))
    }

    /// The names `values()` selects: `fields`, or every field then every annotation.
    fn value_names(&self, fields: Vec<String>) -> Vec<String> {
        if !fields.is_empty() {
            return fields;
        }
        self.info
            .meta
            .fields
            .iter()
            .map(|f| f.name.clone())
            .chain(self.mq.annotations.iter().map(|(n, _)| n.clone()))
            .collect()
    }

    /// Refuses `what` on a combined query (`union`/`intersection`/`difference`): it could
    /// only apply to the first member, as Django refuses it too.
    fn not_combined(&self, what: &str) -> PyResult<()> {
        if self.mq.compound.is_empty() {
            return Ok(());
        }
        Err(err(Error::InvalidQuery(format!(
            "{what}() on a combined {} query (union/intersection/difference): only ordering, \
             slicing, counting and fetching apply to it; {what}() each queryset before \
             combining them",
            self.info.meta.name
        ))))
    }

    /// This query lowered as a member of a compound select: every field (model rows), or the
    /// `values()` names `fields` (`Some`, empty meaning every field).
    fn member(&self, fields: Option<Vec<String>>, what: &str) -> PyResult<chakra_dsl::Select> {
        match fields {
            Some(f) => {
                let names = self.value_names(f);
                let (mq, resolved) = self.values_query(&names)?;
                let refs: Vec<&str> = resolved.iter().map(String::as_str).collect();
                mq.member_select(Some(&refs)).map_err(err)
            }
            None => {
                if !self.load.is_empty() || !self.deferred.is_empty() {
                    return Err(err(Error::InvalidQuery(format!(
                        "{what} of a {} queryset loading relations or deferring fields \
                         (select_related/prefetch_related/only/defer)",
                        self.info.meta.name
                    ))));
                }
                self.mq.member_select(None).map_err(err)
            }
        }
    }

    /// The SELECT fetching this query's rows: `values()` fields when given, else every
    /// field (with eager loads, the load plan's main statement).
    fn rows_select(&self, fields: Option<Vec<String>>) -> PyResult<chakra_dsl::Select> {
        match fields {
            Some(f) => {
                let names = self.value_names(f);
                let (mq, resolved) = self.values_query(&names)?;
                let refs: Vec<&str> = resolved.iter().map(String::as_str).collect();
                mq.select_fields(&refs).map_err(err)
            }
            None if !self.load.is_empty() => {
                Ok(LoadPlan::build(&registry::snapshot(), &self.mq, &self.load)
                    .map_err(err)?
                    .select)
            }
            None => Ok(self.mq.select()),
        }
    }

    fn with_deferred(&self, deferred: Vec<usize>) -> PyResult<Query> {
        if !self.load.is_empty() && !deferred.is_empty() {
            return Err(deferred_with_loads(&self.info.meta.name));
        }
        Ok(Query {
            info: self.info.clone(),
            mq: self.mq.clone(),
            load: self.load.clone(),
            deferred: deferred.into(),
        })
    }
}

#[pymethods]
impl Query {
    /// This query's rows combined with `other`'s: `op` is `"union"`, `"intersection"` or
    /// `"difference"`, `all` keeps duplicates (`UNION ALL`). `fields` / `other_fields` are
    /// the `values()` names of each side (`None` for model rows, then both sides must be
    /// the same model). Orderings of both are dropped; slices are refused.
    #[pyo3(signature = (op, all, other, fields=None, other_fields=None))]
    fn combine(
        &self,
        op: &str,
        all: bool,
        other: &Query,
        fields: Option<Vec<String>>,
        other_fields: Option<Vec<String>>,
    ) -> PyResult<Query> {
        let set_op = match op {
            "union" => chakra_dsl::SetOp::Union,
            "intersection" => chakra_dsl::SetOp::Intersect,
            "difference" => chakra_dsl::SetOp::Except,
            other => {
                return Err(err(Error::InvalidQuery(format!(
                    "unknown set operation {other:?}"
                ))))
            }
        };
        if fields.is_none() {
            if other_fields.is_some() || other.info.meta.name != self.info.meta.name {
                return Err(err(Error::InvalidQuery(format!(
                    "{op}() of {} rows with {} rows: combine values()/values_list() \
                     querysets of the same shape instead",
                    self.info.meta.name, other.info.meta.name
                ))));
            }
            // Checks the first member as the others (no loads, no deferred fields).
            self.member(None, op)?;
        }
        let member = other.member(other_fields, op)?;
        let mq = self.mq.clone().combine(set_op, all, member).map_err(err)?;
        Ok(self.with(mq))
    }

    /// Whether this query is combined (`union`/`intersection`/`difference`).
    fn combined(&self) -> bool {
        !self.mq.compound.is_empty()
    }

    /// The job reading the database's plan (PostgreSQL `EXPLAIN`, SQLite `EXPLAIN QUERY
    /// PLAN`) of the statement this query's rows are read with (`fields`: after
    /// `values()`); finished as a one-element list holding the plan text.
    #[pyo3(signature = (target, fields=None))]
    fn explain_job(&self, target: &Bound<'_, PyAny>, fields: Option<Vec<String>>) -> PyResult<Job> {
        let select = self.rows_select(fields)?;
        Ok(Job::new(
            Op::Explain(target_of(target)?, Statement::Select(select)),
            Finish::Values(Shape::Flat),
        ))
    }

    /// ANDs in the condition of a `chakra.Q` tree.
    fn filter(&self, q: &Bound<'_, PyAny>) -> PyResult<Query> {
        self.not_combined("filter")?;
        if self.mq.annotations.is_empty() {
            let node = filters::q_node(&registry::snapshot(), &self.info, q)?;
            let mq = self
                .mq
                .clone()
                .remember_related(&node)
                .filter(node.lower_filter());
            return Ok(self.with(mq));
        }
        // Lookups may name annotations; conditions over aggregates become HAVING.
        let meta = self.mq.annotated_meta();
        let node = filters::q_node_in(&registry::snapshot(), &meta, q)?;
        Ok(self.with(self.mq.clone().filter_annotated(node.lower_filter())))
    }

    /// Replaces the ordering: field names, `-` for descending (`"-created_at"`), `pk`
    /// for the primary key.
    fn order_by(&self, specs: Vec<String>) -> PyResult<Query> {
        let models = registry::snapshot();
        let mut mq = self.mq.clone();
        mq.clear_order();
        for spec in specs {
            let (name, desc) = match spec.strip_prefix('-') {
                Some(n) => (n, true),
                None => (spec.as_str(), false),
            };
            if let Some(e) = self.mq.annotation(name) {
                mq = mq.order_by(e.clone(), desc);
                continue;
            }
            // `author__name`: the related row's value (NULL, placed as NULLs are, when
            // there is none: Django's LEFT JOIN); `books__title`: the row once per book,
            // joined (see `chakra_dsl::relations::joined`).
            let e = mq.path_value(&models, name, false).map_err(err)?;
            mq = mq.order_by(e, desc);
        }
        Ok(self.with(mq))
    }

    /// Ordering by primary key unless the query is already ordered (for `first()`).
    fn ordered_by_pk(&self) -> Query {
        if !self.mq.order_by.is_empty() {
            return self.with(self.mq.clone());
        }
        // Every key field, in declared order (a composite key orders by each).
        let mut mq = self.mq.clone();
        for pk in self.info.meta.primary_key_fields() {
            mq = mq.order_by(field_expr(&self.info.meta, pk), false);
        }
        self.with(mq)
    }

    /// The ordering reversed (for `last()`).
    fn reversed(&self) -> Query {
        let mut mq = self.ordered_by_pk().mq.clone();
        for o in &mut mq.order_by {
            o.desc = !o.desc;
        }
        self.with(mq)
    }

    /// Sets `LIMIT` (`None` removes it).
    #[pyo3(signature = (n))]
    fn limit(&self, n: Option<u64>) -> Query {
        let mut mq = self.mq.clone();
        mq.limit = n;
        self.with(mq)
    }

    /// Sets `OFFSET` (`None` removes it).
    #[pyo3(signature = (n))]
    fn offset(&self, n: Option<u64>) -> Query {
        let mut mq = self.mq.clone();
        mq.offset = n;
        self.with(mq)
    }

    /// `SELECT DISTINCT`; with field names, PostgreSQL's `DISTINCT ON (…)` over them (the
    /// compiler refuses it on SQLite, and an ordering that does not start with them).
    #[pyo3(signature = (fields=Vec::new()))]
    fn distinct(&self, fields: Vec<String>) -> PyResult<Query> {
        self.not_combined("distinct")?;
        let mut mq = self.mq.clone();
        if fields.is_empty() {
            mq.distinct = true;
        } else {
            mq.distinct_on = fields
                .iter()
                .map(|name| {
                    resolve_field(&self.info.meta, name).map(|f| field_expr(&self.info.meta, f))
                })
                .collect::<chakra_dsl::Result<_>>()
                .map_err(err)?;
        }
        Ok(self.with(mq))
    }

    /// `SELECT … FOR UPDATE [OF …] [NOWAIT | SKIP LOCKED]` (nothing on SQLite, whose
    /// transactions are serialised anyway). `of` names tables.
    #[pyo3(signature = (nowait=false, skip_locked=false, of=Vec::new()))]
    fn for_update(&self, nowait: bool, skip_locked: bool, of: Vec<String>) -> PyResult<Query> {
        self.not_combined("select_for_update")?;
        if nowait && skip_locked {
            return Err(crate::errors::to_py(chakra_dsl::Error::InvalidQuery(
                "select_for_update(): nowait and skip_locked cannot both be set".into(),
            )));
        }
        for t in &of {
            chakra_dsl::ident::validate(t).map_err(crate::errors::to_py)?;
        }
        let mut mq = self.mq.clone();
        mq.lock = Some(chakra_dsl::RowLock {
            strength: chakra_dsl::LockStrength::Update,
            wait: if nowait {
                chakra_dsl::LockWait::NoWait
            } else if skip_locked {
                chakra_dsl::LockWait::SkipLocked
            } else {
                chakra_dsl::LockWait::Wait
            },
            of,
        });
        Ok(self.with(mq))
    }

    /// A chunked read of the query's model rows, `chunk_size` per statement
    /// (`QuerySet.iterator`); relations to load are refused.
    fn chunks(&self, py: Python<'_>, chunk_size: u64) -> PyResult<crate::chunks::ChunkCursor> {
        self.not_combined("iterator")?;
        if !self.load.is_empty() {
            return Err(crate::chunks::unsupported(
                &self.info.meta.name,
                "select_related()/prefetch_related()",
            ));
        }
        let deferring = self.deferring(py, Finish::Nothing);
        crate::chunks::ChunkCursor::new(
            self.info.clone(),
            self.mq.clone(),
            chunk_size,
            self.deferred.clone(),
            match deferring {
                Finish::Deferred(_, names) => names,
                _ => Vec::new(),
            },
        )
    }

    /// Loads only these fields (and the primary key); the others are deferred: reading one
    /// on an instance raises `NotLoaded`. Replaces an earlier `only`/`defer`.
    fn only(&self, fields: Vec<String>) -> PyResult<Query> {
        self.not_combined("only")?;
        let deferred = chakra_dsl::deferred::only(&self.info.meta, &fields).map_err(err)?;
        self.with_deferred(deferred)
    }

    /// Defers these fields too (the primary key is always loaded).
    fn defer(&self, fields: Vec<String>) -> PyResult<Query> {
        self.not_combined("defer")?;
        let deferred =
            chakra_dsl::deferred::defer(&self.info.meta, &self.deferred, &fields).map_err(err)?;
        self.with_deferred(deferred)
    }

    /// True when relations are loaded eagerly (`select_related` / `prefetch_related`).
    #[getter]
    fn loads_relations(&self) -> bool {
        !self.load.is_empty()
    }

    /// True when the query locks its rows (`for_update`).
    #[getter]
    fn locked(&self) -> bool {
        self.mq.lock.is_some()
    }

    /// The model class of the rows.
    #[getter]
    fn model(&self, py: Python<'_>) -> Py<pyo3::types::PyType> {
        self.info.cls.clone_ref(py)
    }

    /// The current `LIMIT`.
    #[getter]
    fn limit_value(&self) -> Option<u64> {
        self.mq.limit
    }

    /// The current `OFFSET`.
    #[getter]
    fn offset_value(&self) -> Option<u64> {
        self.mq.offset
    }

    /// The filter as IR (debug form), to compare front doors.
    fn ir(&self) -> String {
        format!("{:?}", self.mq.filter)
    }

    /// The SELECT as SQL for `dialect` (`"postgres"` / `"sqlite"`), placeholders included.
    /// Selects only `fields` when given (as `values()` does); with eager loads, the main
    /// statement (its joins), not the prefetch statements.
    #[pyo3(signature = (dialect, fields=None))]
    fn sql(&self, dialect: &str, fields: Option<Vec<String>>) -> PyResult<String> {
        let d = dialect_of(dialect)?;
        let select = match fields {
            // The select `values`/`values_list` runs (relation paths included).
            Some(f) if !f.is_empty() => {
                let (mq, resolved) = self.values_query(&f)?;
                let refs: Vec<&str> = resolved.iter().map(String::as_str).collect();
                mq.select_fields(&refs).map_err(err)?
            }
            // With select_related joins, the main statement of the load plan.
            _ if !self.load.is_empty() => {
                LoadPlan::build(&registry::snapshot(), &self.mq, &self.load)
                    .map_err(err)?
                    .select
            }
            _ => self.mq.select(),
        };
        Ok(chakra::compile(&Statement::Select(select), d)
            .map_err(err)?
            .sql())
    }

    /// Adds `select_related` paths (`"author__profile"`): single-valued relations joined
    /// into the one statement. Unknown relations and relations to many rows fail here.
    fn select_related(&self, paths: Vec<String>) -> PyResult<Query> {
        self.not_combined("select_related")?;
        let mut load = self.load.clone();
        for p in paths {
            if !load.select_related.contains(&p) {
                load.select_related.push(p);
            }
        }
        self.with_load(load)
    }

    /// Adds `prefetch_related` entries: `(path, query over the last hop's model or None,
    /// to_attr or None)`; one statement per level, run after the main one.
    fn prefetch_related(
        &self,
        specs: Vec<(String, Option<PyRef<'_, Query>>, Option<String>)>,
    ) -> PyResult<Query> {
        self.not_combined("prefetch_related")?;
        let mut load = self.load.clone();
        for (path, query, to_attr) in specs {
            let spec = PrefetchSpec {
                path,
                query: query.map(|q| q.mq.clone()),
                to_attr,
            };
            if !load.prefetch.contains(&spec) {
                load.prefetch.push(spec);
            }
        }
        self.with_load(load)
    }

    /// The `select_related` paths and prefetched paths, for `repr` and tests.
    fn load_paths(&self) -> (Vec<String>, Vec<String>) {
        (
            self.load.select_related.clone(),
            self.load.prefetch.iter().map(|p| p.path.clone()).collect(),
        )
    }

    /// The tables the query reads (its filters' relations, `select_related` joins and
    /// subqueries included): the check that a query stays on one database.
    fn tables(&self) -> PyResult<Vec<String>> {
        let select = if self.load.is_empty() {
            self.mq.select()
        } else {
            let models = registry::snapshot();
            LoadPlan::build(&models, &self.mq, &self.load)
                .map_err(err)?
                .select
        };
        Ok(chakra::databases::tables::tables_of_select(&select)
            .into_iter()
            .collect())
    }

    /// Every matching row as a model instance (with its eager loads).
    fn fetch_job(&self, target: &Bound<'_, PyAny>) -> PyResult<Job> {
        let finish = if self.mq.annotations.is_empty() {
            Finish::Models(self.info.clone())
        } else {
            let names = self
                .mq
                .annotations
                .iter()
                .map(|(n, _)| PyString::intern(target.py(), n).unbind())
                .collect();
            Finish::Annotated(self.info.clone(), names)
        };
        self.rows_job(target, self.mq.clone(), finish, Mode::All)
    }

    /// Exactly one row (at most 21 are read to tell "several" apart), else the model's
    /// `DoesNotExist` / `MultipleObjectsReturned` naming `detail`.
    fn get_job(&self, target: &Bound<'_, PyAny>, detail: String) -> PyResult<Job> {
        self.not_combined("get")?;
        let mut mq = self.mq.clone();
        if mq.limit.is_none() {
            mq.limit = Some(chakra_dsl::error::MAX_GET_RESULTS as u64);
        }
        let finish = Finish::Get(self.info.clone(), detail.clone());
        self.rows_job(target, mq, finish, Mode::Get(detail))
    }

    /// `get(pk=value)` (or the key field's name) on a query with nothing else to it (no
    /// filter, order, limit, annotation, lock, deferred field or related loading): the
    /// model's get-by-key statement from the core's statement-shape cache, so the lookup is
    /// neither parsed nor compiled again. `None` when the query, the name or the value does
    /// not qualify: the caller takes the general path (which also raises its errors).
    fn pk_get_job(
        &self,
        target: &Bound<'_, PyAny>,
        name: &str,
        value: &Bound<'_, PyAny>,
        detail: String,
    ) -> PyResult<Option<Job>> {
        Ok(self
            .pk_get_op(target, name, value)?
            .map(|op| Job::new(op, Finish::Get(self.info.clone(), detail))))
    }

    /// [`Query::pk_get_job`] run at once: `get(name=value)` in one call. With `block`, run
    /// to the end on this thread (`get_sync`); without, as an awaited `get` would
    /// ([`crate::bridge::start_inline`]): the instance when the op completed inline (SQLite),
    /// else a `Job` for the bridge. `NotImplemented` when the get does not qualify (the
    /// caller takes the general path). A missing row is the model's `DoesNotExist` naming
    /// `name=repr(value)`.
    fn pk_get_run(
        &self,
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        name: &Bound<'_, PyString>,
        value: &Bound<'_, PyAny>,
        block: bool,
    ) -> PyResult<Py<PyAny>> {
        let Some(op) = self.pk_get_op(target, name.to_str()?, value)? else {
            return Ok(py.NotImplemented());
        };
        let finish = Finish::GetKey(
            self.info.clone(),
            name.clone().unbind(),
            value.clone().unbind(),
        );
        if block {
            crate::statement_log::refresh(py);
            crate::job::run_now(py, op, finish)
        } else {
            crate::bridge::start_inline(py, op, finish)
        }
    }

    /// The first row or `None` (ordered by primary key unless ordered already).
    fn first_job(&self, target: &Bound<'_, PyAny>) -> PyResult<Job> {
        let mut mq = self.ordered_by_pk().mq.clone();
        mq.limit = Some(1);
        self.rows_job(target, mq, Finish::First(self.info.clone()), Mode::First)
    }

    /// `COUNT(*)` of the rows, or of the rows of `fields` only (after `values()`, so
    /// `distinct()` counts distinct values).
    #[pyo3(signature = (target, fields=None))]
    fn count_job(&self, target: &Bound<'_, PyAny>, fields: Option<Vec<String>>) -> PyResult<Job> {
        let stmt = match fields {
            Some(f) if !f.is_empty() => {
                let (mq, resolved) = self.values_query(&f)?;
                let refs: Vec<&str> = resolved.iter().map(String::as_str).collect();
                Statement::Count(mq.unordered().select_fields(&refs).map_err(err)?)
            }
            _ => self.mq.count(),
        };
        Ok(Job::new(
            Op::Fetch(target_of(target)?, stmt),
            Finish::Scalar,
        ))
    }

    /// Adds annotations: `(name, value)` pairs, the values aggregates (a relation, as in
    /// `Count("posts")`, is counted in a correlated subquery), `F` expressions, functions,
    /// `Cast`, `Case` or plain values; checked before any SQL.
    fn annotate(&self, items: Vec<(String, Bound<'_, PyAny>)>) -> PyResult<Query> {
        self.not_combined("annotate")?;
        let models = registry::snapshot();
        let mut mq = self.mq.clone();
        for (name, obj) in items {
            // `annotate(p=F("books__pages"))`: the row once per book, joined, as in Django.
            if let Some(path) = crate::annotations::field_name(&obj)? {
                if chakra_dsl::relations::joined::crosses_many(&models, &mq.meta, &path) {
                    let e = mq.path_value(&models, &path, true).map_err(err)?;
                    mq = mq.annotate(&name, e).map_err(err)?;
                    continue;
                }
            }
            let e = crate::annotations::convert(&models, &mq, &obj, None)?;
            mq = mq.annotate(&name, e).map_err(err)?;
        }
        Ok(self.with(mq))
    }

    /// Groups aggregate annotations by these fields (`values(...)` before `annotate`).
    fn group_by(&self, fields: Vec<String>) -> PyResult<Query> {
        self.not_combined("values/annotate grouping")?;
        let models = registry::snapshot();
        let mut mq = self.mq.clone();
        mq.group_by = fields
            .iter()
            .map(|f| chakra_dsl::lookup::field_ref(&models, &self.info.meta, f))
            .collect::<chakra_dsl::Result<_>>()
            .map_err(err)?;
        Ok(self.with(mq))
    }

    /// The annotation names, in order.
    fn annotation_names(&self) -> Vec<String> {
        self.mq.annotations.iter().map(|(n, _)| n.clone()).collect()
    }

    /// One row of aggregates as a dict (`aggregate(n=Count("id"))`).
    fn aggregate_job(
        &self,
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        items: Vec<AggItem<'_>>,
    ) -> PyResult<Job> {
        let (stmt, names) = self.aggregate_statement(items)?;
        let shape = Shape::Dicts(
            names
                .iter()
                .map(|n| PyString::intern(py, n).unbind())
                .collect(),
        );
        Ok(Job::new(
            Op::Fetch(target_of(target)?, stmt),
            Finish::Values(shape),
        ))
    }

    /// The aggregate statement as SQL for `dialect`.
    fn aggregate_sql(&self, dialect: &str, items: Vec<AggItem<'_>>) -> PyResult<String> {
        let d = dialect_of(dialect)?;
        let (stmt, _) = self.aggregate_statement(items)?;
        Ok(chakra::compile(&stmt, d).map_err(err)?.sql())
    }

    /// `EXISTS`.
    fn exists_job(&self, target: &Bound<'_, PyAny>) -> PyResult<Job> {
        Ok(Job::new(
            Op::Fetch(target_of(target)?, self.mq.exists()),
            Finish::Bool,
        ))
    }

    /// Selected fields as dicts (`shape="dicts"`), tuples (`"tuples"`) or a flat list
    /// (`"flat"`, one field). No fields means every field.
    fn values_job(
        &self,
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        fields: Vec<String>,
        shape: &str,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let names = self.value_names(fields);
        let (mq, resolved) = self.values_query(&names)?;
        let refs: Vec<&str> = resolved.iter().map(String::as_str).collect();
        let sel = mq.select_fields(&refs).map_err(err)?;
        let shape = match shape {
            "dicts" => Shape::Dicts(
                names
                    .iter()
                    .map(|n| PyString::intern(py, n).unbind())
                    .collect(),
            ),
            "tuples" => Shape::Tuples,
            "flat" => {
                if names.len() != 1 {
                    return Err(err(Error::InvalidQuery(format!(
                        "values_list(flat=True) on {} takes exactly one field, got {}",
                        meta.name,
                        names.len()
                    ))));
                }
                Shape::Flat
            }
            other => {
                return Err(err(Error::InvalidQuery(format!(
                    "unknown values shape {other:?}"
                ))))
            }
        };
        Ok(Job::new(
            Op::Fetch(target_of(target)?, Statement::Select(sel)),
            Finish::Values(shape),
        ))
    }

    /// `UPDATE` of the matching rows: `{field: value or F-expression}`; returns the count.
    fn update_job(&self, target: &Bound<'_, PyAny>, sets: &Bound<'_, PyDict>) -> PyResult<Job> {
        self.not_combined("update")?;
        let meta = &self.info.meta;
        let models = registry::snapshot();
        let mut out = Vec::with_capacity(sets.len());
        for (k, v) in sets.iter() {
            let name: String = k.extract()?;
            let f = resolve_field(meta, &name).map_err(err)?;
            let root = filters::Root {
                models: &models,
                meta,
                mark: false,
                across: None,
            };
            let e = filters::expression(&root, meta, &f.name, &v, &f.ty.value_type())?;
            out.push((f.name.clone(), e));
        }
        if out.is_empty() {
            return Err(err(Error::InvalidQuery(format!(
                "update() on {} needs at least one field to set",
                meta.name
            ))));
        }
        let stmt = self.mq.update(out).map_err(err)?;
        Ok(Job::new(
            Op::Execute(target_of(target)?, stmt),
            Finish::RowCount,
        ))
    }

    /// `DELETE` of the matching rows; returns the count.
    fn delete_job(&self, target: &Bound<'_, PyAny>) -> PyResult<Job> {
        self.not_combined("delete")?;
        Ok(Job::new(
            crate::job::delete_op(target_of(target)?, &self.mq).map_err(err)?,
            Finish::RowCount,
        ))
    }
}
