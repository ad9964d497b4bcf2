//! [`RowByRow`]: a multi-row INSERT run on SQLite as its one-row statement once per row,
//! with its `RETURNING` known without it when the one column the rows do not send is the
//! table's rowid.

use super::conn::SqliteConn;
use super::run::{Each, Echo, RunError};
use crate::exec::Row;
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::Result;

/// A multi-row INSERT run as its one-row statement once per row (on SQLite, where a
/// statement is a call into the library on this thread, one prepared statement stepped per
/// row costs less than compiling, binding and parsing one large statement, and its text
/// never depends on the row count). See [`crate::sql::compile_insert_row`].
#[derive(Debug)]
pub struct RowByRow<'a> {
    /// The statement for one row, with the insert's `RETURNING`.
    pub query: CompiledQuery,
    /// The rows, canonical values in column order.
    pub rows: &'a [Row],
    /// When `RETURNING` can be known without it: how, and the statement without it (run
    /// instead when the one returned column the rows do not send is the table's rowid).
    pub key: Option<RowidKey>,
}

/// A multi-row insert's `RETURNING` known without it (see [`RowByRow::key`]): every
/// returned column of the table is either a value the rows send or the one column they do
/// not, which must be the table's rowid. Exact for Chakra's inserts: every sent value has
/// its column's type (the type contract), so SQLite stores it as sent.
#[derive(Debug)]
pub struct RowidKey {
    /// The table.
    pub table: String,
    /// The returned column the rows do not send: it must be the table's rowid.
    pub column: String,
    /// Per returned column, where its value comes from, and its type.
    pub echo: Vec<(Echo, chakra_dsl::ValueType)>,
    /// The one-row statement without `RETURNING`.
    pub plain: CompiledQuery,
}

impl<'a> RowByRow<'a> {
    /// `stmt` as a [`RowByRow`] when it is a multi-row INSERT on SQLite that compiles to
    /// one statement per row.
    pub fn of(stmt: &'a chakra_dsl::Statement, dialect: Dialect) -> Result<Option<Self>> {
        let (chakra_dsl::Statement::Insert(ins), Dialect::Sqlite) = (stmt, dialect) else {
            return Ok(None);
        };
        let Some(query) = crate::sql::compile_insert_row(ins, dialect)? else {
            return Ok(None);
        };
        let key = match echo(ins) {
            Some((column, echo)) => crate::sql::compile_insert_row_returning(ins, &[], dialect)?
                .map(|plain| RowidKey {
                    table: ins.table.clone(),
                    column,
                    echo,
                    plain,
                }),
            None => None,
        };
        Ok(Some(RowByRow {
            query,
            rows: &ins.rows,
            key,
        }))
    }
}

/// Where each column of `ins`'s `RETURNING` comes from when the one column it does not
/// send is the table's rowid: that column's name, and the sources. `None` when a returned
/// column is not of the table, or not exactly one is left to the database.
fn echo(ins: &chakra_dsl::Insert) -> Option<(String, Vec<(Echo, chakra_dsl::ValueType)>)> {
    if ins.returning.is_empty() {
        return None;
    }
    let mut key = None;
    let mut out = Vec::with_capacity(ins.returning.len());
    for col in &ins.returning {
        if col.table.as_deref().is_some_and(|t| t != ins.table) {
            return None;
        }
        match ins.columns.iter().position(|c| *c == col.column) {
            Some(i) => out.push((Echo::Sent(i), col.ty.clone())),
            None => {
                if key.as_ref().is_some_and(|k| *k != col.column) {
                    return None;
                }
                key = Some(col.column.clone());
                out.push((Echo::Rowid, col.ty.clone()));
            }
        }
    }
    key.map(|k| (k, out))
}

/// Runs `each` on a SQLite connection ([`crate::exec::Conn::fetch_each`]): the statement that
/// ran, the rows returned (when `want_rows`) and the number of rows inserted.
pub async fn run<'q>(
    c: &mut SqliteConn,
    each: &'q RowByRow<'_>,
    want_rows: bool,
) -> std::result::Result<(&'q CompiledQuery, Vec<Row>, usize), (&'q CompiledQuery, RunError)> {
    let rowid = each
        .key
        .as_ref()
        .filter(|k| want_rows && c.is_autoincrement_rowid(&k.table, &k.column));
    let (q, mode) = match (rowid, want_rows) {
        (Some(k), _) => (&k.plain, Each::Echo(k.echo.clone())),
        (None, true) => (&each.query, Each::Rows),
        (None, false) => (&each.query, Each::Count),
    };
    match c.load_each(q, each.rows, mode).await {
        Ok((out, n)) => Ok((q, out, n)),
        Err(e) => Err((q, e)),
    }
}
