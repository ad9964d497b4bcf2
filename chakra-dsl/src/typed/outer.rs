//! Comparisons with a column of the enclosing query, inside a subquery (Django's
//! `OuterRef`): `Post::author_id().eq_outer(User::id())` in
//! `User::query().filter(chakra::exists(Post::query().filter(…)))`. They lower to
//! [`Expr::OuterRef`], resolved when the subquery is placed ([`crate::subquery`]), which also
//! aliases the inner table when both queries read the same one.

use super::column::Column;
use super::column_type::ColumnType;
use super::typed_expr::{Condition, TypedExpr};
use crate::ir::{CmpOp, Expr};

fn outer_cmp<M, O, T: ColumnType>(
    inner: Column<M, T>,
    op: CmpOp,
    outer: Column<O, T>,
) -> Condition<M> {
    TypedExpr::from_ir(
        inner
            .ir()
            .cmp(op, Expr::OuterRef(outer.field_name().to_owned())),
        true,
    )
}

impl<M, T: ColumnType> Column<M, T> {
    /// `self = outer`, `outer` a column of the query this subquery is placed in.
    pub fn eq_outer<O>(self, outer: Column<O, T>) -> Condition<M> {
        outer_cmp(self, CmpOp::Eq, outer)
    }

    /// `self <> outer` (see [`Column::eq_outer`]).
    pub fn ne_outer<O>(self, outer: Column<O, T>) -> Condition<M> {
        outer_cmp(self, CmpOp::Ne, outer)
    }

    /// `self < outer` (see [`Column::eq_outer`]).
    pub fn lt_outer<O>(self, outer: Column<O, T>) -> Condition<M> {
        outer_cmp(self, CmpOp::Lt, outer)
    }

    /// `self <= outer` (see [`Column::eq_outer`]).
    pub fn le_outer<O>(self, outer: Column<O, T>) -> Condition<M> {
        outer_cmp(self, CmpOp::Le, outer)
    }

    /// `self > outer` (see [`Column::eq_outer`]).
    pub fn gt_outer<O>(self, outer: Column<O, T>) -> Condition<M> {
        outer_cmp(self, CmpOp::Gt, outer)
    }

    /// `self >= outer` (see [`Column::eq_outer`]).
    pub fn ge_outer<O>(self, outer: Column<O, T>) -> Condition<M> {
        outer_cmp(self, CmpOp::Ge, outer)
    }
}
