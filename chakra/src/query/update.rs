//! [`UpdateQuery<M>`]: `User::query().filter(…).update().set(User::is_active(), false)`.

use crate::exec::Executor;
use chakra_dsl::typed::{AssignTo, Column, ColumnType, TypedExpr};
use chakra_dsl::{Error, Expr, ModelQuery, Result, Statement};
use std::marker::PhantomData;

/// An UPDATE of the rows a query matches, with its assignments.
pub struct UpdateQuery<M> {
    query: ModelQuery,
    sets: Vec<(String, Expr)>,
    _m: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for UpdateQuery<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateQuery")
            .field("query", &self.query)
            .field("sets", &self.sets)
            .finish()
    }
}

impl<M> UpdateQuery<M> {
    pub(crate) fn new(query: ModelQuery) -> Self {
        UpdateQuery {
            query,
            sets: Vec::new(),
            _m: PhantomData,
        }
    }

    /// Sets column `col` to a value of the column's Rust type, to an expression over the row
    /// of that type (`Product::stock() - qty`, `Line::unit_price() * 2`), or to another
    /// column of the model ([`AssignTo`]).
    pub fn set<T: ColumnType, K, V: AssignTo<M, T, K>>(
        mut self,
        col: Column<M, T>,
        value: V,
    ) -> Self {
        self.sets
            .push((col.field_name().to_owned(), value.into_assigned()));
        self
    }

    /// The same as [`UpdateQuery::set`] (kept for existing callers).
    pub fn set_expr<T: ColumnType>(self, col: Column<M, T>, value: TypedExpr<M, T>) -> Self {
        self.set(col, value)
    }

    /// The UPDATE statement.
    pub fn to_statement(&self) -> Result<Statement> {
        if self.sets.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "update of {} sets nothing: call .set(column, value) first",
                self.query.meta.name
            )));
        }
        self.query.update(self.sets.clone())
    }

    /// Runs the UPDATE; returns how many rows changed.
    pub async fn execute<E: Executor>(self, mut exec: E) -> Result<u64> {
        exec.execute(&self.to_statement()?).await
    }
}
