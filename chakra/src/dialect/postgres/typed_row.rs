//! The generated row reader on PostgreSQL: a row's cells read straight into the fields'
//! types ([`PgCell`]'s direct reads: the cell's type OID checked against the one the field's
//! type reads, then diesel's binary decoding), with no [`Value`] per cell. A cell whose
//! column has another type than the field's reads through the runtime-typed path
//! (`row.rs`'s `decode_pg` and [`coerce`]), so both paths accept and refuse the same
//! cells, and a refusal names the column's type.
//!
//! Every cell's OID is still compared with the one its field's type reads, but the OID of
//! a column is looked up once per result set, not once per cell: every row of one result
//! shares its row description. [`CheckedColumns`] wraps the read of one statement's rows
//! and keeps the OIDs of its first columns (as many as the statement selects, at most 64)
//! as their first non-NULL cells give them, lent to the row reader through a thread-local
//! around each poll (the rows are decoded inside the poll, on whichever thread runs it); a
//! cell past the kept columns, or read outside such a read, looks its OID up as before.
//! Only the kept columns are lent and taken back on each poll (a 6-column model: 6 slots,
//! not 64).

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
use std::cell::Cell as StdCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How many columns of a result keep their OID ([`CheckedColumns`]).
const KEPT: usize = 64;

/// The OIDs of a result's first [`KEPT`] columns, 0 where not seen yet.
type ColumnOids = [u32; KEPT];

thread_local! {
    /// How many columns' OIDs a [`CheckedColumns`] read being polled on this thread has
    /// lent in [`OIDS`] (0: none; a slot at or past it is not the read's).
    static LENT: StdCell<usize> = const { StdCell::new(0) };
    /// The column OIDs of the result being read ([`CheckedColumns`]), its first [`LENT`]
    /// slots; all 0 outside such a read (nothing kept).
    static OIDS: [StdCell<u32>; KEPT] = const { [const { StdCell::new(0) }; KEPT] };
}

/// The read of one statement's rows by a generated reader, with each column's OID kept
/// from row to row (lent to [`Typed`] during each poll; what the thread held before put
/// back after, so reads may nest). Only for a future reading the rows of one result set.
pub struct CheckedColumns<F> {
    oids: ColumnOids,
    /// How many of `oids` are lent: the statement's columns, at most [`KEPT`].
    columns: usize,
    read: Pin<Box<F>>,
}

impl<F: Future> CheckedColumns<F> {
    /// `read`, no column's OID known yet; the first 64 columns keep theirs.
    pub fn new(read: F) -> CheckedColumns<F> {
        CheckedColumns::with_columns(read, KEPT)
    }

    /// `read` of a statement selecting `columns` columns, no column's OID known yet (the
    /// OIDs of columns past `columns`, or past the 64th, are looked up per cell).
    pub fn with_columns(read: F, columns: usize) -> CheckedColumns<F> {
        CheckedColumns {
            oids: [0; KEPT],
            columns: columns.min(KEPT),
            read: Box::pin(read),
        }
    }
}

/// Swaps the first `n` of `oids` with the thread's kept OIDs.
fn swap_oids(oids: &mut ColumnOids, n: usize) {
    OIDS.with(|kept| {
        for (k, o) in kept.iter().zip(oids.iter_mut()).take(n) {
            *o = k.replace(*o);
        }
    });
}

impl<F: Future> Future for CheckedColumns<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let lent = Lend::new(&mut this.oids, this.columns);
        let r = this.read.as_mut().poll(cx);
        drop(lent);
        r
    }
}

/// A read's first `n` OIDs lent to the thread until dropped, then taken back with what it
/// learnt (a panic inside the poll puts the thread's own back too).
struct Lend<'a> {
    oids: &'a mut ColumnOids,
    n: usize,
    /// How many the thread had lent before (an outer read's), put back on drop.
    before: usize,
}

impl<'a> Lend<'a> {
    fn new(oids: &'a mut ColumnOids, n: usize) -> Lend<'a> {
        swap_oids(oids, n);
        Lend {
            oids,
            n,
            before: LENT.replace(n),
        }
    }
}

impl Drop for Lend<'_> {
    fn drop(&mut self) {
        LENT.set(self.before);
        swap_oids(self.oids, self.n);
    }
}

/// The OID of cell `v` in column `at`: the one kept for the column when a cell of it was
/// seen in this result, else looked up (and kept, when the column is one a
/// [`CheckedColumns`] read lent).
#[inline]
fn oid_of(v: &PgValue<'_>, at: usize) -> u32 {
    if at >= LENT.get() {
        return v.get_oid().get();
    }
    let kept = OIDS.with(|k| k[at].get());
    if kept != 0 {
        return kept;
    }
    let oid = v.get_oid().get();
    OIDS.with(|k| k[at].set(oid));
    oid
}

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

/// Reads `raw` (in column `at`) with diesel's decoding for the SQL type `ST` when its OID
/// is `oid`.
#[inline]
fn direct<T, ST>(raw: &Option<PgValue<'_>>, at: usize, oid: u32) -> Option<Result<T, String>>
where
    T: FromSql<ST, Pg>,
{
    match raw {
        Some(v) if oid_of(v, at) == oid => {
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
        direct::<bool, Bool>(&self.0, self.1, 16)
    }
    #[inline]
    fn i32(&self) -> Option<Result<i32, String>> {
        direct::<i32, Integer>(&self.0, self.1, 23)
    }
    #[inline]
    fn i64(&self) -> Option<Result<i64, String>> {
        direct::<i64, BigInt>(&self.0, self.1, 20)
    }
    #[inline]
    fn f64(&self) -> Option<Result<f64, String>> {
        direct::<f64, Double>(&self.0, self.1, 701)
    }
    #[inline]
    fn text(&self) -> Option<Result<String, String>> {
        match &self.0 {
            Some(v) if matches!(oid_of(v, self.1), 25 | 1043 | 1042 | 19 | 705) => {
                Some(<String as FromSql<Text, Pg>>::from_sql(*v).map_err(|e| e.to_string()))
            }
            _ => None,
        }
    }
    #[inline]
    fn bytes(&self) -> Option<Result<Vec<u8>, String>> {
        direct::<Vec<u8>, Binary>(&self.0, self.1, 17)
    }
    #[inline]
    fn decimal(&self) -> Option<Result<bigdecimal::BigDecimal, String>> {
        direct::<bigdecimal::BigDecimal, Numeric>(&self.0, self.1, 1700)
    }
    #[inline]
    fn datetime(&self) -> Option<Result<chrono::DateTime<chrono::Utc>, String>> {
        direct::<chrono::DateTime<chrono::Utc>, Timestamptz>(&self.0, self.1, 1184)
    }
    #[inline]
    fn date(&self) -> Option<Result<chrono::NaiveDate, String>> {
        direct::<chrono::NaiveDate, Date>(&self.0, self.1, 1082)
    }
    #[inline]
    fn uuid(&self) -> Option<Result<uuid::Uuid, String>> {
        direct::<uuid::Uuid, Uuid>(&self.0, self.1, 2950)
    }
    #[inline]
    fn json(&self) -> Option<Result<serde_json::Value, String>> {
        direct::<serde_json::Value, Jsonb>(&self.0, self.1, 3802)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    fn cell(oid: &NonZeroU32) -> PgValue<'_> {
        PgValue::new(&[], oid)
    }

    const TEXT: NonZeroU32 = NonZeroU32::new(25).unwrap();
    const INT8: NonZeroU32 = NonZeroU32::new(20).unwrap();

    #[test]
    fn only_the_lent_columns_keep_their_oid() {
        let mut oids = [0u32; KEPT];
        {
            let _lent = Lend::new(&mut oids, 2);
            // Column 1 is lent: the first OID seen is kept for the result.
            assert_eq!(oid_of(&cell(&TEXT), 1), 25);
            assert_eq!(oid_of(&cell(&INT8), 1), 25);
            // Column 5 is past the lent ones: looked up every time, nothing kept.
            assert_eq!(oid_of(&cell(&TEXT), 5), 25);
            assert_eq!(oid_of(&cell(&INT8), 5), 20);
        }
        assert_eq!(oids[1], 25, "taken back with what the read learnt");
        assert_eq!(oids[5], 0);
        // Outside a read nothing is kept, and the thread holds nothing.
        assert_eq!(oid_of(&cell(&INT8), 1), 20);
        assert!(OIDS.with(|k| k.iter().all(|c| c.get() == 0)));
        assert_eq!(LENT.get(), 0);
    }

    #[test]
    fn a_nested_read_leaves_the_outer_reads_oids_alone() {
        let mut outer = [0u32; KEPT];
        let mut inner = [0u32; KEPT];
        {
            let _o = Lend::new(&mut outer, 3);
            assert_eq!(oid_of(&cell(&TEXT), 2), 25);
            {
                let _i = Lend::new(&mut inner, 1);
                assert_eq!(oid_of(&cell(&INT8), 0), 20);
                // Column 2 is not the inner read's: looked up.
                assert_eq!(oid_of(&cell(&INT8), 2), 20);
            }
            // The outer read's column 2 is as it left it.
            assert_eq!(oid_of(&cell(&INT8), 2), 25);
        }
        assert_eq!(inner[0], 20);
        assert_eq!(outer[2], 25);
        assert_eq!(outer[0], 0);
        assert_eq!(LENT.get(), 0);
    }
}
