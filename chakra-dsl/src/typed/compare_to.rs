//! [`CompareTo`]: what `eq`, `ne`, `gt`, `ge`, `lt` and `le` take on a column or expression
//! of model `M` and type `T` — a value (as [`ValueFor`] allows), another column of `M`, or a
//! typed expression over `M` of the same type, such as a related row's column
//! (`Book::pages().gt(Book::author().value(Author::age()))`, Django's
//! `filter(pages__gt=F("author__age"))`). The markers of [`super::assign`] keep the kinds
//! apart; the compiler infers them.

use super::assign::{ByColumn, ByExpr, ByValue};
use super::column::Column;
use super::column_type::ColumnType;
use super::typed_expr::TypedExpr;
use super::value_for::ValueFor;
use crate::ir::Expr;

/// A value, column or expression a column of model `M` and Rust type `T` can be compared
/// with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value for a column of type `{T}`",
    label = "expected a `{T}` (the column's Rust type), or a column or expression of `{M}` of that type; found `{Self}`",
    note = "a column compares only with values of its own Rust type (`&str` also works for `String`, and `T` or `None` for `Option<T>`), or with a column or expression of the same model and type (`Post::author().value(User::id())` for a related row's column)"
)]
pub trait CompareTo<M, T, Kind> {
    /// The right-hand side as an IR expression (a bound value for values).
    fn into_operand(self) -> Expr;
    /// Whether the right-hand side can be NULL.
    fn operand_may_be_null(&self) -> bool;
}

impl<M, T, V: ValueFor<T>> CompareTo<M, T, ByValue> for V {
    fn into_operand(self) -> Expr {
        Expr::Value(self.into_value_for())
    }
    fn operand_may_be_null(&self) -> bool {
        false
    }
}

impl<M, T: ColumnType> CompareTo<M, T, ByExpr> for TypedExpr<M, T> {
    fn into_operand(self) -> Expr {
        self.into_ir()
    }
    fn operand_may_be_null(&self) -> bool {
        self.may_be_null()
    }
}

/// An expression of type `T` compared with a nullable column of type `Option<T>`.
impl<M, T: ColumnType> CompareTo<M, Option<T>, ByExpr> for TypedExpr<M, T> {
    fn into_operand(self) -> Expr {
        self.into_ir()
    }
    fn operand_may_be_null(&self) -> bool {
        self.may_be_null()
    }
}

impl<M, T: ColumnType> CompareTo<M, T, ByColumn> for Column<M, T> {
    fn into_operand(self) -> Expr {
        self.ir()
    }
    fn operand_may_be_null(&self) -> bool {
        T::NULLABLE
    }
}

/// A column of type `T` compared with a nullable column of type `Option<T>`.
impl<M, T: ColumnType> CompareTo<M, Option<T>, ByColumn> for Column<M, T> {
    fn into_operand(self) -> Expr {
        self.ir()
    }
    fn operand_may_be_null(&self) -> bool {
        T::NULLABLE
    }
}
