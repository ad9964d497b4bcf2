//! [`GroupKey`]: one column or a tuple of columns of a model (what `on_conflict`,
//! `save_fields` and `distinct_on` take), and [`GroupByKey`]: what `Query::group_by` takes —
//! columns or typed expressions (a related row's column across a relation). The grouped
//! query selects exactly these keys and the aggregates, so a column that is not grouped
//! cannot be selected (there is no way to name one).

use super::column::Column;
use super::column_type::ColumnType;
use super::typed_expr::TypedExpr;
use crate::ir::Expr;
use crate::types::ValueType;
use crate::value::Value;

/// One grouping column: its output name, expression and type.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyColumn {
    /// The output name (the field's name).
    pub name: String,
    /// The column.
    pub expr: Expr,
    /// Its type.
    pub ty: ValueType,
    /// The output alias in a grouped select (`named("product__name", …)`); none selects
    /// the key unaliased.
    pub alias: Option<String>,
}

/// One column or a tuple of columns of `M` to group by.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot group a `{M}` query",
    label = "`group_by` takes one column of `{M}` or a tuple of them (`(M::country(), M::city())`)"
)]
pub trait GroupKey<M> {
    /// The Rust values of one group's key.
    type Output;
    /// The grouping columns, in order.
    fn columns(self) -> Vec<KeyColumn>;
    /// Reads the key from the first cells of a row (as many as there are columns).
    fn decode(cells: Vec<Value>) -> Result<Self::Output, String>;
}

fn key<M, T: ColumnType>(c: Column<M, T>) -> KeyColumn {
    KeyColumn {
        name: c.field_name().to_owned(),
        expr: c.ir(),
        ty: T::value_type(),
        alias: None,
    }
}

impl<M, T: ColumnType> GroupKey<M> for Column<M, T> {
    type Output = T;
    fn columns(self) -> Vec<KeyColumn> {
        vec![key(self)]
    }
    fn decode(cells: Vec<Value>) -> Result<T, String> {
        T::from_value(cells.into_iter().next().ok_or("missing key")?)
    }
}

macro_rules! tuple_key {
    ($($t:ident $a:ident $i:tt),+) => {
        impl<M, $($t: ColumnType),+> GroupKey<M> for ($(Column<M, $t>,)+) {
            type Output = ($($t,)+);
            fn columns(self) -> Vec<KeyColumn> {
                vec![$(key(self.$i)),+]
            }
            fn decode(cells: Vec<Value>) -> Result<Self::Output, String> {
                let mut it = cells.into_iter();
                $(let $a = $t::from_value(it.next().ok_or("missing key")?)?;)+
                Ok(($($a,)+))
            }
        }
    };
}
tuple_key!(A a 0);
tuple_key!(A a 0, B b 1);
tuple_key!(A a 0, B b 1, C c 2);
tuple_key!(A a 0, B b 1, C c 2, D d 3);

/// One part of a `group_by` key: a column of `M`, or a typed expression over `M` — such as
/// a related row's column (`OrderLine::product().value(Product::name())`, Django's
/// `values("product__name")`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot group a `{M}` query",
    label = "`group_by` takes a column or expression of `{M}` (or a tuple of them)",
    note = "group by a related row's column with `M::relation().value(Other::column())`"
)]
pub trait KeyPart<M> {
    /// The Rust value of this part of a group's key.
    type Output;
    /// The grouping column or expression.
    fn key_column(self) -> KeyColumn;
    /// Reads this part from one cell.
    fn decode_part(cell: Value) -> Result<Self::Output, String>;
}

impl<M, T: ColumnType> KeyPart<M> for Column<M, T> {
    type Output = T;
    fn key_column(self) -> KeyColumn {
        key(self)
    }
    fn decode_part(cell: Value) -> Result<T, String> {
        T::from_value(cell)
    }
}

impl<M, T: ColumnType> KeyPart<M> for TypedExpr<M, T> {
    type Output = T;
    fn key_column(self) -> KeyColumn {
        KeyColumn {
            name: "expr".into(),
            expr: self.into_ir(),
            ty: T::value_type(),
            alias: None,
        }
    }
    fn decode_part(cell: Value) -> Result<T, String> {
        T::from_value(cell)
    }
}

/// A named key part: selected under the name (`named("author__username",
/// Post::author().value(User::username()))` is Django's `values("author__username")`).
impl<M, E: KeyPart<M>> KeyPart<M> for super::functions::Named<E> {
    type Output = E::Output;
    fn key_column(self) -> KeyColumn {
        let (name, e) = self.into_parts();
        let mut k = e.key_column();
        k.name = name.clone();
        k.alias = Some(name);
        k
    }
    fn decode_part(cell: Value) -> Result<Self::Output, String> {
        E::decode_part(cell)
    }
}

/// What `Query::group_by` takes: one column or expression of `M`, or a tuple of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot group a `{M}` query",
    label = "`group_by` takes a column or expression of `{M}`, or a tuple of them (`(M::country(), M::city())`)",
    note = "group by a related row's column with `M::relation().value(Other::column())`"
)]
pub trait GroupByKey<M> {
    /// The Rust values of one group's key.
    type Output;
    /// The grouping expressions, in order.
    fn group_columns(self) -> Vec<KeyColumn>;
    /// Reads the key from the first cells of a row (as many as there are parts).
    fn decode_key(cells: Vec<Value>) -> Result<Self::Output, String>;
}

impl<M, T: ColumnType> GroupByKey<M> for Column<M, T> {
    type Output = T;
    fn group_columns(self) -> Vec<KeyColumn> {
        vec![self.key_column()]
    }
    fn decode_key(cells: Vec<Value>) -> Result<T, String> {
        T::from_value(cells.into_iter().next().ok_or("missing key")?)
    }
}

impl<M, T: ColumnType> GroupByKey<M> for TypedExpr<M, T> {
    type Output = T;
    fn group_columns(self) -> Vec<KeyColumn> {
        vec![self.key_column()]
    }
    fn decode_key(cells: Vec<Value>) -> Result<T, String> {
        T::from_value(cells.into_iter().next().ok_or("missing key")?)
    }
}

impl<M, E: KeyPart<M>> GroupByKey<M> for super::functions::Named<E> {
    type Output = E::Output;
    fn group_columns(self) -> Vec<KeyColumn> {
        vec![self.key_column()]
    }
    fn decode_key(cells: Vec<Value>) -> Result<Self::Output, String> {
        E::decode_part(cells.into_iter().next().ok_or("missing key")?)
    }
}

macro_rules! tuple_group_key {
    ($($t:ident $a:ident $i:tt),+) => {
        impl<M, $($t: KeyPart<M>),+> GroupByKey<M> for ($($t,)+) {
            type Output = ($($t::Output,)+);
            fn group_columns(self) -> Vec<KeyColumn> {
                vec![$(self.$i.key_column()),+]
            }
            fn decode_key(cells: Vec<Value>) -> Result<Self::Output, String> {
                let mut it = cells.into_iter();
                $(let $a = $t::decode_part(it.next().ok_or("missing key")?)?;)+
                Ok(($($a,)+))
            }
        }
    };
}
tuple_group_key!(A a 0);
tuple_group_key!(A a 0, B b 1);
tuple_group_key!(A a 0, B b 1, C c 2);
tuple_group_key!(A a 0, B b 1, C c 2, D d 3);
