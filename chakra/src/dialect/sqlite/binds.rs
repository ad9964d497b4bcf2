//! [`DynQuery`] on SQLite (diesel's own path: raw SQL's named rows, scripts); compiled
//! statements bind on the raw handle instead ([`super::run`]).

use crate::exec::query::DynQuery;
use chakra_dsl::Value;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{BigInt, Binary, Bool, Double, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

impl QueryFragment<Sqlite> for DynQuery<'_> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        if !self.0.cacheable {
            pass.unsafe_to_cache_prepared();
        }
        let binds = &self.0.binds;
        for (i, part) in self.0.parts.iter().enumerate() {
            pass.push_sql(part);
            if let Some(v) = binds.get(i) {
                bind_sqlite(&mut pass, v)?;
            }
        }
        Ok(())
    }
}

fn bind_sqlite<'b>(pass: &mut AstPass<'_, 'b, Sqlite>, v: &'b Value) -> QueryResult<()> {
    const NO_TEXT: &Option<String> = &None;
    match v {
        Value::Null(_) => pass.push_bind_param::<Nullable<Text>, _>(NO_TEXT),
        Value::Bool(x) => pass.push_bind_param::<Bool, _>(x),
        Value::I32(x) => pass.push_bind_param::<Integer, _>(x),
        Value::I64(x) => pass.push_bind_param::<BigInt, _>(x),
        Value::F64(x) => pass.push_bind_param::<Double, _>(x),
        Value::Text(x) => pass.push_bind_param::<Text, _>(x),
        Value::Bytes(x) => pass.push_bind_param::<Binary, _>(x),
        // The SQLite compiler converts every other value to its storage form first
        // (`dialect::sqlite::values`); reaching here is a bug in that conversion.
        other => Err(diesel::result::Error::SerializationError(
            format!("value {other} was not converted to SQLite storage form").into(),
        )),
    }
}
