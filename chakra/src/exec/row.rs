//! [`DynRow`]: a row decoded by each cell's runtime type (PostgreSQL type OID, SQLite storage
//! class; each backend's decoding is in its room, `dialect::<d>::row`), read by index. The plan-driven step in [`super::coerce`] then gives each cell its
//! declared type.

use chakra_dsl::{Value, ValueType};
use diesel::row::{Field, Row};

/// One row as runtime-typed values, and the cells its room decodes only once the rows are
/// read (their place in the values holds a NULL until then).
pub struct DynRow(pub Vec<Value>, pub Vec<Unresolved>);

/// A cell whose type the row alone does not say how to decode, kept for its room to resolve
/// after the rows are read: on PostgreSQL a user-defined type (a native enum read by raw SQL),
/// looked up in the catalog by its OID; a type that is not an enum is then a `Decode` error
/// naming the column.
#[derive(Debug, Clone)]
pub struct Unresolved {
    /// The cell's position in its row.
    pub index: usize,
    /// Its column's name.
    pub column: String,
    /// Its type's identifier (PostgreSQL's type OID).
    pub type_id: u32,
    /// Its bytes as the server sent them.
    pub bytes: Vec<u8>,
}

/// A NULL whose type the cell does not say (the plan types it).
pub(crate) const UNKNOWN_NULL: Value = Value::Null(ValueType::Text);

/// One row as runtime-typed values with its column names (raw SQL, whose columns are
/// matched to fields by name).
pub struct NamedRow {
    /// The column names, in order.
    pub names: Vec<String>,
    /// The values, in the same order.
    pub values: Vec<Value>,
    /// The cells decoded once the rows are read ([`Unresolved`]).
    pub unresolved: Vec<Unresolved>,
}

/// The column names of a row (`columnN` where the driver gives none).
pub(crate) fn names_of<'a, DB: diesel::backend::Backend>(row: &impl Row<'a, DB>) -> Vec<String> {
    (0..row.field_count())
        .map(|i| {
            row.get(i)
                .and_then(|f| f.field_name().map(str::to_owned))
                .unwrap_or_else(|| format!("column{}", i + 1))
        })
        .collect()
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
