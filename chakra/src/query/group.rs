//! Grouped queries: `Account::query().group_by(Account::country()).aggregate((count(…),
//! sum(…)))` selects the grouping columns and the aggregates, `GROUP BY` the columns, and
//! returns typed `(key, aggregates)` pairs. `having` takes conditions over aggregates
//! (`count(Account::id()).expr().gt(1)`), `order_by` columns or aggregates.

use super::Query;
use crate::exec::Executor;
use crate::model::Model;
use chakra_dsl::typed::group::{GroupByKey, KeyColumn};
use chakra_dsl::typed::{AggregateSet, FilterFor, IntoOrdering};
use chakra_dsl::{Error, Expr, ModelQuery, OrderBy, Result, Select, SelectItem, Source, Statement};
use std::marker::PhantomData;

/// A query grouped by `K`, waiting for its aggregates.
pub struct GroupBy<M, K> {
    inner: ModelQuery,
    keys: Vec<KeyColumn>,
    _p: PhantomData<fn() -> (M, K)>,
}

/// A grouped query with its aggregates `A`: rows are `(K::Output, A::Output)`.
pub struct Grouped<M, K, A> {
    inner: ModelQuery,
    keys: Vec<KeyColumn>,
    aggs: Vec<(String, Expr)>,
    having: Option<Expr>,
    order: Vec<OrderBy>,
    _p: PhantomData<Marker<M, K, A>>,
}

type Marker<M, K, A> = fn() -> (M, K, A);

impl<M: Model> Query<M> {
    /// Groups the matching rows by one column or expression, or a tuple of them:
    /// `.group_by(Account::country()).aggregate(count(Account::id()))`; across a relation,
    /// `.group_by(OrderLine::product().value(Product::name()))` (Django's
    /// `values("product__name").annotate(…)`).
    pub fn group_by<K: GroupByKey<M>>(self, key: K) -> GroupBy<M, K> {
        GroupBy {
            inner: self.model_query().clone(),
            keys: key.group_columns(),
            _p: PhantomData,
        }
    }
}

impl<M: Model, K: GroupByKey<M>> GroupBy<M, K> {
    /// The aggregates computed per group (one, or a tuple).
    pub fn aggregate<A: AggregateSet<M>>(self, aggs: A) -> Grouped<M, K, A> {
        Grouped {
            inner: self.inner,
            keys: self.keys,
            aggs: aggs.items(),
            having: None,
            order: Vec::new(),
            _p: PhantomData,
        }
    }
}

impl<M: Model, K: GroupByKey<M>, A: AggregateSet<M>> Grouped<M, K, A> {
    /// Keeps the groups where `cond` holds (`HAVING`); several must all hold.
    pub fn having<C: FilterFor<M>>(mut self, cond: C) -> Self {
        let c = cond.into_condition().into_ir();
        self.having = Some(match self.having.take() {
            Some(h) => h.and(c),
            None => c,
        });
        self
    }

    /// Sorts the groups: by a column (`Account::country().asc()`) or an aggregate
    /// (`count(Account::id()).expr().desc()`). Replaces the query's own ordering.
    pub fn order_by<O: IntoOrdering<M>>(mut self, key: O) -> Self {
        let o = key.into_ordering().into_ir();
        self.order.push(o);
        self
    }

    /// The statement [`Grouped::all`] runs.
    pub fn to_statement(&self) -> Result<Statement> {
        let mq = &self.inner;
        if !mq.annotations.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "group_by() on {} cannot follow annotations",
                mq.meta.name
            )));
        }
        let mut s = Select::from(Source::table(mq.meta.table.clone()));
        s.filter = mq.filter.clone();
        for k in &self.keys {
            // Unaliased unless named, as `values("field")` / `values("rel__field")` selects
            // it: the same SQL from both doors.
            s.columns.push(SelectItem {
                expr: k.expr.clone(),
                alias: k.alias.clone(),
                ty: k.ty.clone(),
            });
            s.group_by.push(k.expr.clone());
        }
        for (name, e) in &self.aggs {
            s.columns.push(SelectItem {
                expr: e.clone(),
                alias: Some(name.clone()),
                ty: e.value_type().unwrap_or(chakra_dsl::ValueType::I64),
            });
        }
        s.having = self.having.clone();
        s.order_by = if self.order.is_empty() {
            if mq.default_order {
                // Django: a model's default ordering is not used in GROUP BY queries.
                Vec::new()
            } else {
                mq.order_by.clone()
            }
        } else {
            self.order.clone()
        };
        s.limit = mq.limit;
        s.offset = mq.offset;
        Ok(Statement::Select(s))
    }

    /// Every group: `(key, aggregates)`, typed.
    pub async fn all<E: Executor>(self, mut exec: E) -> Result<Vec<(K::Output, A::Output)>> {
        let stmt = self.to_statement()?;
        let n = self.keys.len();
        let rows = exec.fetch(&stmt).await?;
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            let rest = row.split_off(n.min(row.len()));
            let decode = |reason| Error::Decode {
                column: "group".into(),
                reason,
            };
            out.push((
                K::decode_key(row).map_err(decode)?,
                A::decode(rest).map_err(decode)?,
            ));
        }
        Ok(out)
    }
}
