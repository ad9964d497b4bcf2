//! [`Query<M>`]: the typed query builder over one model (`User::query()`), lowering to
//! [`ModelQuery`] and running through any [`Executor`].
//!
//! - [`conveniences`]: `none`, `in_bulk`, `latest` / `earliest`.
//! - [`or_create`]: `get_or_create` / `update_or_create`, the matching row or a new one.
//! - [`group`]: [`GroupBy`] / [`Grouped`], `query.group_by(cols).aggregate(aggs)`.
//! - [`annotate`]: [`annotate::Annotated`], `query.annotate(exprs)` → `(model, values)` rows.
//! - [`bulk_update`](mod@bulk_update): [`bulk_update`](fn@bulk_update), many rows by key in one statement.
//! - [`raw`](mod@raw): [`raw`](fn@raw) / [`raw_execute`] / [`raw_fetch`], hand-written SQL with bound parameters.
//! - [`stream`]: `Query::stream`, rows read a chunk at a time.
//! - [`upsert`](mod@upsert): [`upsert`](fn@upsert), `INSERT … ON CONFLICT` of model rows.
//! - [`update`]: [`UpdateQuery<M>`], `query.update().set(col, value)`.

pub mod annotate;
pub mod bulk_update;
pub mod combined;
pub mod conveniences;
pub mod delete_rules;
pub mod explain;
pub mod group;
pub mod or_create;
pub mod raw;
pub mod stream;
pub mod subquery;
pub mod update;
pub mod upsert;

pub use bulk_update::{bulk_update, BulkUpdateRows};
pub use combined::Combined;
pub use explain::explain;
pub use group::{GroupBy, Grouped};
pub use raw::{raw, raw_execute, raw_fetch, RawExecute, RawFetch, RawQuery};
pub use subquery::{exists, in_query};
pub use update::UpdateQuery;
pub use upsert::{upsert, UpsertRows};

use crate::exec::Executor;
use crate::model::{registry, Model};
use crate::sql::query_cache::Served;
use chakra_dsl::typed::{
    AggregateSet, FilterFor, IntoOrdering, RelationPathOf, Selection, SingleRelationPath,
};
use chakra_dsl::{Error, LoadPlan, LoadSpec, ModelQuery, PrefetchSpec, Result, Statement, Value};
use std::marker::PhantomData;

/// A query over the rows of model `M`. Building it does no I/O; `all`, `first`, `one`,
/// `count`, `exists`, `delete` and `update().execute` run it.
pub struct Query<M> {
    inner: ModelQuery,
    load: LoadSpec,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for Query<M> {
    fn clone(&self) -> Self {
        Query {
            inner: self.inner.clone(),
            load: self.load.clone(),
            _m: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Query<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<M: Model> Default for Query<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Model> Query<M> {
    /// Every row of `M`.
    pub fn new() -> Self {
        Query {
            inner: ModelQuery::new(M::meta().clone()),
            load: LoadSpec::default(),
            _m: PhantomData,
        }
    }

    /// Loads a relation to one row in the same statement, with a JOIN
    /// (`select_related(User::profile())`, `select_related(Post::author().then_one(User::profile()))`).
    /// A nullable key or a reverse one-to-one is a LEFT JOIN: the field holds `None` where
    /// there is no row. Relations to many rows do not compile here: prefetch them.
    pub fn select_related<P: SingleRelationPath<M>>(mut self, path: P) -> Self {
        self.load.select_related.push(path.lookup_path());
        self
    }

    /// Loads a relation with one further statement per level
    /// (`prefetch_related(User::posts())`, `prefetch_related(User::posts().then(Post::comments()))`),
    /// binding the parents' keys as one array.
    pub fn prefetch_related<P: RelationPathOf<M>>(mut self, path: P) -> Self {
        self.load
            .prefetch
            .push(PrefetchSpec::new(path.lookup_path()));
        self
    }

    /// Like [`Query::prefetch_related`], keeping only the related rows `query` matches, in
    /// its order: `prefetch_filtered(User::posts(), Post::query().filter(…).order_by(…))`.
    pub fn prefetch_filtered<P: RelationPathOf<M>>(
        mut self,
        path: P,
        query: Query<P::Target>,
    ) -> Self {
        let mut spec = PrefetchSpec::new(path.lookup_path());
        spec.query = Some(query.inner);
        self.load.prefetch.push(spec);
        self
    }

    /// The relations this query loads.
    pub fn load_spec(&self) -> &LoadSpec {
        &self.load
    }

    /// The plan `all` runs when relations are loaded.
    pub fn load_plan(&self) -> Result<LoadPlan> {
        LoadPlan::build(&registry::models_with(M::meta()), &self.inner, &self.load)
    }

    async fn fetch_models<E: Executor>(self, exec: &mut E) -> Result<Vec<M>> {
        if self.load.is_empty() {
            // Compiled once per shape ([`crate::sql::query_cache`]); a query the cache does
            // not serve runs as before (with the one-database check of its subqueries).
            return match crate::sql::query_cache::compile_select(self.inner, exec.dialect())? {
                Served::Compiled(q) => exec.fetch_compiled_models::<M>(&q).await,
                Served::Unserved(inner) => {
                    exec.fetch_models::<M>(&Statement::Select(inner.select()))
                        .await
                }
            };
        }
        let plan = self.load_plan()?;
        crate::load_typed::run::<M, E>(exec, &plan).await
    }

    /// Keeps the rows where `cond` holds. Several filters must all hold.
    pub fn filter<C: FilterFor<M>>(mut self, cond: C) -> Self {
        self.inner = self.inner.filter(cond.into_condition().into_ir());
        self
    }

    /// ANDs in an IR condition over the model's columns (for conditions built by the core).
    pub(crate) fn filter_ir(mut self, cond: chakra_dsl::Expr) -> Self {
        self.inner = self.inner.filter(cond);
        self
    }

    /// Drops the rows where `cond` holds; rows where it is NULL are kept (Django's
    /// `exclude`).
    pub fn exclude<C: FilterFor<M>>(mut self, cond: C) -> Self {
        self.inner = self
            .inner
            .filter(cond.into_condition().is_not_true().into_ir());
        self
    }

    /// Adds a sort key: `order_by(User::created_at().desc())`.
    pub fn order_by<O: IntoOrdering<M>>(mut self, key: O) -> Self {
        let o = key.into_ordering().into_ir();
        self.inner = self.inner.order_by(o.expr, o.desc);
        self
    }

    /// Orders by a column of the rows a relation to many rows points at, as Django's
    /// `order_by("posts__title")` (`"-posts__title"` with `desc`): the related rows are
    /// LEFT OUTER JOINed, so each row comes back once per related row, and once (the column
    /// NULL, placed as NULLs are) when it has none. `count()` and `aggregate()` drop this
    /// ordering and its join, as Django's do. [`Error::InvalidQuery`] when the query holds
    /// aggregates (the join would change what they count). For a relation to one row use
    /// `order_by(Post::author().value(User::username()).asc())`.
    pub fn order_by_each<R, V>(
        mut self,
        rel: chakra_dsl::typed::Relation<M, R>,
        col: chakra_dsl::typed::Column<R::Target, V>,
        desc: bool,
    ) -> Result<Self>
    where
        R: chakra_dsl::typed::RelatedField,
    {
        let path = format!("{}__{}", rel.name(), col.field_name());
        let models = registry::models_with(M::meta());
        let e = self.inner.path_value(&models, &path, false)?;
        self.inner = self.inner.order_by(e, desc);
        Ok(self)
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.inner = self.inner.limit(n);
        self
    }

    /// Locks the selected rows until the transaction ends (`SELECT … FOR UPDATE`): run it
    /// on a transaction (`.all(&tx)`). PostgreSQL only; SQLite runs the plain `SELECT`, its
    /// transactions being serialised anyway.
    pub fn for_update(self) -> Self {
        self.lock(chakra_dsl::RowLock::update())
    }

    /// A row lock with options: `NOWAIT`, `SKIP LOCKED`, `OF` tables, `FOR SHARE`
    /// ([`chakra_dsl::RowLock`]).
    pub fn lock(mut self, lock: chakra_dsl::RowLock) -> Self {
        self.inner = self.inner.lock(Some(lock));
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.inner = self.inner.offset(n);
        self
    }

    /// Distinct rows only.
    pub fn distinct(mut self) -> Self {
        self.inner.distinct = true;
        self
    }

    /// One row per distinct value of `cols` (a column or a tuple of columns): PostgreSQL's
    /// `SELECT DISTINCT ON (…)`, keeping the first row of each group in the query's order,
    /// which must start with those columns. On SQLite, and with an ordering that does not
    /// start with them, running it is [`Error::InvalidQuery`] before any SQL.
    pub fn distinct_on<K: chakra_dsl::typed::group::GroupKey<M>>(mut self, cols: K) -> Self {
        self.inner.distinct_on = cols.columns().into_iter().map(|k| k.expr).collect();
        self
    }

    /// The lowered model query.
    pub fn model_query(&self) -> &ModelQuery {
        &self.inner
    }

    /// The SELECT statement `all` runs.
    pub fn to_statement(&self) -> Statement {
        Statement::Select(self.inner.select())
    }

    /// Every matching row.
    pub async fn all<E: Executor>(self, mut exec: E) -> Result<Vec<M>> {
        self.fetch_models(&mut exec).await
    }

    /// The first matching row (in the query's order), if any.
    pub async fn first<E: Executor>(self, mut exec: E) -> Result<Option<M>> {
        let q = self.limit(1);
        Ok(q.fetch_models(&mut exec).await?.pop())
    }

    /// The one matching row: [`Error::NotFound`] when none matches,
    /// [`Error::MultipleObjectsReturned`] when several do.
    pub async fn one<E: Executor>(self, mut exec: E) -> Result<M> {
        let limited = self.inner.limit.is_some_and(|l| l < 2);
        let q = if limited {
            self.clone()
        } else {
            self.clone().limit(2)
        };
        let mut rows = q.fetch_models(&mut exec).await?;
        match rows.len() {
            0 => Err(Error::NotFound {
                model: M::NAME.to_owned(),
                detail: None,
            }),
            1 => Ok(rows.pop().expect("one row")),
            _ => {
                let count = count_rows(&mut exec, &self.inner).await?;
                Err(Error::MultipleObjectsReturned {
                    model: M::NAME.to_owned(),
                    count: count.max(2) as usize,
                })
            }
        }
    }

    /// How many rows match.
    pub async fn count<E: Executor>(self, mut exec: E) -> Result<u64> {
        count_rows(&mut exec, &self.inner).await
    }

    /// Whether any row matches.
    pub async fn exists<E: Executor>(self, mut exec: E) -> Result<bool> {
        let rows = exec.fetch(&self.inner.exists()).await?;
        match rows.first().and_then(|r| r.first()) {
            Some(Value::Bool(b)) => Ok(*b),
            other => Err(Error::Decode {
                column: "exists".into(),
                reason: format!("expected a boolean, got {other:?}"),
            }),
        }
    }

    /// The statement [`Query::values`] runs.
    pub fn values_statement<S: Selection<M>>(&self, sel: S) -> Statement {
        let mut s = self.inner.select();
        s.columns = sel
            .items()
            .into_iter()
            .map(|(expr, alias, ty)| chakra_dsl::SelectItem { expr, alias, ty })
            .collect();
        Statement::Select(s)
    }

    /// Typed rows of columns and expressions:
    /// `User::query().values((User::id(), lower(User::username())), &pool)` is a
    /// `Vec<(i64, String)>`.
    pub async fn values<S: Selection<M>, E: Executor>(
        self,
        sel: S,
        mut exec: E,
    ) -> Result<Vec<S::Output>> {
        let rows = exec.fetch(&self.values_statement(sel)).await?;
        rows.into_iter()
            .map(|r| {
                S::decode(r).map_err(|reason| Error::Decode {
                    column: "values".into(),
                    reason,
                })
            })
            .collect()
    }

    /// The statement [`Query::aggregate`] runs.
    pub fn aggregate_statement<A: AggregateSet<M>>(&self, aggs: A) -> Result<Statement> {
        self.inner.aggregate(aggs.items())
    }

    /// Aggregates over the matching rows, typed:
    /// `User::query().aggregate((count(User::id()), sum(User::balance())), &pool)` is an
    /// `(i64, Option<BigDecimal>)`. Sums, averages, minimums and maximums are `None` over
    /// no rows; counts are 0.
    pub async fn aggregate<A: AggregateSet<M>, E: Executor>(
        self,
        aggs: A,
        mut exec: E,
    ) -> Result<A::Output> {
        let stmt = self.aggregate_statement(aggs)?;
        let row = exec
            .fetch(&stmt)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Decode {
                column: "aggregate".into(),
                reason: "the aggregate query returned no row".into(),
            })?;
        A::decode(row).map_err(|reason| Error::Decode {
            column: "aggregate".into(),
            reason,
        })
    }

    /// Deletes the matching rows, doing what the models declare for the rows that reference
    /// them, as Django does: `on_delete = Cascade` deletes them (and what references them,
    /// recursively), `SetNull` sets their key to NULL, whatever the database's constraints
    /// say (an existing schema without `ON DELETE`, or another action). All or nothing: on
    /// a pool the steps run in a transaction of their own, on a transaction in a savepoint
    /// (a `Restrict` refusal undoes every step). One `DELETE` when no model references this
    /// one with CASCADE or SET NULL. Returns how many rows of this model were deleted.
    pub async fn delete<E: Executor>(self, mut exec: E) -> Result<u64> {
        delete_rules::delete_registered(&mut exec, M::meta(), &self.inner).await
    }

    /// [`Query::delete`] inside `tx` (kept for code written before every delete followed
    /// the declared rules).
    pub async fn delete_in(self, tx: &mut crate::Transaction) -> Result<u64> {
        self.delete(tx).await
    }

    /// Starts an UPDATE of the matching rows: `.update().set(User::is_active(), false)`.
    pub fn update(self) -> UpdateQuery<M> {
        UpdateQuery::new(self.inner)
    }
}

async fn count_rows<E: Executor>(exec: &mut E, q: &ModelQuery) -> Result<u64> {
    let rows = exec.fetch(&q.count()).await?;
    match rows.first().and_then(|r| r.first()) {
        Some(v) => v
            .as_i64()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| Error::Decode {
                column: "count".into(),
                reason: format!("expected a count, got {v}"),
            }),
        None => Err(Error::Decode {
            column: "count".into(),
            reason: "COUNT(*) returned no row".into(),
        }),
    }
}
