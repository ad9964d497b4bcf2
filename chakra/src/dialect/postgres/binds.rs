//! [`DynQuery`] on PostgreSQL: every value bound with its SQL type, NULLs typed.

use crate::exec::query::DynQuery;
use chakra_dsl::{ArrayValue, Value, ValueType};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{
    Array, BigInt, Binary, Bool, Date, Double, Integer, Jsonb, Nullable, Numeric, Text,
    Timestamptz, Uuid,
};
use diesel::QueryResult;

impl QueryFragment<Pg> for DynQuery<'_> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if !self.0.cacheable {
            pass.unsafe_to_cache_prepared();
        }
        let binds = &self.0.binds;
        for (i, part) in self.0.parts.iter().enumerate() {
            pass.push_sql(part);
            if let Some(v) = binds.get(i) {
                bind_pg(&mut pass, v)?;
            }
        }
        Ok(())
    }
}

fn bind_pg<'b>(pass: &mut AstPass<'_, 'b, Pg>, v: &'b Value) -> QueryResult<()> {
    match v {
        Value::Null(t) => bind_pg_null(pass, t),
        Value::Bool(x) => pass.push_bind_param::<Bool, _>(x),
        Value::I32(x) => pass.push_bind_param::<Integer, _>(x),
        Value::I64(x) => pass.push_bind_param::<BigInt, _>(x),
        Value::F64(x) => pass.push_bind_param::<Double, _>(x),
        Value::Decimal(x) => pass.push_bind_param::<Numeric, _>(x),
        Value::Text(x) => pass.push_bind_param::<Text, _>(x),
        Value::Bytes(x) => pass.push_bind_param::<Binary, _>(x),
        Value::DateTime(x) => pass.push_bind_param::<Timestamptz, _>(x),
        Value::Date(x) => pass.push_bind_param::<Date, _>(x),
        Value::Json(x) => pass.push_bind_param::<Jsonb, _>(x),
        Value::Uuid(x) => pass.push_bind_param::<Uuid, _>(x),
        Value::Array(a) => match a {
            ArrayValue::Bool(x) => pass.push_bind_param::<Array<Nullable<Bool>>, _>(x),
            ArrayValue::I32(x) => pass.push_bind_param::<Array<Nullable<Integer>>, _>(x),
            ArrayValue::I64(x) => pass.push_bind_param::<Array<Nullable<BigInt>>, _>(x),
            ArrayValue::F64(x) => pass.push_bind_param::<Array<Nullable<Double>>, _>(x),
            ArrayValue::Decimal(x) => pass.push_bind_param::<Array<Nullable<Numeric>>, _>(x),
            ArrayValue::Text(x) => pass.push_bind_param::<Array<Nullable<Text>>, _>(x),
            ArrayValue::Bytes(x) => pass.push_bind_param::<Array<Nullable<Binary>>, _>(x),
            ArrayValue::DateTime(x) => pass.push_bind_param::<Array<Nullable<Timestamptz>>, _>(x),
            ArrayValue::Date(x) => pass.push_bind_param::<Array<Nullable<Date>>, _>(x),
            ArrayValue::Uuid(x) => pass.push_bind_param::<Array<Nullable<Uuid>>, _>(x),
            ArrayValue::Json(x) => pass.push_bind_param::<Array<Nullable<Jsonb>>, _>(x),
        },
    }
}

/// A typed NULL: PostgreSQL needs the parameter's type to resolve operators.
fn bind_pg_null(pass: &mut AstPass<'_, '_, Pg>, t: &ValueType) -> QueryResult<()> {
    const NO_BOOL: &Option<bool> = &None;
    const NO_I32: &Option<i32> = &None;
    const NO_I64: &Option<i64> = &None;
    const NO_F64: &Option<f64> = &None;
    const NO_DEC: &Option<bigdecimal::BigDecimal> = &None;
    const NO_TEXT: &Option<String> = &None;
    const NO_BYTES: &Option<Vec<u8>> = &None;
    const NO_TS: &Option<chrono::DateTime<chrono::Utc>> = &None;
    const NO_DATE: &Option<chrono::NaiveDate> = &None;
    const NO_JSON: &Option<serde_json::Value> = &None;
    const NO_UUID: &Option<uuid::Uuid> = &None;
    const NO_ARR_I64: &Option<Vec<Option<i64>>> = &None;
    const NO_ARR_I32: &Option<Vec<Option<i32>>> = &None;
    const NO_ARR_TEXT: &Option<Vec<Option<String>>> = &None;
    const NO_ARR_F64: &Option<Vec<Option<f64>>> = &None;
    const NO_ARR_BOOL: &Option<Vec<Option<bool>>> = &None;
    match t {
        ValueType::Bool => pass.push_bind_param::<Nullable<Bool>, _>(NO_BOOL),
        ValueType::I32 => pass.push_bind_param::<Nullable<Integer>, _>(NO_I32),
        ValueType::I64 => pass.push_bind_param::<Nullable<BigInt>, _>(NO_I64),
        ValueType::F64 => pass.push_bind_param::<Nullable<Double>, _>(NO_F64),
        ValueType::Decimal => pass.push_bind_param::<Nullable<Numeric>, _>(NO_DEC),
        ValueType::Text => pass.push_bind_param::<Nullable<Text>, _>(NO_TEXT),
        ValueType::Bytes => pass.push_bind_param::<Nullable<Binary>, _>(NO_BYTES),
        ValueType::DateTime => pass.push_bind_param::<Nullable<Timestamptz>, _>(NO_TS),
        ValueType::Date => pass.push_bind_param::<Nullable<Date>, _>(NO_DATE),
        ValueType::Json => pass.push_bind_param::<Nullable<Jsonb>, _>(NO_JSON),
        ValueType::Uuid => pass.push_bind_param::<Nullable<Uuid>, _>(NO_UUID),
        ValueType::Array(e) => match &**e {
            ValueType::I32 => {
                pass.push_bind_param::<Nullable<Array<Nullable<Integer>>>, _>(NO_ARR_I32)
            }
            ValueType::F64 => {
                pass.push_bind_param::<Nullable<Array<Nullable<Double>>>, _>(NO_ARR_F64)
            }
            ValueType::Bool => {
                pass.push_bind_param::<Nullable<Array<Nullable<Bool>>>, _>(NO_ARR_BOOL)
            }
            ValueType::I64 => {
                pass.push_bind_param::<Nullable<Array<Nullable<BigInt>>>, _>(NO_ARR_I64)
            }
            _ => pass.push_bind_param::<Nullable<Array<Nullable<Text>>>, _>(NO_ARR_TEXT),
        },
    }
}
