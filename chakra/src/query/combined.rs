//! Set operations on [`Query`]: `union`, `union_all`, `intersection`, `difference` (Django's
//! `union(…, all=…)`, `intersection`, `difference`) into a [`Combined`] query, which can only
//! be ordered, sliced, combined further and run, as Django allows: a filter on the combined
//! rows does not exist, so it cannot be mistaken for a filter of its first member.

use super::{count_rows, Query};
use crate::exec::Executor;
use crate::model::Model;
use chakra_dsl::typed::IntoOrdering;
use chakra_dsl::{Error, ModelQuery, Result, SetOp, Statement, Value};
use std::marker::PhantomData;

/// The rows of several queries over `M` combined by `UNION` / `INTERSECT` / `EXCEPT`, left to
/// right. Building it does no I/O; `all`, `first`, `count`, `exists` and `explain` run it.
pub struct Combined<M> {
    inner: ModelQuery,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for Combined<M> {
    fn clone(&self) -> Self {
        Combined {
            inner: self.inner.clone(),
            _m: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Combined<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

fn member<M: Model>(q: &Query<M>, what: &str) -> Result<chakra_dsl::Select> {
    if !q.load.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "{what} of a {} query loading relations (select_related / prefetch_related)",
            M::NAME
        )));
    }
    q.inner.member_select(None)
}

impl<M: Model> Query<M> {
    fn combine(self, op: SetOp, all: bool, other: Query<M>) -> Result<Combined<M>> {
        let what = op.keyword();
        let first = member(&self, what).map(|_| self.inner)?;
        let inner = first.combine(op, all, member(&other, what)?)?;
        Ok(Combined {
            inner,
            _m: PhantomData,
        })
    }

    /// The rows of this query or `other`, without duplicates (`UNION`). The orderings of
    /// both are dropped: order the combined query. [`Error::InvalidQuery`] when either is
    /// sliced, locking or loading relations.
    pub fn union(self, other: Query<M>) -> Result<Combined<M>> {
        self.combine(SetOp::Union, false, other)
    }

    /// The rows of this query and of `other`, duplicates kept (`UNION ALL`).
    pub fn union_all(self, other: Query<M>) -> Result<Combined<M>> {
        self.combine(SetOp::Union, true, other)
    }

    /// The rows of this query that `other` also returns (`INTERSECT`).
    pub fn intersection(self, other: Query<M>) -> Result<Combined<M>> {
        self.combine(SetOp::Intersect, false, other)
    }

    /// The rows of this query that `other` does not return (`EXCEPT`).
    pub fn difference(self, other: Query<M>) -> Result<Combined<M>> {
        self.combine(SetOp::Except, false, other)
    }
}

impl<M: Model> Combined<M> {
    fn combine(self, op: SetOp, all: bool, other: Query<M>) -> Result<Combined<M>> {
        let m = member(&other, op.keyword())?;
        Ok(Combined {
            inner: self.inner.combine(op, all, m)?,
            _m: PhantomData,
        })
    }

    /// The combined rows, or `other`'s, without duplicates (`UNION`), applied after the
    /// operations before it.
    pub fn union(self, other: Query<M>) -> Result<Combined<M>> {
        self.combine(SetOp::Union, false, other)
    }

    /// The combined rows and `other`'s, duplicates kept (`UNION ALL`).
    pub fn union_all(self, other: Query<M>) -> Result<Combined<M>> {
        self.combine(SetOp::Union, true, other)
    }

    /// The combined rows that `other` also returns (`INTERSECT`).
    pub fn intersection(self, other: Query<M>) -> Result<Combined<M>> {
        self.combine(SetOp::Intersect, false, other)
    }

    /// The combined rows that `other` does not return (`EXCEPT`).
    pub fn difference(self, other: Query<M>) -> Result<Combined<M>> {
        self.combine(SetOp::Except, false, other)
    }

    /// Adds a sort key of the combined rows (a column of `M`).
    pub fn order_by<O: IntoOrdering<M>>(mut self, key: O) -> Self {
        let o = key.into_ordering().into_ir();
        self.inner = self.inner.order_by(o.expr, o.desc);
        self
    }

    /// At most `n` of the combined rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.inner = self.inner.limit(n);
        self
    }

    /// Skips the first `n` combined rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.inner = self.inner.offset(n);
        self
    }

    /// The compound SELECT [`Combined::all`] runs.
    pub fn to_statement(&self) -> Statement {
        Statement::Select(self.inner.select())
    }

    /// Every combined row.
    pub async fn all<E: Executor>(self, mut exec: E) -> Result<Vec<M>> {
        let rows = exec.fetch(&self.to_statement()).await?;
        rows.into_iter().map(M::from_row).collect()
    }

    /// The first combined row (in the combined order), if any.
    pub async fn first<E: Executor>(self, exec: E) -> Result<Option<M>> {
        Ok(self.limit(1).all(exec).await?.pop())
    }

    /// How many combined rows there are.
    pub async fn count<E: Executor>(self, mut exec: E) -> Result<u64> {
        count_rows(&mut exec, &self.inner).await
    }

    /// Whether there is any combined row.
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
}
