//! Subqueries from the Rust door, lowered by the same [`chakra_dsl::subquery`] as Python's
//! `Exists`, `Subquery` and `field__in=qs.values(…)`:
//!
//! ```ignore
//! // Users with a post: EXISTS, correlated with `eq_outer` (Django's OuterRef).
//! User::query().filter(chakra::exists(Post::query().filter(Post::author_id().eq_outer(User::id()))));
//! // Users who wrote a post whose title ends in "1": IN (SELECT …).
//! User::query().filter(chakra::in_query(User::id(), Post::query().filter(Post::title().ends_with("1")), Post::author_id()));
//! // Each user's latest title, as a value.
//! Post::query().filter(Post::author_id().eq_outer(User::id())).order_by(Post::id().desc()).limit(1).subquery::<User, _>(Post::title());
//! ```
//!
//! An `eq_outer` column that the enclosing model does not have is left unresolved, and the
//! statement then fails with [`chakra_dsl::Error::InvalidQuery`] naming it.

use super::Query;
use crate::model::Model;
use chakra_dsl::typed::{Column, ColumnType, Condition, TypedExpr};
use chakra_dsl::Expr;

/// `EXISTS (query)`, a condition on the enclosing query's model `O`.
pub fn exists<I: Model, O: Model>(query: Query<I>) -> Condition<O> {
    let sel = query.model_query().select();
    let e = chakra_dsl::subquery::exists(sel.clone(), O::meta())
        .unwrap_or_else(|_| Expr::Exists(Box::new(sel)));
    TypedExpr::from_ir(e, false)
}

/// `col IN (SELECT of FROM query)`.
pub fn in_query<O: Model, I: Model, T: ColumnType>(
    col: Column<O, T>,
    query: Query<I>,
    of: Column<I, T>,
) -> Condition<O> {
    let mut sel = query.model_query().select();
    sel.columns = vec![chakra_dsl::SelectItem::new(of.ir(), T::value_type())];
    let sel = chakra_dsl::subquery::embed(sel.clone(), O::meta()).unwrap_or(sel);
    TypedExpr::from_ir(
        Expr::InSubquery {
            expr: Box::new(col.ir()),
            query: Box::new(sel),
        },
        T::NULLABLE,
    )
}

impl<I: Model> Query<I> {
    /// The value of `col` in the first matching row, as an expression of the enclosing
    /// query over `O`. Typed `Option<T>` (`T::Nullable`): NULL when no row matches.
    pub fn subquery<O: Model, T: ColumnType>(self, col: Column<I, T>) -> TypedExpr<O, T::Nullable> {
        let mut sel = self.model_query().select();
        sel.columns = vec![chakra_dsl::SelectItem::new(col.ir(), T::value_type())];
        let e = chakra_dsl::subquery::scalar(sel.clone(), O::meta())
            .unwrap_or_else(|_| Expr::Subquery(Box::new(sel)));
        TypedExpr::from_ir(e, true)
    }
}
