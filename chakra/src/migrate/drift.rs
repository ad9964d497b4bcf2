//! Drift: differences between the schema the applied migrations describe and the schema the
//! database reports (tables, columns with type and nullability, indexes). Pure: the database's
//! side is read by [`super::introspect`].

use super::state::State;
use super::table_sql::all_indexes;
use crate::sql::ddl::column_type;
use crate::Dialect;
use chakra_dsl::{FieldMeta, FieldType};
use std::collections::{BTreeMap, BTreeSet};

/// One column as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbColumn {
    /// Column name.
    pub name: String,
    /// Type as the database spells it, lower case (`character varying(50)`, `integer`).
    pub ty: String,
    /// NULL allowed (primary-key columns never are).
    pub nullable: bool,
}

/// One table as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbTable {
    /// Columns in order.
    pub columns: Vec<DbColumn>,
    /// Names of its indexes, except those backing the primary key and unique constraints.
    pub indexes: BTreeSet<String>,
}

/// The database's tables by name (Chakra's own bookkeeping tables left out).
pub type DbSchema = BTreeMap<String, DbTable>;

/// How the database spells the type of a column of type `ty`.
pub fn db_type(ty: &FieldType, d: Dialect) -> String {
    match d {
        Dialect::Sqlite => column_type(ty, d).to_ascii_lowercase(),
        Dialect::Postgres => match ty {
            FieldType::Integer => "integer".into(),
            FieldType::BigInteger => "bigint".into(),
            FieldType::String {
                max_length: Some(n),
            } => format!("character varying({n})"),
            FieldType::String { max_length: None } | FieldType::Text => "text".into(),
            FieldType::Boolean => "boolean".into(),
            FieldType::Float => "double precision".into(),
            FieldType::Decimal {
                precision: Some(p),
                scale,
            } => format!("numeric({p},{})", scale.unwrap_or(0)),
            FieldType::Decimal { .. } => "numeric".into(),
            FieldType::DateTime => "timestamp with time zone".into(),
            FieldType::Date => "date".into(),
            FieldType::Bytes => "bytea".into(),
            FieldType::Json => "jsonb".into(),
            FieldType::Uuid => "uuid".into(),
            FieldType::Array(inner) => format!("{}[]", db_type(inner, d)),
        },
    }
}

fn expected_nullable(f: &FieldMeta) -> bool {
    f.nullable && !f.primary_key
}

/// Every difference between `state` (what the history says) and `db`, as sentences; empty
/// when they agree.
pub fn compare(state: &State, db: &DbSchema, d: Dialect) -> Vec<String> {
    let mut out = Vec::new();
    for (name, t) in &state.tables {
        let Some(actual) = db.get(name) else {
            out.push(format!("table {name} is missing from the database"));
            continue;
        };
        for f in &t.fields {
            let Some(c) = actual.columns.iter().find(|c| c.name == f.column) else {
                out.push(format!(
                    "column {name}.{} is missing from the database",
                    f.column
                ));
                continue;
            };
            let want = db_type(&f.ty, d);
            if c.ty != want {
                out.push(format!(
                    "column {name}.{}: the database has type {}, the migrations say {want}",
                    f.column, c.ty
                ));
            }
            if c.nullable != expected_nullable(f) {
                let word = |n: bool| if n { "NULL" } else { "NOT NULL" };
                out.push(format!(
                    "column {name}.{}: the database has {}, the migrations say {}",
                    f.column,
                    word(c.nullable),
                    word(expected_nullable(f))
                ));
            }
        }
        for c in &actual.columns {
            if t.column(&c.name).is_none() {
                out.push(format!(
                    "column {name}.{} is in the database but not in the migrations",
                    c.name
                ));
            }
        }
        let want: BTreeSet<String> = all_indexes(t).into_iter().map(|i| i.name).collect();
        for i in want.difference(&actual.indexes) {
            out.push(format!("index {i} on {name} is missing from the database"));
        }
        for i in actual.indexes.difference(&want) {
            out.push(format!(
                "index {i} on {name} is in the database but not in the migrations"
            ));
        }
    }
    for name in db.keys().filter(|n| !state.tables.contains_key(*n)) {
        out.push(format!(
            "table {name} is in the database but not in the migrations"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::format::parse_migration;

    fn seed() -> State {
        let text = include_str!("../../../migrations/users/0001_initial.toml");
        State::replay([&parse_migration(text, "seed").unwrap()]).unwrap()
    }

    fn db(columns: &[(&str, &str, bool)]) -> DbSchema {
        let t = DbTable {
            columns: columns
                .iter()
                .map(|(n, t, null)| DbColumn {
                    name: (*n).into(),
                    ty: (*t).into(),
                    nullable: *null,
                })
                .collect(),
            indexes: BTreeSet::new(),
        };
        BTreeMap::from([("users".to_owned(), t)])
    }

    #[test]
    fn agreement_and_each_kind_of_drift() {
        let d = Dialect::Postgres;
        let ok = db(&[
            ("id", "bigint", false),
            ("username", "character varying(50)", false),
        ]);
        assert!(compare(&seed(), &ok, d).is_empty());
        let drifted = db(&[
            ("id", "bigint", false),
            ("username", "text", true),
            ("age", "integer", true),
        ]);
        assert_eq!(
            compare(&seed(), &drifted, d),
            [
                "column users.username: the database has type text, the migrations say character varying(50)",
                "column users.username: the database has NULL, the migrations say NOT NULL",
                "column users.age is in the database but not in the migrations",
            ]
        );
        assert_eq!(
            compare(&seed(), &DbSchema::new(), d),
            ["table users is missing from the database"]
        );
    }
}
