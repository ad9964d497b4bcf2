//! Arithmetic in the typed DSL: `+ - * /` between a numeric column or expression and a
//! value of its type ([`ArithRhs`] for values), or another numeric column or expression of
//! the same model, of any numeric type ([`Promote`]: the type the database gives the result —
//! `i32 * i64` is `i64`, an integer with an `f64` is `f64`, an integer with a decimal is a
//! decimal, a decimal with an `f64` is `f64`; `Option` when either side may be NULL).

use super::column::Column;
use super::column_type::ColumnType;
use super::typed_expr::TypedExpr;
use crate::ir::Expr;
use bigdecimal::BigDecimal;

/// The result type of arithmetic between numeric types `Self` and `U`.
#[diagnostic::on_unimplemented(
    message = "no arithmetic between a `{Self}` and a `{U}` expression",
    label = "`+`, `-`, `*` and `/` combine numeric expressions (`i32`, `i64`, `f64`, `BigDecimal`, or an `Option` of one)"
)]
pub trait Promote<U> {
    /// The type of `Self op U`.
    type Out: ColumnType;
}

/// What may stand right of `+ - * /` on a numeric column or expression of model `M` and
/// type `T`: a value of `T` (as `ValueFor<T>` allows), or a numeric column or expression of
/// `M`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be added to, subtracted from, multiplied with or divide a `{T}` expression of `{M}`",
    label = "expected a `{T}` value, or a numeric column or expression of the same model",
    note = "a value must have the column's Rust type (no implicit conversion of values); columns and expressions of other numeric types combine with the type the database gives the result (`i32 * BigDecimal` is `BigDecimal`)"
)]
pub trait ArithRhs<M, T> {
    /// The result's Rust type.
    type Out: ColumnType;
    /// The right-hand side as an IR expression.
    fn into_rhs(self) -> Expr;
    /// Whether the right-hand side can be NULL.
    fn rhs_may_be_null(&self) -> bool;
}

impl<M, T, U> ArithRhs<M, T> for TypedExpr<M, U>
where
    T: Promote<U>,
{
    type Out = <T as Promote<U>>::Out;
    fn into_rhs(self) -> Expr {
        self.into_ir()
    }
    fn rhs_may_be_null(&self) -> bool {
        self.may_be_null()
    }
}

impl<M, T, U> ArithRhs<M, T> for Column<M, U>
where
    T: Promote<U>,
    U: ColumnType,
{
    type Out = <T as Promote<U>>::Out;
    fn into_rhs(self) -> Expr {
        self.ir()
    }
    fn rhs_may_be_null(&self) -> bool {
        U::NULLABLE
    }
}

/// Values right of an operator: exactly the column's type (and `&T`; `T` for `Option<T>`).
macro_rules! value_rhs {
    ($($t:ty),*) => {$(
        impl<M> ArithRhs<M, $t> for $t {
            type Out = $t;
            fn into_rhs(self) -> Expr {
                Expr::Value(ColumnType::into_value(self))
            }
            fn rhs_may_be_null(&self) -> bool {
                false
            }
        }
        impl<M> ArithRhs<M, $t> for &$t {
            type Out = $t;
            fn into_rhs(self) -> Expr {
                Expr::Value(ColumnType::to_value(self))
            }
            fn rhs_may_be_null(&self) -> bool {
                false
            }
        }
        impl<M> ArithRhs<M, Option<$t>> for $t {
            type Out = Option<$t>;
            fn into_rhs(self) -> Expr {
                Expr::Value(ColumnType::into_value(self))
            }
            fn rhs_may_be_null(&self) -> bool {
                false
            }
        }
        impl<M> ArithRhs<M, Option<$t>> for &$t {
            type Out = Option<$t>;
            fn into_rhs(self) -> Expr {
                Expr::Value(ColumnType::to_value(self))
            }
            fn rhs_may_be_null(&self) -> bool {
                false
            }
        }
        impl<M> ArithRhs<M, Option<$t>> for Option<$t> {
            type Out = Option<$t>;
            fn into_rhs(self) -> Expr {
                Expr::Value(ColumnType::into_value(self))
            }
            fn rhs_may_be_null(&self) -> bool {
                self.is_none()
            }
        }
    )*};
}
value_rhs!(i32, i64, f64, BigDecimal);
#[cfg(feature = "rust_decimal")]
value_rhs!(rust_decimal::Decimal);

/// `Promote` for one pair of base types and their `Option`s.
macro_rules! promote {
    ($a:ty, $b:ty => $out:ty) => {
        impl Promote<$b> for $a {
            type Out = $out;
        }
        impl Promote<Option<$b>> for $a {
            type Out = Option<$out>;
        }
        impl Promote<$b> for Option<$a> {
            type Out = Option<$out>;
        }
        impl Promote<Option<$b>> for Option<$a> {
            type Out = Option<$out>;
        }
    };
}
promote!(i32, i32 => i32);
promote!(i32, i64 => i64);
promote!(i32, f64 => f64);
promote!(i32, BigDecimal => BigDecimal);
promote!(i64, i32 => i64);
promote!(i64, i64 => i64);
promote!(i64, f64 => f64);
promote!(i64, BigDecimal => BigDecimal);
promote!(f64, i32 => f64);
promote!(f64, i64 => f64);
promote!(f64, f64 => f64);
promote!(f64, BigDecimal => f64);
promote!(BigDecimal, i32 => BigDecimal);
promote!(BigDecimal, i64 => BigDecimal);
promote!(BigDecimal, f64 => f64);
promote!(BigDecimal, BigDecimal => BigDecimal);
#[cfg(feature = "rust_decimal")]
mod rust_decimal_promote {
    use super::Promote;
    use rust_decimal::Decimal;
    promote!(Decimal, Decimal => Decimal);
    promote!(Decimal, i32 => Decimal);
    promote!(Decimal, i64 => Decimal);
    promote!(i32, Decimal => Decimal);
    promote!(i64, Decimal => Decimal);
}

/// `left op right` over model `M`, typed `Out`.
pub fn arith<M, T, R: ArithRhs<M, T>>(
    left: TypedExpr<M, T>,
    op: crate::ir::ArithOp,
    right: R,
) -> TypedExpr<M, R::Out> {
    let nullable = left.may_be_null() || right.rhs_may_be_null();
    TypedExpr::from_ir(
        Expr::Arith {
            left: Box::new(left.into_ir()),
            op,
            right: Box::new(right.into_rhs()),
        },
        nullable,
    )
}
