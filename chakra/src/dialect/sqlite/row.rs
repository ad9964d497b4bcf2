//! Rows read on SQLite through diesel (raw SQL's named rows): each cell by its storage
//! class ([`DynRow`], [`NamedRow`]). Compiled statements read their cells in
//! [`super::run`] instead.

use crate::exec::row::{names_of, DynRow, NamedRow, UNKNOWN_NULL};
use chakra_dsl::Value;
use diesel::deserialize::{self, FromSqlRow};
use diesel::row::{Field, Row};
use diesel::sql_types::Untyped;
use diesel::sqlite::{Sqlite, SqliteType};

impl FromSqlRow<Untyped, Sqlite> for DynRow {
    fn build_from_row<'a>(row: &impl Row<'a, Sqlite>) -> deserialize::Result<Self> {
        let n = row.field_count();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let field = row.get(i).ok_or("row is shorter than its field count")?;
            out.push(match field.value() {
                None => UNKNOWN_NULL,
                Some(mut v) => match v.value_type() {
                    Some(SqliteType::Long) => Value::I64(v.read_long()),
                    Some(SqliteType::Double) => Value::F64(v.read_double()),
                    Some(SqliteType::Binary) => Value::Bytes(v.read_blob().to_vec()),
                    Some(_) => Value::Text(v.read_text().to_owned()),
                    None => UNKNOWN_NULL,
                },
            });
        }
        Ok(DynRow(out, Vec::new()))
    }
}

impl FromSqlRow<Untyped, Sqlite> for NamedRow {
    fn build_from_row<'a>(row: &impl Row<'a, Sqlite>) -> deserialize::Result<Self> {
        let values = <DynRow as FromSqlRow<Untyped, Sqlite>>::build_from_row(row)?.0;
        Ok(NamedRow {
            names: names_of(row),
            values,
            unresolved: Vec::new(),
        })
    }
}
