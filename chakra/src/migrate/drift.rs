//! Drift: differences between the schema the applied migrations describe and the schema the
//! database reports (tables, columns with type, nullability and default, indexes, unique
//! constraints, foreign keys with their target and ON DELETE, the number of CHECK
//! constraints). Pure: the database's
//! side is read by [`super::introspect`].

use super::operations::RawObject;
use super::state::State;
use super::table_sql::all_indexes;
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
    /// Column defaults as the database reports them (`None` when not read).
    pub defaults: Option<BTreeMap<String, String>>,
    /// Unique constraints, each as its comma-separated columns (`None` when not read).
    pub uniques: Option<BTreeSet<String>>,
    /// Foreign keys: (columns, referenced table, ON DELETE), columns comma-separated.
    pub foreign_keys: Option<BTreeSet<(String, String, String)>>,
    /// How many CHECK constraints it has.
    pub checks: Option<usize>,
    /// Names of its triggers (`None` when not read).
    pub triggers: Option<BTreeSet<String>>,
}

/// A default expression reduced to what both its spellings share: no casts (`'a'::text`),
/// no outer parentheses, no spaces, lower case.
pub fn normalize_default(s: &str) -> String {
    let mut t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    // Casts PostgreSQL adds: ::type, ::type(n), ::type[] (outside quotes).
    let mut out = String::new();
    let chars: Vec<char> = t.chars().collect();
    let mut i = 0;
    let mut quoted = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            quoted = !quoted;
        }
        if !quoted && c == ':' && chars.get(i + 1) == Some(&':') {
            i += 2;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            if chars.get(i) == Some(&'(') {
                while i < chars.len() && chars[i] != ')' {
                    i += 1;
                }
                i += 1;
            }
            while chars.get(i) == Some(&'[') && chars.get(i + 1) == Some(&']') {
                i += 2;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    t = out.to_ascii_lowercase();
    while t.starts_with('(') && t.ends_with(')') && balanced(&t[1..t.len() - 1]) {
        t = t[1..t.len() - 1].to_owned();
    }
    t
}

/// Whether two default expressions say the same: equal once normalized
/// ([`normalize_default`]), or the same number written two ways (MySQL reads a `DECIMAL(12,
/// 2)` column's default `0` back as `0.00`).
pub fn defaults_equal(a: &str, b: &str) -> bool {
    let (a, b) = (normalize_default(a), normalize_default(b));
    if a == b {
        return true;
    }
    let num = |s: &str| s.parse::<bigdecimal::BigDecimal>().ok();
    matches!((num(&a), num(&b)), (Some(x), Some(y)) if x == y)
}

/// Whether the parentheses of `s` balance (none closes before it opens).
pub fn balanced_parens(s: &str) -> bool {
    balanced(s)
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// What the history declares for a table's constraints and defaults, in [`DbTable`]'s terms.
fn declared(t: &super::state::TableState, d: Dialect) -> DbTable {
    use super::operations::ConstraintKind;
    let mut out = DbTable::default();
    let mut defaults = BTreeMap::new();
    let mut uniques = BTreeSet::new();
    let mut fks = BTreeSet::new();
    let mut checks = 0;
    for f in &t.fields {
        if !f.auto_increment {
            if let Some(def) = crate::sql::ddl::default_sql(f, d) {
                defaults.insert(f.column.clone(), def);
            }
        }
        if f.unique && !f.primary_key {
            uniques.insert(f.column.clone());
        }
        if f.ty.enum_values().is_some() && !d.sql().native_enums() {
            checks += 1; // the enum's CHECK (`<table>_<column>_enum`)
        }
        if let Some(r) = f.references.as_ref().filter(|r| !r.table.is_empty()) {
            fks.insert((
                f.column.clone(),
                r.table.clone(),
                r.on_delete.sql().to_owned(),
            ));
        }
    }
    if d.migrate().unique_indexes_are_keys() {
        for i in t.indexes.iter().filter(|i| i.unique) {
            uniques.insert(i.columns.join(","));
        }
    }
    for c in &t.constraints {
        match &c.kind {
            ConstraintKind::Unique { columns } => {
                uniques.insert(columns.join(","));
            }
            ConstraintKind::Check { .. } | ConstraintKind::CheckLookup { .. } => checks += 1,
            ConstraintKind::ForeignKey {
                columns,
                table,
                on_delete,
                ..
            } => {
                fks.insert((columns.join(","), table.clone(), on_delete.sql().to_owned()));
            }
        }
    }
    out.defaults = Some(defaults);
    out.uniques = Some(uniques);
    out.foreign_keys = Some(fks);
    out.checks = Some(checks);
    out
}

/// The database's tables by name (Chakra's own bookkeeping tables left out).
pub type DbSchema = BTreeMap<String, DbTable>;

/// How the database spells the type of a column of type `ty`.
pub fn db_type(ty: &FieldType, d: Dialect) -> String {
    d.migrate().db_type(ty)
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
            let want = d.migrate().db_type_of(f);
            if let (Some(ty), false) = (f.ty.enum_name(), c.ty == want) {
                if d.sql().native_enums() && !c.ty.starts_with("enum ") {
                    // Built by an earlier version (text held by a CHECK), or altered by hand.
                    out.push(format!(
                        "column {name}.{}: the database stores it as {} (the text-and-CHECK \
                         form of an enum field, as Chakra created it before enums became native \
                         PostgreSQL types), the migrations say the native enum type {ty}; \
                         convert it as docs/migrations.md shows (\"Enum fields on PostgreSQL\")",
                        f.column, c.ty
                    ));
                    continue;
                }
            }
            if !d.migrate().db_type_matches(&c.ty, f) {
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
        let decl = declared(t, d);
        if let (Some(have), Some(want)) = (&actual.defaults, &decl.defaults) {
            for f in &t.fields {
                let same = match (have.get(&f.column), want.get(&f.column)) {
                    (Some(h), Some(w)) => defaults_equal(h, w),
                    (h, w) => h == w,
                };
                if !same && !f.auto_increment {
                    let show = |x: Option<&String>| {
                        x.map(|s| format!("default {s}"))
                            .unwrap_or_else(|| "no default".into())
                    };
                    out.push(format!(
                        "column {name}.{}: the database has {}, the migrations say {}",
                        f.column,
                        show(have.get(&f.column)),
                        show(want.get(&f.column))
                    ));
                }
            }
        }
        if let (Some(have), Some(want)) = (&actual.uniques, &decl.uniques) {
            for u in want.difference(have) {
                out.push(format!(
                    "unique constraint on {name} ({u}) is missing from the database"
                ));
            }
            for u in have.difference(want) {
                out.push(format!(
                    "unique constraint on {name} ({u}) is in the database but not in the migrations"
                ));
            }
        }
        if let (Some(have), Some(want)) = (&actual.foreign_keys, &decl.foreign_keys) {
            for (c, rt, od) in want.difference(have) {
                out.push(format!(
                    "foreign key {name}({c}) -> {rt} ON DELETE {od} is missing from the database"
                ));
            }
            for (c, rt, od) in have.difference(want) {
                out.push(format!(
                    "foreign key {name}({c}) -> {rt} ON DELETE {od} is in the database but not in \
                     the migrations"
                ));
            }
        }
        if let (Some(have), Some(want)) = (actual.checks, decl.checks) {
            if have != want {
                out.push(format!(
                    "table {name} has {have} CHECK constraint(s) in the database, the migrations \
                     say {want}"
                ));
            }
        }
        let keys = d.migrate().unique_indexes_are_keys();
        let want: BTreeSet<String> = all_indexes(t)
            .into_iter()
            .filter(|i| !(keys && i.unique))
            .map(|i| i.name)
            .collect();
        for i in want.difference(&actual.indexes) {
            out.push(format!("index {i} on {name} is missing from the database"));
        }
        let key_index = |i: &String| {
            d.migrate().foreign_keys_make_indexes()
                && t.constraints.iter().any(|c| {
                    &c.name == i
                        && matches!(c.kind, super::operations::ConstraintKind::ForeignKey { .. })
                })
        };
        for i in actual.indexes.difference(&want) {
            if !state.raw.contains(&RawObject::Index(i.clone())) && !key_index(i) {
                out.push(format!(
                    "index {i} on {name} is in the database but not in the migrations"
                ));
            }
        }
        for tr in actual.triggers.iter().flatten() {
            if !state.raw.contains(&RawObject::Trigger(tr.clone())) {
                out.push(format!(
                    "trigger {tr} on {name} is in the database but not in the migrations \
                     (declare it in its RunSQL: creates = [\"trigger {tr}\"])"
                ));
            }
        }
    }
    // What RunSQL declared it creates must be somewhere.
    let read_triggers = db.values().any(|t| t.triggers.is_some());
    for o in &state.raw {
        let found = match o {
            RawObject::Index(n) => db.values().any(|t| t.indexes.contains(n)),
            RawObject::Trigger(n) => {
                !read_triggers
                    || db
                        .values()
                        .any(|t| t.triggers.iter().flatten().any(|x| x == n))
            }
        };
        if !found {
            out.push(format!(
                "{o} (declared by a RunSQL's creates) is missing from the database"
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

/// Every difference between the native enum types `state` declares and those the database
/// has (`db`, as [`crate::dialect::migrate::read_enum_types`] reads them): a type missing, or
/// with other values or another order. Types no history declares are left alone (a type
/// another program made is not drift, as an unknown table is not).
pub fn compare_enum_types(state: &State, db: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, values) in state.enum_types_lenient() {
        match db.get(&name) {
            None => out.push(format!(
                "enum type {name} is missing from the database (the migrations declare \
                 {values:?})"
            )),
            Some(have) if *have != values => out.push(format!(
                "enum type {name}: the database has the values {have:?}, the migrations say \
                 {values:?} (values and their order)"
            )),
            Some(_) => {}
        }
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
            ..Default::default()
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
