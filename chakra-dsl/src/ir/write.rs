//! `INSERT`, `UPDATE` and `DELETE` in the IR.

use crate::ir::expr::{ColumnRef, Expr};
use crate::value::Value;

/// `INSERT INTO table (columns) VALUES (row), (row) … RETURNING …`.
/// Every row has one value per column; columns left to the database's default are simply
/// not listed. No columns at all means `DEFAULT VALUES` (one row).
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    /// Target table.
    pub table: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of values, each as long as `columns`.
    pub rows: Vec<Vec<Value>>,
    /// Columns returned per inserted row (generated keys, database defaults).
    pub returning: Vec<ColumnRef>,
}

/// `UPDATE table SET col = expr, … WHERE … RETURNING …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// Target table.
    pub table: String,
    /// Assignments; the expression may refer to the row's current columns.
    pub sets: Vec<(String, Expr)>,
    /// `WHERE`; `None` updates every row.
    pub filter: Option<Expr>,
    /// Columns returned per updated row.
    pub returning: Vec<ColumnRef>,
}

/// `DELETE FROM table WHERE … RETURNING …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// Target table.
    pub table: String,
    /// `WHERE`; `None` deletes every row.
    pub filter: Option<Expr>,
    /// Columns returned per deleted row.
    pub returning: Vec<ColumnRef>,
}
