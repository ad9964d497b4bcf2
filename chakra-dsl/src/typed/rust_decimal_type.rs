//! `rust_decimal::Decimal` as a field type (cargo feature `rust_decimal`), next to
//! `bigdecimal::BigDecimal`: the same canonical `Decimal` values, the same type contract
//! (precision and scale checked before any SQL), `sum`/`avg`/`min`/`max` and arithmetic. A
//! stored value with more digits than `rust_decimal` holds (28–29 significant digits) reads
//! as an error naming the field, never a rounded number.

use super::aggregate::{Ordered, Summable};
use super::column_type::{ColumnType, FieldOptions};
use super::markers::{DecimalType, NumericType};
use super::value_for::ValueFor;
use crate::types::{FieldType, ValueType};
use crate::value::Value;
use bigdecimal::BigDecimal;
use rust_decimal::Decimal;
use std::str::FromStr;

impl ColumnType for Decimal {
    type Nullable = Option<Decimal>;
    fn value_type() -> ValueType {
        ValueType::Decimal
    }

    fn field_type(opts: &FieldOptions) -> FieldType {
        FieldType::Decimal {
            precision: opts.precision,
            scale: opts.scale,
        }
    }

    fn to_value(&self) -> Value {
        Value::Decimal(BigDecimal::from_str(&self.to_string()).expect("a decimal's own text"))
    }

    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Decimal(d) => {
                let text = d.to_plain_string();
                Decimal::from_str_exact(&text).map_err(|e| {
                    format!("{text} does not fit rust_decimal::Decimal ({e}); use BigDecimal")
                })
            }
            other if other.is_null() => Err("NULL in a non-nullable Decimal column".into()),
            other => Err(format!(
                "{other} is a {}, not a Decimal",
                other.value_type()
            )),
        }
    }
}

impl ValueFor<Decimal> for Decimal {
    fn into_value_for(self) -> Value {
        ColumnType::to_value(&self)
    }
}

impl ValueFor<Option<Decimal>> for Decimal {
    fn into_value_for(self) -> Value {
        ColumnType::to_value(&self)
    }
}

impl ValueFor<Option<Decimal>> for Option<Decimal> {
    fn into_value_for(self) -> Value {
        ColumnType::into_value(self)
    }
}

impl DecimalType for Decimal {}
impl DecimalType for Option<Decimal> {}
impl NumericType for Decimal {}
impl NumericType for Option<Decimal> {}

impl Summable for Decimal {
    type Sum = Option<Decimal>;
    type Avg = Option<Decimal>;
}

impl Summable for Option<Decimal> {
    type Sum = Option<Decimal>;
    type Avg = Option<Decimal>;
}

impl Ordered for Decimal {
    type Inner = Decimal;
}

impl Ordered for Option<Decimal> {
    type Inner = Decimal;
}
