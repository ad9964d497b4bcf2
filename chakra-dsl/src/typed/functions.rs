//! Typed scalar expressions for the Rust front door, lowering through
//! [`crate::functions`] (the same checks and IR as Python's `Coalesce`, `Lower`, `Upper`,
//! `Length`, `Cast`, `Case`/`When`, `Now()`), and [`Selection`], the typed select of
//! `Query::values((col, expr, …))` returning tuples.
//!
//! Types decide what compiles: `lower`/`upper`/`length` take text, `coalesce` takes an
//! `Option<T>` expression and a `T` one, `cast::<T>` targets `i32`, `i64`, `f64`, `String`.

use super::column::Column;
use super::column_type::ColumnType;
use super::markers::TextType;
use super::typed_expr::{Condition, TypedExpr};
use crate::ir::Expr;
use crate::types::ValueType;
use crate::value::Value;
use chrono::{DateTime, Utc};

/// A column or a typed expression of model `M` with Rust type `T`.
pub trait IntoExpr<M, T> {
    /// As a typed expression.
    fn into_typed(self) -> TypedExpr<M, T>;
}

impl<M, T: ColumnType> IntoExpr<M, T> for Column<M, T> {
    fn into_typed(self) -> TypedExpr<M, T> {
        self.expr()
    }
}

impl<M, T> IntoExpr<M, T> for TypedExpr<M, T> {
    fn into_typed(self) -> TypedExpr<M, T> {
        self
    }
}

fn checked<M, T>(e: crate::error::Result<Expr>, nullable: bool) -> TypedExpr<M, T> {
    TypedExpr::from_ir(
        e.expect("the typed layer only builds expressions its types allow"),
        nullable,
    )
}

/// A bound value as an expression (`coalesce(Item::nick(), value("-".to_owned()))`).
pub fn value<M, T: ColumnType>(v: T) -> TypedExpr<M, T> {
    let nullable = T::NULLABLE;
    TypedExpr::from_ir(Expr::Value(v.into_value()), nullable)
}

/// `LOWER(text)` (Unicode on both backends).
pub fn lower<M, T: TextLength>(e: impl IntoExpr<M, T>) -> TypedExpr<M, T> {
    checked(
        crate::functions::lower(e.into_typed().into_ir()),
        T::NULLABLE,
    )
}

/// `UPPER(text)` (Unicode on both backends).
pub fn upper<M, T: TextLength>(e: impl IntoExpr<M, T>) -> TypedExpr<M, T> {
    checked(
        crate::functions::upper(e.into_typed().into_ir()),
        T::NULLABLE,
    )
}

/// Text columns and the type of their length (`i64`, `Option<i64>` for nullable text).
#[diagnostic::on_unimplemented(
    message = "`lower`, `upper` and `length` need text, and this is a `{Self}` expression",
    label = "pass a `String` or `Option<String>` column or expression"
)]
pub trait TextLength: TextType + ColumnType {
    /// The length's type.
    type Len: ColumnType;
}
impl TextLength for String {
    type Len = i64;
}
impl TextLength for Option<String> {
    type Len = Option<i64>;
}

/// The number of characters of a text.
pub fn length<M, T: TextLength>(e: impl IntoExpr<M, T>) -> TypedExpr<M, T::Len> {
    checked(
        crate::functions::length(e.into_typed().into_ir()),
        T::NULLABLE,
    )
}

/// `COALESCE(a, b)`: `a` when it is not NULL, else `b`.
pub fn coalesce<M, T: ColumnType>(
    a: impl IntoExpr<M, Option<T>>,
    b: impl IntoExpr<M, T>,
) -> TypedExpr<M, T> {
    let b = b.into_typed();
    let nullable = b.may_be_null();
    checked(
        crate::functions::coalesce(vec![a.into_typed().into_ir(), b.into_ir()]),
        nullable,
    )
}

/// The current timestamp.
pub fn now<M>() -> TypedExpr<M, DateTime<Utc>> {
    TypedExpr::from_ir(crate::functions::now(), false)
}

/// Which casts exist: numbers to `i32`, `i64`, `f64`; integers and text to `String` (a
/// float's text differs between backends, so it has no cast to text).
#[diagnostic::on_unimplemented(
    message = "`cast` cannot turn a `{Self}` into a `{T}`",
    label = "numbers cast to `i32`, `i64`, `f64`; integers and text to `String`"
)]
pub trait CastInto<T>: ColumnType {}

macro_rules! cast_into {
    ($target:ty: $($src:ty),*) => {$(
        impl CastInto<$target> for $src {}
    )*};
}
cast_into!(i32: i32, i64, f64, Option<i32>, Option<i64>, Option<f64>);
cast_into!(i64: i32, i64, f64, Option<i32>, Option<i64>, Option<f64>);
cast_into!(f64: i32, i64, f64, Option<i32>, Option<i64>, Option<f64>);
cast_into!(String: i32, i64, String, Option<i32>, Option<i64>, Option<String>);

/// `CAST(e AS T)`, NULL staying NULL: `cast::<f64, _, _>(Item::score())`. A float cast to
/// an integer truncates toward zero on both backends.
pub fn cast<T: ColumnType, M, S: CastInto<T>>(e: impl IntoExpr<M, S>) -> TypedExpr<M, Option<T>> {
    checked(
        crate::functions::cast(e.into_typed().into_ir(), T::value_type()),
        true,
    )
}

/// `CASE WHEN cond THEN value …`: `when(Item::score().ge(30), 1).when(…).otherwise(0)`.
pub fn when<M, T: ColumnType>(cond: Condition<M>, then: T) -> Case<M, T> {
    Case {
        whens: vec![(cond.into_ir(), Expr::Value(then.into_value()))],
        _p: std::marker::PhantomData,
    }
}

/// A `CASE` being built.
pub struct Case<M, T> {
    whens: Vec<(Expr, Expr)>,
    _p: std::marker::PhantomData<fn() -> (M, T)>,
}

impl<M, T: ColumnType> Case<M, T> {
    /// Another branch.
    pub fn when(mut self, cond: Condition<M>, then: T) -> Self {
        self.whens
            .push((cond.into_ir(), Expr::Value(then.into_value())));
        self
    }

    /// The value when no branch holds.
    pub fn otherwise(self, default: T) -> TypedExpr<M, T> {
        let nullable = T::NULLABLE;
        checked(
            crate::functions::case(self.whens, Some(Expr::Value(default.into_value()))),
            nullable,
        )
    }

    /// NULL when no branch holds.
    pub fn end(self) -> TypedExpr<M, Option<T>> {
        checked(crate::functions::case(self.whens, None), true)
    }
}

/// One output column of a typed select: a column or an expression of `M`, optionally
/// [`named`].
pub trait Selectable<M> {
    /// Its Rust type.
    type Out: ColumnType;
    /// Its IR and output name.
    fn item(self) -> (Expr, Option<String>);
}

impl<M, T: ColumnType> Selectable<M> for Column<M, T> {
    type Out = T;
    fn item(self) -> (Expr, Option<String>) {
        (self.ir(), None)
    }
}

impl<M, T: ColumnType> Selectable<M> for TypedExpr<M, T> {
    type Out = T;
    fn item(self) -> (Expr, Option<String>) {
        (self.into_ir(), None)
    }
}

/// An output column with a name (`AS name`), as a Python annotation has.
pub struct Named<E>(String, E);

/// Names an output column: `named("low", lower(User::username()))`.
pub fn named<E>(name: impl Into<String>, e: E) -> Named<E> {
    Named(name.into(), e)
}

impl<E> Named<E> {
    /// The output name and the named column or expression.
    pub fn into_parts(self) -> (String, E) {
        (self.0, self.1)
    }
}

impl<M, E: Selectable<M>> Selectable<M> for Named<E> {
    type Out = E::Out;
    fn item(self) -> (Expr, Option<String>) {
        (self.1.item().0, Some(self.0))
    }
}

/// What `Query::values` takes: one column or expression, or a tuple of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be selected from a `{M}` query",
    label = "select columns or expressions of `{M}`, one or a tuple of them"
)]
pub trait Selection<M> {
    /// The typed row.
    type Output;
    /// The output columns: expression, name, type.
    fn items(self) -> Vec<(Expr, Option<String>, ValueType)>;
    /// Reads one row.
    fn decode(row: Vec<Value>) -> Result<Self::Output, String>;
}

macro_rules! selection {
    ($($t:ident $a:ident $i:tt),+) => {
        impl<M, $($t: Selectable<M>),+> Selection<M> for ($($t,)+) {
            type Output = ($($t::Out,)+);
            fn items(self) -> Vec<(Expr, Option<String>, ValueType)> {
                vec![$({
                    let (e, name) = self.$i.item();
                    (e, name, <$t::Out as ColumnType>::value_type())
                }),+]
            }
            fn decode(row: Vec<Value>) -> Result<Self::Output, String> {
                let mut it = row.into_iter();
                $(let $a = <$t::Out as ColumnType>::from_value(it.next().ok_or("missing value")?)?;)+
                Ok(($($a,)+))
            }
        }
    };
}
selection!(A a 0);
selection!(A a 0, B b 1);
selection!(A a 0, B b 1, C c 2);
selection!(A a 0, B b 1, C c 2, D d 3);
selection!(A a 0, B b 1, C c 2, D d 3, E e 4);
selection!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5);
selection!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6);
selection!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7);
