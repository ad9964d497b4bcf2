//! [`UpdateQuery<M>`]: `User::query().filter(…).update().set(User::is_active(), false)`.

use crate::exec::Executor;
use chakra_dsl::typed::{Column, ColumnType, TypedExpr, ValueFor};
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

    /// Sets column `col` to `value` (a value of the column's Rust type).
    pub fn set<T: ColumnType, V: ValueFor<T>>(mut self, col: Column<M, T>, value: V) -> Self {
        self.sets.push((
            col.field_name().to_owned(),
            Expr::Value(value.into_value_for()),
        ));
        self
    }

    /// Sets column `col` to an expression over the row (`User::balance() + 100`).
    pub fn set_expr<T: ColumnType>(mut self, col: Column<M, T>, value: TypedExpr<M, T>) -> Self {
        self.sets
            .push((col.field_name().to_owned(), value.into_ir()));
        self
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
