//! [`DynRow`]: a row decoded by each cell's runtime type (PostgreSQL type OID, SQLite storage
//! class), read by index. The plan-driven step in [`super::coerce`] then gives each cell its
//! declared type.

use chakra_dsl::{ArrayValue, Value, ValueType};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::row::{Field, Row};
use diesel::sql_types::{
    Array, BigInt, Binary, Bool, Date, Double, Float, Integer, Json, Jsonb, Nullable, Numeric,
    SmallInt, Text, Timestamp, Timestamptz, Untyped, Uuid,
};
use diesel::sqlite::{Sqlite, SqliteType};

/// One row as runtime-typed values.
pub struct DynRow(pub Vec<Value>);

const UNKNOWN_NULL: Value = Value::Null(ValueType::Text);

impl FromSqlRow<Untyped, Pg> for DynRow {
    fn build_from_row<'a>(row: &impl Row<'a, Pg>) -> deserialize::Result<Self> {
        let n = row.field_count();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let field = row.get(i).ok_or("row is shorter than its field count")?;
            out.push(match field.value() {
                None => UNKNOWN_NULL,
                // The column named: a raw query reading a native enum column (or another
                // type Chakra does not decode) says which column to select as `::text`.
                Some(raw) => decode_pg(raw)
                    .map_err(|e| format!("column {:?}: {e}", field.field_name().unwrap_or("?")))?,
            });
        }
        Ok(DynRow(out))
    }
}

fn arr<ST: 'static, T>(raw: PgValue<'_>) -> deserialize::Result<Vec<Option<T>>>
where
    Vec<Option<T>>: FromSql<Array<Nullable<ST>>, Pg>,
{
    <Vec<Option<T>> as FromSql<Array<Nullable<ST>>, Pg>>::from_sql(raw)
}

fn decode_pg(raw: PgValue<'_>) -> deserialize::Result<Value> {
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
                "unsupported PostgreSQL type oid {oid} (a native enum or another type Chakra \
                 does not decode: select it as `::text`)"
            )
            .into())
        }
    })
}

impl FromSqlRow<Untyped, Sqlite> for DynRow {
    fn build_from_row<'a>(row: &impl Row<'a, Sqlite>) -> deserialize::Result<Self> {
        let n = row.field_count();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let field = row.get(i).ok_or("row is shorter than its field count")?;
            out.push(match field.value() {
                None => UNKNOWN_NULL,
                Some(mut v) => match v.value_type() {
                    Some(SqliteType::Long) => Value::I64(v.read_long()),
                    Some(SqliteType::Double) => Value::F64(v.read_double()),
                    Some(SqliteType::Binary) => Value::Bytes(v.read_blob().to_vec()),
                    Some(_) => Value::Text(v.read_text().to_owned()),
                    None => UNKNOWN_NULL,
                },
            });
        }
        Ok(DynRow(out))
    }
}

/// One row as runtime-typed values with its column names (raw SQL, whose columns are
/// matched to fields by name).
pub struct NamedRow {
    /// The column names, in order.
    pub names: Vec<String>,
    /// The values, in the same order.
    pub values: Vec<Value>,
}

fn names_of<'a, DB: diesel::backend::Backend>(row: &impl Row<'a, DB>) -> Vec<String> {
    (0..row.field_count())
        .map(|i| {
            row.get(i)
                .and_then(|f| f.field_name().map(str::to_owned))
                .unwrap_or_else(|| format!("column{}", i + 1))
        })
        .collect()
}

impl FromSqlRow<Untyped, Pg> for NamedRow {
    fn build_from_row<'a>(row: &impl Row<'a, Pg>) -> deserialize::Result<Self> {
        let values = <DynRow as FromSqlRow<Untyped, Pg>>::build_from_row(row)?.0;
        Ok(NamedRow {
            names: names_of(row),
            values,
        })
    }
}

impl FromSqlRow<Untyped, Sqlite> for NamedRow {
    fn build_from_row<'a>(row: &impl Row<'a, Sqlite>) -> deserialize::Result<Self> {
        let values = <DynRow as FromSqlRow<Untyped, Sqlite>>::build_from_row(row)?.0;
        Ok(NamedRow {
            names: names_of(row),
            values,
        })
    }
}

/// The rows of raw SQL with the names of their columns (the first row's; empty when no
/// row came back).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamedRows {
    /// The column names, in order.
    pub columns: Vec<String>,
    /// The rows, each in column order.
    pub rows: Vec<Vec<Value>>,
}

impl NamedRows {
    /// Collects named rows.
    pub fn from_rows(raw: Vec<NamedRow>) -> NamedRows {
        let mut out = NamedRows::default();
        out.rows.reserve(raw.len());
        for (i, r) in raw.into_iter().enumerate() {
            if i == 0 {
                out.columns = r.names;
            }
            out.rows.push(r.values);
        }
        out
    }
}
