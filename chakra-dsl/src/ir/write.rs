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

/// What an insert does with a row that conflicts with an existing one
/// (`ON CONFLICT (columns) DO NOTHING / DO UPDATE SET col = excluded.col, …`).
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflict {
    /// The unique columns whose conflict is handled; empty means any conflict (only with
    /// `DO NOTHING`).
    pub columns: Vec<String>,
    /// The columns set from the proposed row; empty means `DO NOTHING`.
    pub update: Vec<String>,
}

/// An insert with its conflict handling (an "upsert").
#[derive(Debug, Clone, PartialEq)]
pub struct Upsert {
    /// The rows.
    pub insert: Insert,
    /// What a conflicting row does.
    pub on_conflict: OnConflict,
}

/// `bulk_update`: many rows updated by primary key in one statement, each with its own
/// values (`UPDATE … FROM` a set of rows bound as arrays or one JSON text, so the SQL text
/// does not depend on the number of rows).
#[derive(Debug, Clone, PartialEq)]
pub struct BulkUpdate {
    /// Target table.
    pub table: String,
    /// The key column and its type.
    pub key: (String, crate::types::ValueType),
    /// The updated columns and their types.
    pub columns: Vec<(String, crate::types::ValueType)>,
    /// One row per updated row: the key, then one value per column.
    pub rows: Vec<Vec<Value>>,
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
