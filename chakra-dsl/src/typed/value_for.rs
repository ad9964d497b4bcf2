//! [`ValueFor`]: which Rust values a column of type `T` can be compared with, assigned, or
//! listed in `is_in`: values of `T` itself (plus `&str` for text, and a bare `T` or `None`
//! for `Option<T>` columns).

use super::column_type::{ArrayElement, ColumnType};
use crate::value::Value;
use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A Rust value usable where a column of Rust type `T` expects one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value for a column of type `{T}`",
    label = "expected a `{T}` (the column's Rust type), found `{Self}`",
    note = "a column compares and assigns only values of its own Rust type (`&str` also works for `String`, and `T` or `None` for `Option<T>`)"
)]
pub trait ValueFor<T> {
    /// The value to bind.
    fn into_value_for(self) -> Value;
}

/// A `#[derive(chakra::Enum)]` type: marks it so an `Option` of it is a value for an
/// `Option` column of it (an impl the derive cannot write itself, `Option` being foreign).
pub trait EnumColumn: ColumnType {}

impl<T: EnumColumn> ValueFor<Option<T>> for Option<T> {
    fn into_value_for(self) -> Value {
        ColumnType::into_value(self)
    }
}

macro_rules! value_for {
    ($($t:ty),*) => {$(
        impl ValueFor<$t> for $t {
            fn into_value_for(self) -> Value {
                ColumnType::into_value(self)
            }
        }
        impl ValueFor<Option<$t>> for $t {
            fn into_value_for(self) -> Value {
                ColumnType::into_value(self)
            }
        }
        impl ValueFor<Option<$t>> for Option<$t> {
            fn into_value_for(self) -> Value {
                ColumnType::into_value(self)
            }
        }
        impl ValueFor<$t> for &$t {
            fn into_value_for(self) -> Value {
                ColumnType::to_value(self)
            }
        }
        impl ValueFor<Option<$t>> for &$t {
            fn into_value_for(self) -> Value {
                ColumnType::to_value(self)
            }
        }
    )*};
}

value_for!(
    bool,
    i32,
    i64,
    f64,
    String,
    BigDecimal,
    DateTime<Utc>,
    NaiveDate,
    Vec<u8>,
    serde_json::Value,
    Uuid
);

impl ValueFor<String> for &str {
    fn into_value_for(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ValueFor<Option<String>> for &str {
    fn into_value_for(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl<T: ArrayElement> ValueFor<Vec<T>> for Vec<T> {
    fn into_value_for(self) -> Value {
        ColumnType::into_value(self)
    }
}

impl<T: ArrayElement> ValueFor<Option<Vec<T>>> for Vec<T> {
    fn into_value_for(self) -> Value {
        ColumnType::into_value(self)
    }
}

impl<T: ArrayElement> ValueFor<Option<Vec<T>>> for Option<Vec<T>> {
    fn into_value_for(self) -> Value {
        ColumnType::into_value(self)
    }
}
