//! Typed aggregates: `count(User::id())`, `sum(User::balance())`, `avg`, `min`, `max`, each
//! with `.distinct()` and `.filter(condition)`, and [`AggregateSet`], the tuples of them
//! `Query::aggregate` takes and returns typed (`(i64, Option<BigDecimal>)`).
//!
//! The result types follow [`crate::aggregate`]: `count` is `i64`; `sum` of integers is
//! `Option<i64>`, of `f64` `Option<f64>`, of `BigDecimal` `Option<BigDecimal>`; `avg` of
//! integers and floats is `Option<f64>`, of decimals `Option<BigDecimal>`; `min`/`max` are an
//! `Option` of the column's type. `None` is the value over no rows.

use super::column::Column;
use super::column_type::ColumnType;
use super::filter::FilterFor;
use crate::ir::{AggFunc, Expr};
use crate::value::Value;
use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use std::marker::PhantomData;

/// An aggregate over model `M` whose result has Rust type `T`.
pub struct Agg<M, T> {
    func: AggFunc,
    arg: Option<Expr>,
    field: &'static str,
    name: Option<String>,
    distinct: bool,
    filter: Option<Expr>,
    _p: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Agg<M, T> {
    fn clone(&self) -> Self {
        Agg {
            func: self.func,
            arg: self.arg.clone(),
            field: self.field,
            name: self.name.clone(),
            distinct: self.distinct,
            filter: self.filter.clone(),
            _p: PhantomData,
        }
    }
}

impl<M, T> std::fmt::Debug for Agg<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.func.name(), self.field)
    }
}

impl<M, T> Agg<M, T> {
    fn new(func: AggFunc, arg: Option<Expr>, field: &'static str) -> Self {
        Agg {
            func,
            arg,
            field,
            name: None,
            distinct: false,
            filter: None,
            _p: PhantomData,
        }
    }

    /// Over distinct values only (`COUNT(DISTINCT …)`).
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Over the rows where `cond` holds only (`FILTER (WHERE …)`); several filters must all
    /// hold.
    pub fn filter<C: FilterFor<M>>(mut self, cond: C) -> Self {
        let c = cond.into_condition().into_ir();
        self.filter = Some(match self.filter.take() {
            Some(f) => f.and(c),
            None => c,
        });
        self
    }

    /// Names the aggregate's output column (as a Python keyword argument does:
    /// `aggregate(n=Count("id"))` is `count(M::id()).named("n")`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The aggregate as a typed expression, for `having` and `order_by`
    /// (`count(M::id()).expr().gt(1)`).
    pub fn expr(self) -> super::TypedExpr<M, T> {
        super::TypedExpr::from_ir(self.into_ir(), true)
    }

    /// The name Django gives this aggregate without an explicit one (`score__sum`; `count`
    /// for `count_all()`), or the one given with [`Agg::named`].
    pub fn default_alias(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        if self.field == "*" {
            return self.func.name().to_lowercase();
        }
        format!("{}__{}", self.field, self.func.name().to_lowercase())
    }

    /// The IR expression.
    pub fn into_ir(self) -> Expr {
        let what = self.field;
        crate::aggregate::aggregate(self.func, self.arg, self.distinct, self.filter, ("", what))
            .expect("the typed layer only builds aggregates that apply to their column type")
    }
}

/// `COUNT(column or expression)`: the rows where it is not NULL.
pub fn count<M, T>(c: impl AggArg<M, T>) -> Agg<M, i64> {
    over(AggFunc::Count, c)
}

/// `COUNT(*)`: every row.
pub fn count_all<M>() -> Agg<M, i64> {
    Agg::new(AggFunc::Count, None, "*")
}

/// Column types `sum` applies to, with the Rust type of the sum.
#[diagnostic::on_unimplemented(
    message = "`sum` needs a numeric column, and this is a `{Self}` column",
    label = "`sum` and `avg` take `i32`, `i64`, `f64` or `BigDecimal` columns (or an `Option` of one)"
)]
pub trait Summable: ColumnType {
    /// The sum's type (`None` over no rows).
    type Sum: ColumnType;
    /// The average's type (`None` over no rows).
    type Avg: ColumnType;
}

/// Column types `min` and `max` apply to.
#[diagnostic::on_unimplemented(
    message = "`min` and `max` need an ordered column, and this is a `{Self}` column",
    label = "`min` and `max` take number, text, date and timestamp columns (or an `Option` of one)"
)]
pub trait Ordered: ColumnType {
    /// The column's type without `Option`.
    type Inner: ColumnType;
}

macro_rules! summable {
    ($t:ty, $sum:ty, $avg:ty) => {
        impl Summable for $t {
            type Sum = Option<$sum>;
            type Avg = Option<$avg>;
        }
        impl Summable for Option<$t> {
            type Sum = Option<$sum>;
            type Avg = Option<$avg>;
        }
    };
}
summable!(i32, i64, f64);
summable!(i64, i64, f64);
summable!(f64, f64, f64);
summable!(BigDecimal, BigDecimal, BigDecimal);

macro_rules! ordered {
    ($($t:ty),*) => {$(
        impl Ordered for $t {
            type Inner = $t;
        }
        impl Ordered for Option<$t> {
            type Inner = $t;
        }
    )*};
}
ordered!(i32, i64, f64, BigDecimal, String, NaiveDate, DateTime<Utc>);
// An enum column's `min`/`max` compare its stored text (as ordering does on both backends);
// `#[derive(chakra::Enum)]` implements it for the enum itself.
impl<T: super::EnumColumn + Ordered<Inner = T>> Ordered for Option<T> {
    type Inner = T;
}

/// What an aggregate takes: a column of model `M` (its field name names the result,
/// `price__sum`) or a typed expression over `M` (`sum(Line::unit_price() * Line::quantity())`,
/// named `expr__sum` unless [`Agg::named`] names it).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a column or expression of `{M}` to aggregate",
    label = "pass a column (`sum(Line::quantity())`) or an expression over the same model (`sum(Line::unit_price() * Line::quantity())`)"
)]
pub trait AggArg<M, T> {
    /// The argument and the name the default alias uses.
    fn agg_arg(self) -> (Expr, &'static str);
}

impl<M, T: ColumnType> AggArg<M, T> for Column<M, T> {
    fn agg_arg(self) -> (Expr, &'static str) {
        (self.ir(), self.field_name())
    }
}

impl<M, T> AggArg<M, T> for super::TypedExpr<M, T> {
    fn agg_arg(self) -> (Expr, &'static str) {
        (self.into_ir(), "expr")
    }
}

fn over<M, T, R>(func: AggFunc, a: impl AggArg<M, T>) -> Agg<M, R> {
    let (e, name) = a.agg_arg();
    Agg::new(func, Some(e), name)
}

/// `SUM(column or expression)`.
pub fn sum<M, T: Summable>(c: impl AggArg<M, T>) -> Agg<M, T::Sum> {
    over(AggFunc::Sum, c)
}

/// `AVG(column or expression)`.
pub fn avg<M, T: Summable>(c: impl AggArg<M, T>) -> Agg<M, T::Avg> {
    over(AggFunc::Avg, c)
}

/// `MIN(column or expression)`.
pub fn min<M, T: Ordered>(c: impl AggArg<M, T>) -> Agg<M, Option<T::Inner>> {
    over(AggFunc::Min, c)
}

/// `MAX(column or expression)`.
pub fn max<M, T: Ordered>(c: impl AggArg<M, T>) -> Agg<M, Option<T::Inner>> {
    over(AggFunc::Max, c)
}

/// One aggregate or a tuple of them, over model `M`: what `Query::aggregate` takes.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of aggregates over `{M}`",
    label = "pass one aggregate or a tuple of them (`(count(M::id()), sum(M::amount()))`) built from `{M}`'s columns"
)]
pub trait AggregateSet<M> {
    /// The typed result (one value, or a tuple).
    type Output;
    /// The aggregates as `(alias, IR expression)`, in order.
    fn items(self) -> Vec<(String, Expr)>;
    /// Reads the one result row.
    fn decode(row: Vec<Value>) -> Result<Self::Output, String>;
}

impl<M, T: ColumnType> AggregateSet<M> for Agg<M, T> {
    type Output = T;
    fn items(self) -> Vec<(String, Expr)> {
        vec![(self.default_alias(), self.into_ir())]
    }
    fn decode(row: Vec<Value>) -> Result<T, String> {
        let v = row.into_iter().next().ok_or("no value")?;
        T::from_value(v)
    }
}

fn dedupe(items: &mut [(String, Expr)]) {
    for i in 1..items.len() {
        if items[..i].iter().any(|(n, _)| *n == items[i].0) {
            items[i].0 = format!("{}_{i}", items[i].0);
        }
    }
}

macro_rules! tuple_set {
    ($($t:ident $a:ident $i:tt),+) => {
        impl<M, $($t: ColumnType),+> AggregateSet<M> for ($(Agg<M, $t>,)+) {
            type Output = ($($t,)+);
            fn items(self) -> Vec<(String, Expr)> {
                let mut v = vec![$((self.$i.default_alias(), self.$i.into_ir())),+];
                dedupe(&mut v);
                v
            }
            fn decode(row: Vec<Value>) -> Result<Self::Output, String> {
                let mut it = row.into_iter();
                $(let $a = $t::from_value(it.next().ok_or("missing value")?)?;)+
                Ok(($($a,)+))
            }
        }
    };
}
tuple_set!(A a 0);
tuple_set!(A a 0, B b 1);
tuple_set!(A a 0, B b 1, C c 2);
tuple_set!(A a 0, B b 1, C c 2, D d 3);
tuple_set!(A a 0, B b 1, C c 2, D d 3, E e 4);
tuple_set!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5);
tuple_set!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6);
tuple_set!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7);
