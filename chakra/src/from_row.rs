//! Rows into any struct: [`FromRow`] (`#[derive(FromRow)]`) reads the columns of a result by
//! name into a struct's fields — raw SQL ([`raw_as`]), or any statement such as a `values()`
//! or `group_by` selection ([`fetch_as`]). Every value is bound; the first row's columns are
//! checked against the fields, and a missing or mistyped column is [`Error::Decode`] naming
//! the struct, the field and the column.

use crate::exec::coerce::coerce;
use crate::exec::{Executor, NamedRows};
use crate::sql::raw::{compile_raw, Placeholders};
use chakra_dsl::{Error, Result, Statement, Value, ValueType};
use std::marker::PhantomData;

/// A struct filled from a row by column name. Derive it: `#[derive(FromRow)]` (a field reads
/// the column of its own name, or `#[chakra(column = "name")]`; its Rust type is one a model
/// field may have).
pub trait FromRow: Sized {
    /// The struct's name, for errors.
    const NAME: &'static str;
    /// Each field: (field name, column name, the type its values decode from).
    fn fields() -> Vec<(&'static str, &'static str, ValueType)>;
    /// Builds it from one cell per field, in [`FromRow::fields`] order (each of the field's
    /// type, or NULL).
    fn from_cells(cells: Vec<Value>) -> Result<Self>;
}

/// Rows with named columns into `S`: columns matched to fields by name (exactly, else
/// ignoring ASCII case); a missing column, a value of the wrong type or a NULL for a field
/// that is not an `Option` is [`Error::Decode`] naming `S`, the field and the column.
pub fn rows_as<S: FromRow>(named: NamedRows) -> Result<Vec<S>> {
    if named.rows.is_empty() {
        return Ok(Vec::new());
    }
    let cols = &named.columns;
    let fields = S::fields();
    let mut index = Vec::with_capacity(fields.len());
    for (field, column, ty) in &fields {
        let at = cols
            .iter()
            .position(|c| c == column)
            .or_else(|| cols.iter().position(|c| c.eq_ignore_ascii_case(column)));
        match at {
            Some(i) => index.push((i, *field, *column, ty.clone())),
            None => {
                return Err(Error::Decode {
                    column: (*column).to_owned(),
                    reason: format!(
                        "the result has no column {column:?} for field {s}.{field} (its columns: {got})",
                        s = S::NAME,
                        got = cols.join(", ")
                    ),
                })
            }
        }
    }
    named
        .rows
        .into_iter()
        .map(|mut r| {
            let cells = index
                .iter()
                .map(|(i, field, column, ty)| {
                    let v = std::mem::replace(&mut r[*i], Value::Null(ty.clone()));
                    coerce(*i, v, ty).map_err(|e| Error::Decode {
                        column: (*column).to_owned(),
                        reason: format!(
                            "column {column:?} does not fit field {s}.{field} ({ty}): {e}",
                            s = S::NAME
                        ),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            S::from_cells(cells)
        })
        .collect()
}

/// Runs `stmt` (a `values()` selection, a grouped query, …) on `exec` and reads each row into
/// `S` by column name ([`rows_as`]).
pub async fn fetch_as<S: FromRow, E: Executor>(stmt: &Statement, mut exec: E) -> Result<Vec<S>> {
    let q = crate::sql::compile(stmt, exec.dialect())?;
    rows_as(exec.fetch_named_compiled(&q).await?)
}

/// Raw SQL whose rows fill `S`: `chakra::raw_as::<Revenue>("SELECT … WHERE x > $1").bind(10)`.
pub fn raw_as<S: FromRow>(sql: impl Into<String>) -> RawAs<S> {
    RawAs {
        sql: sql.into(),
        params: Vec::new(),
        _s: PhantomData,
    }
}

/// Raw SQL read into `S` ([`raw_as`]).
#[derive(Debug, Clone)]
pub struct RawAs<S> {
    sql: String,
    params: Vec<Value>,
    _s: PhantomData<fn() -> S>,
}

impl<S: FromRow> RawAs<S> {
    /// Binds the next parameter (`$1`, then `$2`, …).
    pub fn bind(mut self, v: impl Into<Value>) -> Self {
        self.params.push(v.into());
        self
    }

    /// Runs it; the rows as `S`. A parameter count that does not match the placeholders is
    /// [`Error::InvalidQuery`] before any SQL.
    pub async fn all<E: Executor>(self, mut exec: E) -> Result<Vec<S>> {
        let q = compile_raw(
            &self.sql,
            Placeholders::Numbered,
            self.params,
            exec.dialect(),
        )?;
        rows_as(exec.fetch_named_compiled(&q).await?)
    }
}
