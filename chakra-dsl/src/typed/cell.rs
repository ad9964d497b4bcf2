//! The generated row reader's side of a result row: [`Cell`] (one cell as a backend hands it
//! over), [`RowCells`] (a row's cells in order) and [`ReadRow`] (a struct read from them,
//! which `#[derive(Model)]` implements). A field's type reads its cell straight from the
//! backend's wire form when the backend has a direct read for it ([`ColumnType::read_cell`]),
//! with no intermediate [`Value`] and no per-cell type dispatch; anything else (a column of
//! another type than the field's, arrays, enums, NULL in a non-nullable field) goes through
//! the runtime-typed path ([`Cell::value`]), so the two paths accept and refuse the same
//! cells.

use super::column_type::ColumnType;
use crate::types::ValueType;
use crate::value::Value;
use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// One cell of a result row. Each direct read is `None` when the backend has none for this
/// cell (a NULL, a column of another type than asked): the caller then reads
/// [`Cell::value`], the runtime-typed path with its named errors.
pub trait Cell: Sized {
    /// True when the cell is NULL.
    fn is_null(&self) -> bool;
    /// The cell as a `bool`, read directly.
    fn bool(&self) -> Option<Result<bool, String>> {
        None
    }
    /// The cell as an `i32`, read directly.
    fn i32(&self) -> Option<Result<i32, String>> {
        None
    }
    /// The cell as an `i64`, read directly.
    fn i64(&self) -> Option<Result<i64, String>> {
        None
    }
    /// The cell as an `f64`, read directly.
    fn f64(&self) -> Option<Result<f64, String>> {
        None
    }
    /// The cell as text, read directly.
    fn text(&self) -> Option<Result<String, String>> {
        None
    }
    /// The cell as bytes, read directly.
    fn bytes(&self) -> Option<Result<Vec<u8>, String>> {
        None
    }
    /// The cell as a decimal, read directly.
    fn decimal(&self) -> Option<Result<BigDecimal, String>> {
        None
    }
    /// The cell as a UTC timestamp, read directly.
    fn datetime(&self) -> Option<Result<DateTime<Utc>, String>> {
        None
    }
    /// The cell as a date, read directly.
    fn date(&self) -> Option<Result<NaiveDate, String>> {
        None
    }
    /// The cell as a UUID, read directly.
    fn uuid(&self) -> Option<Result<Uuid, String>> {
        None
    }
    /// The cell as a JSON document, read directly.
    fn json(&self) -> Option<Result<serde_json::Value, String>> {
        None
    }
    /// The cell decoded by its runtime type and given the type `ty` (a typed NULL for a
    /// NULL), as the runtime-typed row path does; on failure, what was wrong (the column's
    /// type and value), for an error naming the model and field.
    fn value(self, ty: &ValueType) -> Result<Value, String>;
}

/// A row's cells in order, handed to [`ReadRow::read_row`].
pub trait RowCells {
    /// Reads the next cell as a `T` ([`ColumnType::read_cell`]); `None` when the row has no
    /// more cells.
    fn next<T: ColumnType>(&mut self) -> Option<Result<T, String>>;
    /// Makes cell `i` the next one read (a `select_related` row's next model block). Only
    /// forward: a cell already read is not read again.
    fn seek(&mut self, i: usize);
    /// True when cell `i` is NULL or the row has no cell `i` (a joined model's key: NULL
    /// means no related row).
    fn is_null_at(&self, i: usize) -> bool;
}

/// A struct read from a result row, one field per cell in order (`#[derive(Model)]`
/// generates it: the model's column fields in declaration order).
pub trait ReadRow: Sized + Send + 'static {
    /// Reads the struct from a row's cells.
    fn read_row<R: RowCells>(cells: &mut R) -> crate::Result<Self>;
    /// Reads the struct from a row of runtime-typed values already given their declared
    /// types (the path shared with the Python door).
    fn from_values(row: Vec<Value>) -> crate::Result<Self>;
}

/// Reads the next cell of `cells` as field `field` of `model` (what the generated
/// [`ReadRow::read_row`] calls per field): a row too short or a cell that does not fit is
/// a `Decode` error naming the model and field.
#[inline]
pub fn read_field<T: ColumnType, R: RowCells>(
    cells: &mut R,
    model: &str,
    field: &str,
) -> crate::Result<T> {
    match cells.next::<T>() {
        Some(Ok(v)) => Ok(v),
        Some(Err(reason)) => Err(field_error(model, field, Some(reason))),
        None => Err(field_error(model, field, None)),
    }
}

/// The `Decode` error of [`read_field`], out of line: the reader's per-field path stays
/// small enough to inline (`reason` `None`: the row ended before the field).
#[cold]
#[inline(never)]
fn field_error(model: &str, field: &str, reason: Option<String>) -> crate::Error {
    crate::Error::Decode {
        column: format!("{model}.{field}"),
        reason: reason
            .unwrap_or_else(|| "the row has fewer columns than the model has fields".into()),
    }
}

/// A row of values already given their declared types, as [`RowCells`] (a `Value` cell has
/// no direct reads: every field reads through [`ColumnType::from_value`]).
pub struct ValueCells {
    cells: std::vec::IntoIter<Value>,
    /// The index of the next cell.
    at: usize,
}

impl ValueCells {
    /// The cells of `row`, the first one next.
    pub fn new(row: Vec<Value>) -> ValueCells {
        ValueCells {
            cells: row.into_iter(),
            at: 0,
        }
    }
}

impl Cell for Value {
    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
    fn value(self, _ty: &ValueType) -> Result<Value, String> {
        Ok(self)
    }
}

impl RowCells for ValueCells {
    fn next<T: ColumnType>(&mut self) -> Option<Result<T, String>> {
        self.at += 1;
        self.cells.next().map(T::from_value)
    }
    fn seek(&mut self, i: usize) {
        if i > self.at {
            self.cells.nth(i - self.at - 1);
            self.at = i;
        }
    }
    fn is_null_at(&self, i: usize) -> bool {
        i.checked_sub(self.at)
            .and_then(|k| self.cells.as_slice().get(k))
            .is_none_or(Value::is_null)
    }
}

/// The `column` of the `Decode` error [`Keyed`] gives when its key cell does not fit; the
/// caller, which knows the relation, replaces it with the model and field.
pub const KEY_CELL: &str = "<prefetch key>";

/// A struct read from a row's first cells, then one cell more: a prefetch row (the related
/// model's fields, then the parent key the row belongs to), read by the same generated
/// reader as the model's own rows.
pub struct Keyed<M, K>(pub M, pub K);

impl<M: ReadRow, K: ColumnType> ReadRow for Keyed<M, K> {
    #[inline]
    fn read_row<R: RowCells>(cells: &mut R) -> crate::Result<Self> {
        let m = M::read_row(cells)?;
        let k = read_field::<K, R>(cells, KEY_CELL, "")?;
        Ok(Keyed(m, k))
    }

    fn from_values(mut row: Vec<Value>) -> crate::Result<Self> {
        let decode = |reason: String| crate::Error::Decode {
            column: KEY_CELL.to_owned(),
            reason,
        };
        let k = row
            .pop()
            .ok_or_else(|| decode("the row has no key column".into()))?;
        let k = K::from_value(k).map_err(decode)?;
        Ok(Keyed(M::from_values(row)?, k))
    }
}
