//! Raw SQL from the Rust front door, values always bound:
//! `chakra::raw::<User>("SELECT * FROM users WHERE id = $1").bind(1i64).all(&pool)` returns
//! models (columns matched to fields by name) and
//! `chakra::raw_execute("UPDATE users SET n = n + $1").bind(1i64).execute(&pool)` the
//! affected-row count. Placeholders are numbered, `$1`, `$2`, … (PostgreSQL's own style,
//! translated to `?` on SQLite); see [`crate::sql::raw`] for what the scanner skips. The
//! Python door writes `%s` and reaches the same compiler.

use crate::exec::coerce::coerce;
use crate::exec::{Executor, NamedRows, Row};
use crate::model::Model;
use crate::sql::raw::{compile_raw, Placeholders};
use chakra_dsl::{Error, ModelMeta, Result, Value};
use std::marker::PhantomData;

/// Raw SQL returning rows of model `M` (see [`raw`]).
pub struct RawQuery<M> {
    sql: String,
    params: Vec<Value>,
    _m: PhantomData<fn() -> M>,
}

/// Raw SQL run for its affected-row count (see [`raw_execute`]).
pub struct RawExecute {
    sql: String,
    params: Vec<Value>,
}

/// Raw SQL whose rows are models `M`: every field's column must be among the result's
/// columns (matched by column name; extra columns are ignored). Bind each `$n` with
/// [`RawQuery::bind`], in order.
pub fn raw<M: Model>(sql: impl Into<String>) -> RawQuery<M> {
    RawQuery {
        sql: sql.into(),
        params: Vec::new(),
        _m: PhantomData,
    }
}

/// Raw SQL returning plain rows (see [`raw_fetch`]).
pub struct RawFetch {
    sql: String,
    params: Vec<Value>,
}

/// Raw SQL whose rows come back as they are: [`NamedRows`] (the column names, and each row's
/// values in column order, typed by the database's column types). Bind each `$n` with
/// [`RawFetch::bind`], in order. Python's twin is `chakra.fetch(sql, params)`.
pub fn raw_fetch(sql: impl Into<String>) -> RawFetch {
    RawFetch {
        sql: sql.into(),
        params: Vec::new(),
    }
}

impl RawFetch {
    /// Binds the next parameter (`$1`, then `$2`, …).
    pub fn bind(mut self, v: impl Into<Value>) -> Self {
        self.params.push(v.into());
        self
    }

    /// Runs it; the rows with their column names. A parameter count that does not match the
    /// placeholders is [`Error::InvalidQuery`] before any SQL.
    pub async fn all<E: Executor>(self, mut exec: E) -> Result<NamedRows> {
        let q = compile_raw(
            &self.sql,
            Placeholders::Numbered,
            self.params,
            exec.dialect(),
        )?;
        exec.fetch_named_compiled(&q).await
    }
}

/// Raw SQL run for its affected-row count (an UPDATE, DELETE, INSERT, DDL with binds).
pub fn raw_execute(sql: impl Into<String>) -> RawExecute {
    RawExecute {
        sql: sql.into(),
        params: Vec::new(),
    }
}

impl<M: Model> RawQuery<M> {
    /// Binds the next parameter (`$1`, then `$2`, …).
    pub fn bind(mut self, v: impl Into<Value>) -> Self {
        self.params.push(v.into());
        self
    }

    /// Runs it; the rows as models. A parameter count that does not match the placeholders
    /// is [`Error::InvalidQuery`] before any SQL; a field whose column the result lacks is
    /// [`Error::Decode`] naming the model and field.
    pub async fn all<E: Executor>(self, mut exec: E) -> Result<Vec<M>> {
        let q = compile_raw(
            &self.sql,
            Placeholders::Numbered,
            self.params,
            exec.dialect(),
        )?;
        let named = exec.fetch_named_compiled(&q).await?;
        model_rows(M::meta(), named)?
            .into_iter()
            .map(M::from_row)
            .collect()
    }
}

impl RawExecute {
    /// Binds the next parameter (`$1`, then `$2`, …).
    pub fn bind(mut self, v: impl Into<Value>) -> Self {
        self.params.push(v.into());
        self
    }

    /// Runs it; the affected-row count. A parameter count that does not match the
    /// placeholders is [`Error::InvalidQuery`] before any SQL.
    pub async fn execute<E: Executor>(self, mut exec: E) -> Result<u64> {
        let q = compile_raw(
            &self.sql,
            Placeholders::Numbered,
            self.params,
            exec.dialect(),
        )?;
        exec.execute_compiled(&q).await
    }
}

/// Rows of raw SQL rearranged into `meta`'s field order, each cell given its field's type
/// (the shape `Model::from_row` and the Python hydration take). Columns are matched to
/// fields by column name (exactly, else ignoring ASCII case); a missing one is
/// [`Error::Decode`] naming the model and field.
pub fn model_rows(meta: &ModelMeta, named: NamedRows) -> Result<Vec<Row>> {
    if named.rows.is_empty() {
        return Ok(Vec::new());
    }
    let cols = &named.columns;
    let mut index = Vec::with_capacity(meta.fields.len());
    for f in &meta.fields {
        let at = cols
            .iter()
            .position(|c| *c == f.column)
            .or_else(|| cols.iter().position(|c| c.eq_ignore_ascii_case(&f.column)));
        match at {
            Some(i) => index.push((i, f.ty.value_type())),
            None => {
                return Err(Error::Decode {
                    column: f.column.clone(),
                    reason: format!(
                        "raw SQL for {model} returned no column {col:?} for field {model}.{field} (its columns: {got})",
                        model = meta.name,
                        col = f.column,
                        field = f.name,
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
            index
                .iter()
                .map(|(i, ty)| {
                    let v = std::mem::replace(&mut r[*i], Value::Null(ty.clone()));
                    match v {
                        Value::Null(_) => Ok(Value::Null(ty.clone())),
                        v => coerce(*i, v, ty),
                    }
                })
                .collect()
        })
        .collect()
}
