//! [`ColumnType`]: the Rust types a model field can have, with their canonical type and
//! their conversions to and from [`Value`].

use super::cell::Cell;
use crate::types::{FieldType, ValueType};
use crate::value::{ArrayValue, Value};
use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// Declaration parameters of a field that shape its canonical type (`max_length = 50`,
/// `precision = 10`, `scale = 2`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FieldOptions {
    /// `max_length = N` on a text field: `String(N)`; without it a `String` field is `Text`.
    pub max_length: Option<u32>,
    /// `precision = P` on a decimal field.
    pub precision: Option<u32>,
    /// `scale = S` on a decimal field.
    pub scale: Option<u32>,
}

/// A Rust type that can be stored in a column: its canonical type, nullability, and the
/// conversions to and from [`Value`] that row decoding and binding use.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a model field",
    label = "this type has no column mapping",
    note = "field types are bool, i32, i64, f64, String, bigdecimal::BigDecimal, chrono::DateTime<Utc>, chrono::NaiveDate, Vec<u8>, serde_json::Value, uuid::Uuid, Vec<T> of those (arrays), and Option<T> of any of them"
)]
pub trait ColumnType: Sized + Clone + Send + Sync + 'static {
    /// True for `Option<T>`: the column is nullable.
    const NULLABLE: bool = false;

    /// The type of this column's values where they may be NULL: `Option<Self>`, or `Self`
    /// when it already is an `Option` (a scalar subquery over no row is NULL).
    type Nullable: ColumnType;

    /// The runtime type of the column's values.
    fn value_type() -> ValueType;

    /// The declared canonical type, given the field's options.
    fn field_type(opts: &FieldOptions) -> FieldType;

    /// The enum type's name of an enum column (`#[derive(chakra::Enum)]`), `None` otherwise.
    fn enum_type() -> Option<&'static str> {
        None
    }

    /// The value to bind for `self`.
    fn to_value(&self) -> Value;

    /// The value to bind for `self`, consuming it (no clone).
    fn into_value(self) -> Value {
        self.to_value()
    }

    /// Reads a decoded cell (already of [`Self::value_type`], or NULL). On failure returns
    /// what was wrong, for an error naming the model and field.
    fn from_value(v: Value) -> Result<Self, String>;

    /// Reads a row's cell as the generated row reader does: straight from the backend's
    /// wire form where the type and the backend have a direct read for the cell, else
    /// through [`Cell::value`] and [`ColumnType::from_value`] (the same values accepted, the
    /// same errors).
    fn read_cell<C: Cell>(cell: C) -> Result<Self, String> {
        Self::from_value(cell.value(&Self::value_type())?)
    }

    /// True when `self`, as an auto-increment primary key, means "not assigned yet": `0` for
    /// integers, `None` for options. Such keys are left out of inserts so the database
    /// generates them.
    fn is_unset_key(&self) -> bool {
        false
    }
}

fn mismatch(v: &Value, want: &str) -> String {
    if v.is_null() {
        format!("NULL in a non-nullable {want} column")
    } else {
        format!("{v} is a {}, not a {want}", v.value_type())
    }
}

macro_rules! scalar {
    ($t:ty, $direct:ident, $variant:ident, $vt:expr, $ft:expr, $unset:expr) => {
        impl ColumnType for $t {
            type Nullable = Option<$t>;
            fn value_type() -> ValueType {
                $vt
            }
            #[allow(unused_variables)]
            fn field_type(opts: &FieldOptions) -> FieldType {
                $ft(opts)
            }
            fn to_value(&self) -> Value {
                Value::$variant(self.clone())
            }
            fn into_value(self) -> Value {
                Value::$variant(self)
            }
            fn from_value(v: Value) -> Result<Self, String> {
                match v {
                    Value::$variant(x) => Ok(x),
                    other => Err(mismatch(&other, stringify!($t))),
                }
            }
            #[inline]
            fn read_cell<C: Cell>(cell: C) -> Result<Self, String> {
                match cell.$direct() {
                    Some(r) => r,
                    None => Self::from_value(cell.value(&$vt)?),
                }
            }
            #[allow(clippy::redundant_closure_call)]
            fn is_unset_key(&self) -> bool {
                $unset(self)
            }
        }
    };
}

scalar!(
    bool,
    bool,
    Bool,
    ValueType::Bool,
    |_| FieldType::Boolean,
    |_: &bool| false
);
scalar!(
    i32,
    i32,
    I32,
    ValueType::I32,
    |_| FieldType::Integer,
    |v: &i32| *v == 0
);
scalar!(
    i64,
    i64,
    I64,
    ValueType::I64,
    |_| FieldType::BigInteger,
    |v: &i64| *v == 0
);
scalar!(
    f64,
    f64,
    F64,
    ValueType::F64,
    |_| FieldType::Float,
    |_: &f64| { false }
);
scalar!(
    String,
    text,
    Text,
    ValueType::Text,
    |o: &FieldOptions| match o.max_length {
        Some(n) => FieldType::String {
            max_length: Some(n)
        },
        None => FieldType::Text,
    },
    |_: &String| false
);
scalar!(
    BigDecimal,
    decimal,
    Decimal,
    ValueType::Decimal,
    |o: &FieldOptions| FieldType::Decimal {
        precision: o.precision,
        scale: o.scale
    },
    |_: &BigDecimal| false
);
scalar!(
    DateTime<Utc>,
    datetime,
    DateTime,
    ValueType::DateTime,
    |_| FieldType::DateTime,
    |_: &DateTime<Utc>| false
);
scalar!(
    NaiveDate,
    date,
    Date,
    ValueType::Date,
    |_| FieldType::Date,
    |_: &NaiveDate| false
);
scalar!(
    Vec<u8>,
    bytes,
    Bytes,
    ValueType::Bytes,
    |_| FieldType::Bytes,
    |_: &Vec<u8>| false
);
scalar!(
    serde_json::Value,
    json,
    Json,
    ValueType::Json,
    |_| FieldType::Json,
    |_: &serde_json::Value| false
);
scalar!(
    Uuid,
    uuid,
    Uuid,
    ValueType::Uuid,
    |_| FieldType::Uuid,
    |u: &Uuid| u.is_nil()
);

impl<T: ColumnType> ColumnType for Option<T> {
    const NULLABLE: bool = true;
    type Nullable = Option<T>;

    fn value_type() -> ValueType {
        T::value_type()
    }
    fn field_type(opts: &FieldOptions) -> FieldType {
        T::field_type(opts)
    }
    fn enum_type() -> Option<&'static str> {
        T::enum_type()
    }
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null(T::value_type()),
        }
    }
    fn into_value(self) -> Value {
        match self {
            Some(v) => v.into_value(),
            None => Value::Null(T::value_type()),
        }
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Null(_) => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
    #[inline]
    fn read_cell<C: Cell>(cell: C) -> Result<Self, String> {
        if cell.is_null() {
            Ok(None)
        } else {
            T::read_cell(cell).map(Some)
        }
    }
    fn is_unset_key(&self) -> bool {
        self.is_none()
    }
}

/// A type that can be the element of an array column (`Vec<T>`: `T[]` on PostgreSQL, JSON
/// text on SQLite).
pub trait ArrayElement: ColumnType {
    /// Wraps elements into the typed array value.
    fn to_array(items: &[Self]) -> ArrayValue;
    /// Reads the elements of a typed array value; `None` elements are an error.
    fn from_array(a: ArrayValue) -> Result<Vec<Self>, String>;
}

macro_rules! array_element {
    ($t:ty, $variant:ident) => {
        impl ArrayElement for $t {
            fn to_array(items: &[Self]) -> ArrayValue {
                ArrayValue::$variant(items.iter().cloned().map(Some).collect())
            }
            fn from_array(a: ArrayValue) -> Result<Vec<Self>, String> {
                match a {
                    ArrayValue::$variant(v) => v
                        .into_iter()
                        .map(|x| {
                            x.ok_or_else(|| {
                                "NULL element in an array of non-null values".to_owned()
                            })
                        })
                        .collect(),
                    other => Err(format!(
                        "an array of {} is not an array of {}",
                        other.element_type(),
                        stringify!($t)
                    )),
                }
            }
        }
    };
}

array_element!(bool, Bool);
array_element!(i32, I32);
array_element!(i64, I64);
array_element!(f64, F64);
array_element!(String, Text);
array_element!(BigDecimal, Decimal);
array_element!(DateTime<Utc>, DateTime);
array_element!(NaiveDate, Date);
array_element!(Uuid, Uuid);
array_element!(serde_json::Value, Json);

impl<T: ArrayElement> ColumnType for Vec<T> {
    type Nullable = Option<Vec<T>>;
    fn value_type() -> ValueType {
        ValueType::Array(Box::new(T::value_type()))
    }
    fn field_type(opts: &FieldOptions) -> FieldType {
        FieldType::Array(Box::new(T::field_type(opts)))
    }
    fn to_value(&self) -> Value {
        Value::Array(T::to_array(self))
    }
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Array(a) => T::from_array(a),
            other => Err(mismatch(&other, "array")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_types() {
        assert_eq!(
            <Option<i64>>::from_value(Value::Null(ValueType::I64)),
            Ok(None)
        );
        assert_eq!(i64::from_value(Value::I64(3)), Ok(3));
        assert!(i64::from_value(Value::Null(ValueType::I64)).is_err());
        assert_eq!(
            String::field_type(&FieldOptions {
                max_length: Some(5),
                ..Default::default()
            }),
            FieldType::String {
                max_length: Some(5)
            }
        );
        assert_eq!(
            String::field_type(&FieldOptions::default()),
            FieldType::Text
        );
        let v = vec![1i64, 2].to_value();
        assert_eq!(<Vec<i64>>::from_value(v), Ok(vec![1, 2]));
        assert!(0i64.is_unset_key() && !1i64.is_unset_key());
        assert!(<Option<i64>>::None.is_unset_key());
    }
}
