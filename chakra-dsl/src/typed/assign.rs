//! [`AssignTo`]: what `update().set(column, …)` takes for a column of model `M` and type `T`
//! — a value (as [`ValueFor`] allows), a typed expression over `M` of the column's type
//! (`Product::stock() - 1`), or another column of `M` of that type. The marker parameter
//! (`ByValue`, `ByExpr`, `ByColumn`) only keeps the three kinds apart; the compiler infers it.

use super::column::Column;
use super::column_type::ColumnType;
use super::typed_expr::TypedExpr;
use super::value_for::ValueFor;
use crate::ir::Expr;

/// Marker: a value.
#[derive(Debug)]
pub enum ByValue {}
/// Marker: a typed expression.
#[derive(Debug)]
pub enum ByExpr {}
/// Marker: a column.
#[derive(Debug)]
pub enum ByColumn {}

/// A value or an expression a column of model `M` and Rust type `T` can be set to.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be assigned to a `{T}` column of `{M}`",
    label = "expected a `{T}` value, or a column or expression of `{M}` of type `{T}`",
    note = "`.set(column, value_or_expression)`: a value of the column's Rust type, or an expression like `Product::stock() - 1`; an expression of another type needs `cast(expr)` (arithmetic takes the database's result type: `i32 * BigDecimal` is `BigDecimal`)"
)]
pub trait AssignTo<M, T, Kind> {
    /// The new value as an IR expression.
    fn into_assigned(self) -> Expr;
}

impl<M, T, V: ValueFor<T>> AssignTo<M, T, ByValue> for V {
    fn into_assigned(self) -> Expr {
        Expr::Value(self.into_value_for())
    }
}

impl<M, T> AssignTo<M, T, ByExpr> for TypedExpr<M, T> {
    fn into_assigned(self) -> Expr {
        self.into_ir()
    }
}

/// An expression that cannot be NULL assigned to a nullable column of its type.
impl<M, T: ColumnType> AssignTo<M, Option<T>, ByExpr> for TypedExpr<M, T> {
    fn into_assigned(self) -> Expr {
        self.into_ir()
    }
}

impl<M, T: ColumnType> AssignTo<M, T, ByColumn> for Column<M, T> {
    fn into_assigned(self) -> Expr {
        self.ir()
    }
}
