//! [`Column<M, T>`]: a column of model `M` holding Rust values of type `T`, as returned by
//! the accessors `#[derive(Model)]` generates (`User::username()`).

use super::column_type::ColumnType;
use super::typed_expr::TypedExpr;
use crate::ir::{ColumnRef, Expr};
use std::fmt;
use std::marker::PhantomData;

/// A column of model `M` whose Rust type is `T`. Cheap to copy; its methods (`eq`,
/// `starts_with`, `is_null`, `year`, `asc`, …) build typed expressions, and only those that
/// make sense for `T` exist.
pub struct Column<M, T> {
    table: &'static str,
    column: &'static str,
    field: &'static str,
    _p: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Column<M, T> {}

impl<M, T> fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Column({}.{})", self.table, self.column)
    }
}

impl<M, T> PartialEq for Column<M, T> {
    fn eq(&self, other: &Self) -> bool {
        self.table == other.table && self.column == other.column
    }
}

impl<M, T> Column<M, T> {
    /// The column `column` of `table`, for the model field `field`. Generated code calls
    /// this; it is rarely written by hand.
    pub const fn new(table: &'static str, column: &'static str, field: &'static str) -> Self {
        Column {
            table,
            column,
            field,
            _p: PhantomData,
        }
    }

    /// The table name.
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// The column name.
    pub fn column_name(&self) -> &'static str {
        self.column
    }

    /// The model field's attribute name.
    pub fn field_name(&self) -> &'static str {
        self.field
    }
}

impl<M, T: ColumnType> Column<M, T> {
    /// The column as an IR expression.
    pub fn ir(&self) -> Expr {
        Expr::Column(
            ColumnRef::new(self.table, self.column, T::value_type())
                .with_enum_type(T::enum_type().map(str::to_string)),
        )
    }

    /// The column as a typed expression.
    pub fn expr(self) -> TypedExpr<M, T> {
        TypedExpr::from_ir(self.ir(), T::NULLABLE)
    }

    fn lower(self) -> TypedExpr<M, T> {
        self.expr()
    }
}

crate::typed::methods::typed_methods!(Column);
