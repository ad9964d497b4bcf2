//! [`Value`]: one runtime value of a canonical type. Everything bound to a statement and
//! everything decoded from a row is a `Value`.

use crate::types::ValueType;
use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;
use uuid::Uuid;

/// A value of one of the canonical types, or a typed NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL. It carries its type, because PostgreSQL needs a typed NULL bind
    /// to resolve operators.
    Null(ValueType),
    /// Boolean.
    Bool(bool),
    /// 32-bit integer.
    I32(i32),
    /// 64-bit integer.
    I64(i64),
    /// 64-bit float.
    F64(f64),
    /// Exact decimal.
    Decimal(BigDecimal),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// UTC timestamp.
    DateTime(DateTime<Utc>),
    /// Date.
    Date(NaiveDate),
    /// JSON document.
    Json(serde_json::Value),
    /// UUID.
    Uuid(Uuid),
    /// Array with a known element type.
    Array(ArrayValue),
}

/// A homogeneous array. Stored typed so that it binds as one PostgreSQL array
/// parameter (`= ANY($1)`) without conversion at bind time.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayValue {
    /// `boolean[]`
    Bool(Vec<Option<bool>>),
    /// `integer[]`
    I32(Vec<Option<i32>>),
    /// `bigint[]`
    I64(Vec<Option<i64>>),
    /// `double precision[]`
    F64(Vec<Option<f64>>),
    /// `numeric[]`
    Decimal(Vec<Option<BigDecimal>>),
    /// `text[]`
    Text(Vec<Option<String>>),
    /// `bytea[]`
    Bytes(Vec<Option<Vec<u8>>>),
    /// `timestamptz[]`
    DateTime(Vec<Option<DateTime<Utc>>>),
    /// `date[]`
    Date(Vec<Option<NaiveDate>>),
    /// `uuid[]`
    Uuid(Vec<Option<Uuid>>),
    /// `jsonb[]`
    Json(Vec<Option<serde_json::Value>>),
}

macro_rules! array_dispatch {
    ($self:expr, $v:ident => $body:expr) => {
        match $self {
            ArrayValue::Bool($v) => $body,
            ArrayValue::I32($v) => $body,
            ArrayValue::I64($v) => $body,
            ArrayValue::F64($v) => $body,
            ArrayValue::Decimal($v) => $body,
            ArrayValue::Text($v) => $body,
            ArrayValue::Bytes($v) => $body,
            ArrayValue::DateTime($v) => $body,
            ArrayValue::Date($v) => $body,
            ArrayValue::Uuid($v) => $body,
            ArrayValue::Json($v) => $body,
        }
    };
}

impl ArrayValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        array_dispatch!(self, v => v.len())
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    pub fn element_type(&self) -> ValueType {
        match self {
            ArrayValue::Bool(_) => ValueType::Bool,
            ArrayValue::I32(_) => ValueType::I32,
            ArrayValue::I64(_) => ValueType::I64,
            ArrayValue::F64(_) => ValueType::F64,
            ArrayValue::Decimal(_) => ValueType::Decimal,
            ArrayValue::Text(_) => ValueType::Text,
            ArrayValue::Bytes(_) => ValueType::Bytes,
            ArrayValue::DateTime(_) => ValueType::DateTime,
            ArrayValue::Date(_) => ValueType::Date,
            ArrayValue::Uuid(_) => ValueType::Uuid,
            ArrayValue::Json(_) => ValueType::Json,
        }
    }

    /// An empty array of the element type, or `None` if arrays of it are not supported.
    pub fn empty(element: &ValueType) -> Option<ArrayValue> {
        Some(match element {
            ValueType::Bool => ArrayValue::Bool(Vec::new()),
            ValueType::I32 => ArrayValue::I32(Vec::new()),
            ValueType::I64 => ArrayValue::I64(Vec::new()),
            ValueType::F64 => ArrayValue::F64(Vec::new()),
            ValueType::Decimal => ArrayValue::Decimal(Vec::new()),
            ValueType::Text => ArrayValue::Text(Vec::new()),
            ValueType::Bytes => ArrayValue::Bytes(Vec::new()),
            ValueType::DateTime => ArrayValue::DateTime(Vec::new()),
            ValueType::Date => ArrayValue::Date(Vec::new()),
            ValueType::Uuid => ArrayValue::Uuid(Vec::new()),
            ValueType::Json => ArrayValue::Json(Vec::new()),
            ValueType::Array(_) => return None,
        })
    }

    /// Builds a typed array from scalar values of `element` type. Returns `None` when a
    /// value is of another type (the caller reports which).
    pub fn from_values(element: &ValueType, values: &[Value]) -> Option<ArrayValue> {
        let mut out = ArrayValue::empty(element)?;
        for v in values {
            if !out.push(v.clone()) {
                return None;
            }
        }
        Some(out)
    }

    /// Appends a value; false when its type does not match the element type.
    pub fn push(&mut self, v: Value) -> bool {
        macro_rules! put {
            ($vec:expr, $variant:ident) => {
                match v {
                    Value::Null(_) => {
                        $vec.push(None);
                        true
                    }
                    Value::$variant(x) => {
                        $vec.push(Some(x));
                        true
                    }
                    _ => false,
                }
            };
        }
        match self {
            ArrayValue::Bool(a) => put!(a, Bool),
            ArrayValue::I32(a) => put!(a, I32),
            ArrayValue::I64(a) => match v {
                Value::Null(_) => {
                    a.push(None);
                    true
                }
                Value::I64(x) => {
                    a.push(Some(x));
                    true
                }
                Value::I32(x) => {
                    a.push(Some(i64::from(x)));
                    true
                }
                _ => false,
            },
            ArrayValue::F64(a) => put!(a, F64),
            ArrayValue::Decimal(a) => put!(a, Decimal),
            ArrayValue::Text(a) => put!(a, Text),
            ArrayValue::Bytes(a) => put!(a, Bytes),
            ArrayValue::DateTime(a) => put!(a, DateTime),
            ArrayValue::Date(a) => put!(a, Date),
            ArrayValue::Uuid(a) => put!(a, Uuid),
            ArrayValue::Json(a) => put!(a, Json),
        }
    }

    /// The elements as scalar [`Value`]s.
    pub fn to_values(&self) -> Vec<Value> {
        let t = self.element_type();
        macro_rules! each {
            ($v:expr, $variant:ident) => {
                $v.iter()
                    .map(|x| match x {
                        Some(x) => Value::$variant(x.clone()),
                        None => Value::Null(t.clone()),
                    })
                    .collect()
            };
        }
        match self {
            ArrayValue::Bool(v) => each!(v, Bool),
            ArrayValue::I32(v) => each!(v, I32),
            ArrayValue::I64(v) => each!(v, I64),
            ArrayValue::F64(v) => each!(v, F64),
            ArrayValue::Decimal(v) => each!(v, Decimal),
            ArrayValue::Text(v) => each!(v, Text),
            ArrayValue::Bytes(v) => each!(v, Bytes),
            ArrayValue::DateTime(v) => each!(v, DateTime),
            ArrayValue::Date(v) => each!(v, Date),
            ArrayValue::Uuid(v) => each!(v, Uuid),
            ArrayValue::Json(v) => each!(v, Json),
        }
    }
}

impl Value {
    /// The runtime type of this value.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Null(t) => t.clone(),
            Value::Bool(_) => ValueType::Bool,
            Value::I32(_) => ValueType::I32,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
            Value::Decimal(_) => ValueType::Decimal,
            Value::Text(_) => ValueType::Text,
            Value::Bytes(_) => ValueType::Bytes,
            Value::DateTime(_) => ValueType::DateTime,
            Value::Date(_) => ValueType::Date,
            Value::Json(_) => ValueType::Json,
            Value::Uuid(_) => ValueType::Uuid,
            Value::Array(a) => ValueType::Array(Box::new(a.element_type())),
        }
    }

    /// True for SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null(_))
    }

    /// Text of a `Text` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an i64, for integer values.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::I32(v) => Some(*v as i64),
            Value::I64(v) => Some(*v),
            _ => None,
        }
    }

    /// Canonical UTC text form used for `DateTime` on text-storing backends
    /// (fixed width, so it sorts and compares like the instant it names).
    pub fn datetime_text(dt: &DateTime<Utc>) -> String {
        use chrono::{Datelike, Timelike};
        let n = dt.naive_utc();
        let (year, nanos) = (n.year(), n.nanosecond());
        if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
            // Signed or five-digit years, leap seconds: chrono's formatting.
            return dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        }
        // `YYYY-MM-DDTHH:MM:SS.ffffffZ`, as the pattern above writes it (microseconds
        // truncated), without parsing the pattern for every value.
        let mut b = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year as u32);
        put(5, 2, n.month());
        put(8, 2, n.day());
        put(11, 2, n.hour());
        put(14, 2, n.minute());
        put(17, 2, n.second());
        put(20, 6, nanos / 1_000);
        // ASCII digits and separators: one copy, not a push per character.
        String::from_utf8(b.to_vec()).expect("ASCII")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null(_) => f.write_str("None"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::F64(v) => write!(f, "{v}"),
            Value::Decimal(v) => write!(f, "{v}"),
            Value::Text(v) => {
                if v.chars().count() > 60 {
                    let short: String = v.chars().take(57).collect();
                    write!(f, "{short:?}...")
                } else {
                    write!(f, "{v:?}")
                }
            }
            Value::Bytes(v) => write!(f, "<{} bytes>", v.len()),
            Value::DateTime(v) => f.write_str(&Value::datetime_text(v)),
            Value::Date(v) => write!(f, "{v}"),
            Value::Json(v) => match crate::limits::json_depth(v) {
                d if d > crate::limits::MAX_DEPTH => write!(f, "<JSON nested {d}+ levels deep>"),
                _ => {
                    let text = v.to_string();
                    if text.chars().count() > 200 {
                        let short: String = text.chars().take(197).collect();
                        write!(f, "{short}...")
                    } else {
                        f.write_str(&text)
                    }
                }
            },
            Value::Uuid(v) => write!(f, "{v}"),
            Value::Array(a) => write!(f, "<array of {} {}>", a.len(), a.element_type()),
        }
    }
}

macro_rules! from_impl {
    ($t:ty, $variant:ident) => {
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v)
            }
        }
    };
}
from_impl!(bool, Bool);
from_impl!(i32, I32);
from_impl!(i64, I64);
from_impl!(f64, F64);
from_impl!(BigDecimal, Decimal);
from_impl!(String, Text);
from_impl!(Vec<u8>, Bytes);
from_impl!(DateTime<Utc>, DateTime);
from_impl!(NaiveDate, Date);
from_impl!(serde_json::Value, Json);
from_impl!(Uuid, Uuid);
from_impl!(ArrayValue, Array);

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
