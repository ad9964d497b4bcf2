//! `INSERT`, `UPDATE` and `DELETE` in the IR.

use crate::ir::expr::{ColumnRef, Expr};
use crate::value::Value;

/// The enum type of each written column that holds one (a field of type `Enum`), by column
/// name. Columns not listed hold no enum. A backend with native enum types casts the values
/// written to these columns to the type; the others ignore it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnumColumns(Vec<(String, String)>);

impl EnumColumns {
    /// No enum column.
    pub fn none() -> Self {
        EnumColumns(Vec::new())
    }

    /// Records that `column` holds the enum type `name`.
    pub fn insert(&mut self, column: impl Into<String>, name: impl Into<String>) {
        let column = column.into();
        let name = name.into();
        match self.0.iter_mut().find(|(c, _)| *c == column) {
            Some(slot) => slot.1 = name,
            None => self.0.push((column, name)),
        }
    }

    /// The enum type `column` holds, if it holds one.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, n)| n.as_str())
    }

    /// True when no column holds an enum.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, String)> for EnumColumns {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut out = EnumColumns::none();
        for (c, n) in iter {
            out.insert(c, n);
        }
        out
    }
}

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
    /// The enum type of each listed column that holds one.
    pub enum_types: EnumColumns,
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
    /// The key columns and their types: one, or every field of a composite key (in
    /// declared order).
    pub keys: Vec<(String, crate::types::ValueType)>,
    /// The updated columns and their types.
    pub columns: Vec<(String, crate::types::ValueType)>,
    /// One row per updated row: the key values, then one value per column.
    pub rows: Vec<Vec<Value>>,
    /// The enum type of each updated column that holds one.
    pub enum_types: EnumColumns,
}

impl BulkUpdate {
    /// The name of key column `i` in the rows' derived table: `_k`, then `_k1`, `_k2`, … for
    /// the other fields of a composite key.
    pub fn key_alias(i: usize) -> String {
        if i == 0 {
            "_k".to_owned()
        } else {
            format!("_k{i}")
        }
    }
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
    /// The enum type of each assigned column that holds one.
    pub enum_types: EnumColumns,
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
