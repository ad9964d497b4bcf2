//! The generated row reader on PostgreSQL: a row's cells read straight into the fields'
//! types ([`PgCell`]'s direct reads: the cell's type OID checked against the one the field's
//! type reads, then diesel's binary decoding), with no [`Value`] per cell. A cell whose
//! column has another type than the field's reads through the runtime-typed path
//! (`row.rs`'s `decode_pg` and [`coerce`]), so both paths accept and refuse the same
//! cells, and a refusal names the column's type.

use super::row::{decode_pg, FIRST_USER_OID};
use crate::exec::coerce::coerce;
use chakra_dsl::typed::{Cell, ColumnType, ReadRow, RowCells};
use chakra_dsl::{Value, ValueType};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::row::{Field, Row};
use diesel::sql_types::{
    BigInt, Binary, Bool, Date, Double, Integer, Jsonb, Numeric, Text, Timestamptz, Untyped, Uuid,
};

/// A struct read by its generated row reader ([`ReadRow`]), as a diesel row type.
pub struct Typed<M>(pub M);

impl<M: ReadRow> FromSqlRow<Untyped, Pg> for Typed<M> {
    fn build_from_row<'a>(row: &impl Row<'a, Pg>) -> deserialize::Result<Self> {
        let mut cells = PgCells { row, next: 0 };
        // A `chakra_dsl::Error` inside diesel's error: `PgConn::load_models` takes it out.
        M::read_row(&mut cells)
            .map(Typed)
            .map_err(|e| Box::new(e) as _)
    }
}

/// A PostgreSQL row's cells in order.
struct PgCells<'r, R> {
    row: &'r R,
    next: usize,
}

impl<'a, R: Row<'a, Pg>> RowCells for PgCells<'_, R> {
    #[inline]
    fn next<T: ColumnType>(&mut self) -> Option<Result<T, String>> {
        let i = self.next;
        let field = self.row.get(i)?;
        self.next += 1;
        Some(T::read_cell(PgCell(field.value(), i)))
    }
    #[inline]
    fn seek(&mut self, i: usize) {
        self.next = self.next.max(i);
    }
    #[inline]
    fn is_null_at(&self, i: usize) -> bool {
        self.row.get(i).is_none_or(|f| f.is_null())
    }
}

/// One PostgreSQL cell (its bytes and type OID, `None` for NULL) and its position.
pub struct PgCell<'v>(Option<PgValue<'v>>, usize);

/// Reads `raw` with diesel's decoding for the SQL type `ST` when its OID is `oid`.
#[inline]
fn direct<T, ST>(raw: &Option<PgValue<'_>>, oid: u32) -> Option<Result<T, String>>
where
    T: FromSql<ST, Pg>,
{
    match raw {
        Some(v) if v.get_oid().get() == oid => {
            Some(<T as FromSql<ST, Pg>>::from_sql(*v).map_err(|e| e.to_string()))
        }
        _ => None,
    }
}

impl Cell for PgCell<'_> {
    #[inline]
    fn is_null(&self) -> bool {
        self.0.is_none()
    }
    #[inline]
    fn bool(&self) -> Option<Result<bool, String>> {
        direct::<bool, Bool>(&self.0, 16)
    }
    #[inline]
    fn i32(&self) -> Option<Result<i32, String>> {
        direct::<i32, Integer>(&self.0, 23)
    }
    #[inline]
    fn i64(&self) -> Option<Result<i64, String>> {
        direct::<i64, BigInt>(&self.0, 20)
    }
    #[inline]
    fn f64(&self) -> Option<Result<f64, String>> {
        direct::<f64, Double>(&self.0, 701)
    }
    #[inline]
    fn text(&self) -> Option<Result<String, String>> {
        match &self.0 {
            Some(v) if matches!(v.get_oid().get(), 25 | 1043 | 1042 | 19 | 705) => {
                Some(<String as FromSql<Text, Pg>>::from_sql(*v).map_err(|e| e.to_string()))
            }
            _ => None,
        }
    }
    #[inline]
    fn bytes(&self) -> Option<Result<Vec<u8>, String>> {
        direct::<Vec<u8>, Binary>(&self.0, 17)
    }
    #[inline]
    fn decimal(&self) -> Option<Result<bigdecimal::BigDecimal, String>> {
        direct::<bigdecimal::BigDecimal, Numeric>(&self.0, 1700)
    }
    #[inline]
    fn datetime(&self) -> Option<Result<chrono::DateTime<chrono::Utc>, String>> {
        direct::<chrono::DateTime<chrono::Utc>, Timestamptz>(&self.0, 1184)
    }
    #[inline]
    fn date(&self) -> Option<Result<chrono::NaiveDate, String>> {
        direct::<chrono::NaiveDate, Date>(&self.0, 1082)
    }
    #[inline]
    fn uuid(&self) -> Option<Result<uuid::Uuid, String>> {
        direct::<uuid::Uuid, Uuid>(&self.0, 2950)
    }
    #[inline]
    fn json(&self) -> Option<Result<serde_json::Value, String>> {
        direct::<serde_json::Value, Jsonb>(&self.0, 3802)
    }
    fn value(self, ty: &ValueType) -> Result<Value, String> {
        let Some(raw) = self.0 else {
            return Ok(Value::Null(ty.clone()));
        };
        let oid = raw.get_oid().get();
        if oid >= FIRST_USER_OID {
            return Err(format!(
                "the column's type is one the database defined (oid {oid}, such as a native \
                 enum), not {ty}: select it as `::text`"
            ));
        }
        let name = type_name(oid);
        let v = decode_pg(raw).map_err(|e| format!("a {name} column: {e}"))?;
        coerce(self.1, v, ty).map_err(|e| match e {
            chakra_dsl::Error::Decode { reason, .. } => format!("a {name} column: {reason}"),
            other => format!("a {name} column: {other}"),
        })
    }
}

/// The name of a built-in PostgreSQL type by its OID (for errors).
fn type_name(oid: u32) -> String {
    let name = match oid {
        16 => "boolean",
        17 => "bytea",
        19 => "name",
        20 => "bigint",
        21 => "smallint",
        23 => "integer",
        25 => "text",
        114 => "json",
        700 => "real",
        701 => "double precision",
        705 => "unknown",
        1042 => "character",
        1043 => "character varying",
        1082 => "date",
        1114 => "timestamp without time zone",
        1184 => "timestamp with time zone",
        1700 => "numeric",
        2950 => "uuid",
        3802 => "jsonb",
        oid => return format!("type oid {oid}"),
    };
    name.to_owned()
}
