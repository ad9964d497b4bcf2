//! [`GroupKey`]: what `Query::group_by` takes: one column or a tuple of columns of the
//! query's model. The grouped query selects exactly these columns and the aggregates, so a
//! column that is not grouped cannot be selected (there is no way to name one).

use super::column::Column;
use super::column_type::ColumnType;
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
