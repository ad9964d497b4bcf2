//! Rows read on PostgreSQL: each cell decoded by its type OID into a runtime-typed
//! [`Value`] ([`DynRow`], [`NamedRow`]).

use crate::exec::row::{names_of, DynRow, NamedRow, Unresolved, UNKNOWN_NULL};
use chakra_dsl::{ArrayValue, Value};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::row::{Field, Row};
use diesel::sql_types::{
    Array, BigInt, Binary, Bool, Date, Double, Float, Integer, Json, Jsonb, Nullable, Numeric,
    SmallInt, Text, Timestamp, Timestamptz, Untyped, Uuid,
};

impl FromSqlRow<Untyped, Pg> for DynRow {
    fn build_from_row<'a>(row: &impl Row<'a, Pg>) -> deserialize::Result<Self> {
        let n = row.field_count();
        let mut out = Vec::with_capacity(n);
        let mut unresolved = Vec::new();
        for i in 0..n {
            let field = row.get(i).ok_or("row is shorter than its field count")?;
            let name = || field.field_name().unwrap_or("?").to_owned();
            out.push(match field.value() {
                None => UNKNOWN_NULL,
                // A user-defined type (a native enum read by raw SQL): resolved by its OID
                // once the rows are read (`PgConn::resolve`).
                Some(raw) if raw.get_oid().get() >= FIRST_USER_OID => {
                    unresolved.push(Unresolved {
                        index: i,
                        column: name(),
                        type_id: raw.get_oid().get(),
                        bytes: raw.as_bytes().to_vec(),
                    });
                    UNKNOWN_NULL
                }
                // The column named: a built-in type Chakra does not decode says which
                // column to select as `::text`.
                Some(raw) => decode_pg(raw).map_err(|e| format!("column {:?}: {e}", name()))?,
            });
        }
        Ok(DynRow(out, unresolved))
    }
}

/// The first OID of the types a database defines (PostgreSQL's `FirstNormalObjectId`): types
/// from here on (native enums, extensions' types) are looked up in the catalog.
pub const FIRST_USER_OID: u32 = 16384;

fn arr<ST: 'static, T>(raw: PgValue<'_>) -> deserialize::Result<Vec<Option<T>>>
where
    Vec<Option<T>>: FromSql<Array<Nullable<ST>>, Pg>,
{
    <Vec<Option<T>> as FromSql<Array<Nullable<ST>>, Pg>>::from_sql(raw)
}

pub(crate) fn decode_pg(raw: PgValue<'_>) -> deserialize::Result<Value> {
    Ok(match raw.get_oid().get() {
        16 => Value::Bool(<bool as FromSql<Bool, Pg>>::from_sql(raw)?),
        21 => Value::I32(<i16 as FromSql<SmallInt, Pg>>::from_sql(raw)? as i32),
        23 => Value::I32(<i32 as FromSql<Integer, Pg>>::from_sql(raw)?),
        20 => Value::I64(<i64 as FromSql<BigInt, Pg>>::from_sql(raw)?),
        700 => Value::F64(<f32 as FromSql<Float, Pg>>::from_sql(raw)? as f64),
        701 => Value::F64(<f64 as FromSql<Double, Pg>>::from_sql(raw)?),
        1700 => Value::Decimal(FromSql::<Numeric, Pg>::from_sql(raw)?),
        25 | 1043 | 1042 | 19 | 705 => Value::Text(<String as FromSql<Text, Pg>>::from_sql(raw)?),
        17 => Value::Bytes(<Vec<u8> as FromSql<Binary, Pg>>::from_sql(raw)?),
        1184 => Value::DateTime(FromSql::<Timestamptz, Pg>::from_sql(raw)?),
        1114 => {
            let naive: chrono::NaiveDateTime = FromSql::<Timestamp, Pg>::from_sql(raw)?;
            Value::DateTime(naive.and_utc())
        }
        1082 => Value::Date(FromSql::<Date, Pg>::from_sql(raw)?),
        114 => Value::Json(FromSql::<Json, Pg>::from_sql(raw)?),
        3802 => Value::Json(FromSql::<Jsonb, Pg>::from_sql(raw)?),
        2950 => Value::Uuid(FromSql::<Uuid, Pg>::from_sql(raw)?),
        1000 => Value::Array(ArrayValue::Bool(arr::<Bool, _>(raw)?)),
        1007 => Value::Array(ArrayValue::I32(arr::<Integer, _>(raw)?)),
        1016 => Value::Array(ArrayValue::I64(arr::<BigInt, _>(raw)?)),
        1022 => Value::Array(ArrayValue::F64(arr::<Double, _>(raw)?)),
        1231 => Value::Array(ArrayValue::Decimal(arr::<Numeric, _>(raw)?)),
        1009 | 1015 => Value::Array(ArrayValue::Text(arr::<Text, _>(raw)?)),
        1001 => Value::Array(ArrayValue::Bytes(arr::<Binary, _>(raw)?)),
        1185 => Value::Array(ArrayValue::DateTime(arr::<Timestamptz, _>(raw)?)),
        1182 => Value::Array(ArrayValue::Date(arr::<Date, _>(raw)?)),
        2951 => Value::Array(ArrayValue::Uuid(arr::<Uuid, _>(raw)?)),
        3807 => Value::Array(ArrayValue::Json(arr::<Jsonb, _>(raw)?)),
        oid => {
            return Err(format!(
                "unsupported PostgreSQL type oid {oid} (a type Chakra does not decode: select \
                 it as `::text`)"
            )
            .into())
        }
    })
}

impl FromSqlRow<Untyped, Pg> for NamedRow {
    fn build_from_row<'a>(row: &impl Row<'a, Pg>) -> deserialize::Result<Self> {
        let DynRow(values, unresolved) = <DynRow as FromSqlRow<Untyped, Pg>>::build_from_row(row)?;
        Ok(NamedRow {
            names: names_of(row),
            values,
            unresolved,
        })
    }
}

/// The user-defined types among `oids` that are native enums (`pg_type.typtype = 'e'`), and
/// the name of each type found (for errors naming a type that is not one).
pub fn enum_types_sql() -> &'static str {
    "SELECT t.oid::bigint, t.typtype = 'e', format_type(t.oid, NULL) FROM pg_type t \
     WHERE t.oid::bigint = ANY("
}

/// Fills the unresolved cells of `rows` (each `(values, unresolved)`) from `types` (OID →
/// `(is an enum, type name)`): an enum's label is its text (PostgreSQL sends an enum as its
/// label's bytes); any other type is a `Decode` error naming the column and the type.
pub fn resolve_cells<'r>(
    rows: impl Iterator<Item = (&'r mut Vec<Value>, &'r mut Vec<Unresolved>)>,
    types: &std::collections::HashMap<u32, (bool, String)>,
) -> chakra_dsl::Result<()> {
    for (values, unresolved) in rows {
        for u in unresolved.drain(..) {
            let ty = types.get(&u.type_id);
            let text = match ty {
                Some((true, _)) => String::from_utf8(u.bytes).ok(),
                _ => None,
            };
            let Some(text) = text else {
                let what = match ty {
                    Some((_, name)) => format!("the type {name} (oid {})", u.type_id),
                    None => format!("type oid {}", u.type_id),
                };
                return Err(chakra_dsl::Error::Decode {
                    column: u.column,
                    reason: format!(
                        "{what} is not one Chakra decodes (native enums read as their text): \
                         select it as `::text`"
                    ),
                });
            };
            values[u.index] = Value::Text(text);
        }
    }
    Ok(())
}
