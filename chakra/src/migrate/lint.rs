//! `lint`: operations that lose data, fail on tables with rows, or lock a big table, each with
//! a code and a sentence (after Atlas's analyzers, on portable operations). Pure: the state
//! before each operation is replayed from the migrations.

use super::error::MResult;
use super::graph::Graph;
use super::operations::{ConstraintKind, Dependency, Operation};
use super::state::State;
use crate::Dialect;
use chakra_dsl::{FieldMeta, FieldType};
use std::path::PathBuf;

/// One thing `lint` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule (`DS101`, …); see [`RULES`].
    pub code: &'static str,
    /// The migration.
    pub migration: Dependency,
    /// Its file.
    pub path: PathBuf,
    /// The operation (`RemoveField users.email`).
    pub operation: String,
    /// What may go wrong.
    pub message: String,
}

/// Every rule: code and what it flags.
pub const RULES: &[(&str, &str)] = &[
    ("DS101", "a table is dropped, with its rows"),
    ("DS102", "a column is dropped, with its data"),
    ("MF101", "a NOT NULL column without a default is added: fails on a table with rows"),
    ("MF102", "a column becomes NOT NULL without a default: fails where it holds NULL"),
    ("MF103", "a unique or check constraint is added to an existing table: fails on rows that break it"),
    ("DT101", "a column's type is narrowed: values may not fit"),
    ("PG101", "an index is built without CONCURRENTLY on an existing table: PostgreSQL blocks writes to it meanwhile"),
    ("PG102", "an enum's values are removed or reordered: PostgreSQL recreates its type, rewriting every table using it under an exclusive lock"),
    ("BC101", "a table or column is renamed: code still using the old name breaks"),
    ("DT102", "a type change is declared lossy: existing values are not checked"),
    ("PT101", "a check constraint is raw SQL: nothing checks it means the same on PostgreSQL and SQLite"),
    ("RS101", "a RunSQL creates an index or trigger it does not declare in creates: check reports it as drift"),
];

/// The rules a dialect adds (`lint --dialect`), from its hook
/// ([`crate::dialect::MigrateHooks::copies_table`]).
pub const DIALECT_RULES: &[(&str, &str)] = &[(
    "MY101",
    "MySQL/MariaDB copy the whole table for this operation (a column's type changes), blocking writes to it meanwhile",
)];

/// Lints the migrations `only` names (all when empty), in graph order.
pub fn lint(graph: &Graph, only: &[Dependency]) -> MResult<Vec<Finding>> {
    lint_on(graph, only, None)
}

/// [`lint`], with what is costly on dialect `d` flagged too (MySQL: MY101).
pub fn lint_on(graph: &Graph, only: &[Dependency], d: Option<Dialect>) -> MResult<Vec<Finding>> {
    let mut state = State::new();
    let mut out = Vec::new();
    for m in &graph.ordered {
        let key = m.migration.key();
        let wanted = only.is_empty() || only.contains(&key);
        for op in &m.migration.operations {
            if wanted {
                let mut found = check(op, &state);
                if let Some(why) = d.and_then(|d| d.migrate().copies_table(op, &state)) {
                    found.push(("MY101", why));
                }
                for (code, message) in found {
                    out.push(Finding {
                        code,
                        migration: key.clone(),
                        path: m.path.clone(),
                        operation: op.describe(),
                        message,
                    });
                }
            }
            state
                .apply(op)
                .map_err(|e| e.in_file(&m.path.display().to_string()))?;
        }
    }
    Ok(out)
}

fn raw_check_msg(table: &str, name: &str, check: &str) -> String {
    format!(
        "check {name} on {table} is raw SQL ({check}): it runs as written on each database, \
         which may read it differently (types, functions, text comparison); test it on both"
    )
}

fn index_msg(table: &str) -> String {
    format!(
        "builds an index on {table} without CONCURRENTLY: writes to {table} wait until it is \
         built; for a big table use RunSQL with CREATE INDEX CONCURRENTLY in an atomic = false \
         migration"
    )
}

/// The findings for one operation, given the state before it.
pub fn check(op: &Operation, before: &State) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match op {
        Operation::DeleteModel { table } => {
            out.push(("DS101", format!("drops table {table} and every row in it")));
        }
        Operation::RemoveField { table, name } => {
            out.push(("DS102", format!("drops column {table}.{name} and its data")));
        }
        Operation::AddField { table, field } => {
            if !field.nullable && field.default.is_none() && !field.auto_increment {
                out.push((
                    "MF101",
                    format!(
                        "adds NOT NULL column {table}.{} without a default: fails if {table} has rows",
                        field.name
                    ),
                ));
            }
            if field.unique && !field.nullable && field.default.is_some() {
                out.push((
                    "MF103",
                    format!(
                        "adds unique column {table}.{} with a default: fails if {table} has two rows or more",
                        field.name
                    ),
                ));
            }
            if (field.index || field.references.is_some()) && !field.unique {
                out.push(("PG101", index_msg(table)));
            }
        }
        Operation::AlterField {
            table,
            field,
            lossy,
            ..
        } => {
            if *lossy {
                out.push((
                    "DT102",
                    format!(
                        "changes {table}.{} with lossy = true: values that do not fit are changed \
                         or fail, unchecked",
                        field.name
                    ),
                ));
            }
            let Some(old) = before.table(table).and_then(|t| t.field(&field.name)) else {
                return out;
            };
            if old.nullable && !field.nullable && field.default.is_none() {
                out.push((
                    "MF102",
                    format!(
                        "makes {table}.{} NOT NULL without a default: fails if a row holds NULL",
                        field.name
                    ),
                ));
            }
            if let Some(why) = narrowing(old, field) {
                out.push(("DT101", format!("narrows {table}.{}: {why}", field.name)));
            }
            if field.unique && !old.unique {
                out.push((
                    "MF103",
                    format!(
                        "makes {table}.{} unique: fails if two rows share a value",
                        field.name
                    ),
                ));
            }
            let indexed = |f: &FieldMeta| (f.index || f.references.is_some()) && !f.unique;
            if indexed(field) && !indexed(old) {
                out.push(("PG101", index_msg(table)));
            }
            if let (
                chakra_dsl::FieldType::Enum { name, values: was },
                chakra_dsl::FieldType::Enum { name: same, values },
            ) = (&old.ty, &field.ty)
            {
                let change = crate::dialect::postgres::enum_ddl::change(was, values);
                if name == same
                    && matches!(
                        change,
                        crate::dialect::postgres::enum_ddl::EnumChange::Recreate { .. }
                    )
                {
                    out.push((
                        "PG102",
                        format!(
                            "changes the enum {name} from {was:?} to {values:?} (a value removed \
                             or moved): PostgreSQL recreates the type and rewrites every table \
                             using it, each under an exclusive lock; adding values at their place \
                             does not"
                        ),
                    ));
                }
            }
        }
        Operation::AddIndex { table, .. } => out.push(("PG101", index_msg(table))),
        Operation::AddConstraint { table, constraint } => {
            if let ConstraintKind::Check { check } = &constraint.kind {
                out.push(("PT101", raw_check_msg(table, &constraint.name, check)));
            }
            if matches!(
                constraint.kind,
                ConstraintKind::Unique { .. }
                    | ConstraintKind::Check { .. }
                    | ConstraintKind::CheckLookup { .. }
            ) {
                out.push((
                    "MF103",
                    format!(
                        "adds constraint {} to existing table {table}: fails on rows that break it",
                        constraint.name
                    ),
                ));
            }
        }
        Operation::RenameModel {
            table, new_table, ..
        } => out.push((
            "BC101",
            format!("renames table {table} to {new_table}: code still using {table} breaks"),
        )),
        Operation::RenameField {
            table,
            name,
            new_name,
        } => {
            let column_changes = before
                .table(table)
                .and_then(|t| t.field(name))
                .is_some_and(|f| f.column == *name);
            if column_changes {
                out.push((
                    "BC101",
                    format!("renames column {table}.{name} to {new_name}: code still using {name} breaks"),
                ));
            }
        }
        Operation::CreateModel {
            table, constraints, ..
        } => {
            for c in constraints {
                if let ConstraintKind::Check { check } = &c.kind {
                    out.push(("PT101", raw_check_msg(table, &c.name, check)));
                }
            }
        }
        Operation::RunSql { sql, creates, .. } => {
            let texts = match sql {
                super::operations::DialectSql::All(s) => vec![s.as_str()],
                super::operations::DialectSql::PerDialect {
                    postgres,
                    sqlite,
                    mysql,
                } => [postgres, sqlite, mysql]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect(),
            };
            let mut seen = Vec::new();
            for o in texts.into_iter().flat_map(created_objects) {
                if !creates.contains(&o) && !seen.contains(&o) {
                    out.push((
                        "RS101",
                        format!(
                            "creates {o} without declaring it: add creates = [\"{o}\"] so the \
                             history knows it"
                        ),
                    ));
                    seen.push(o);
                }
            }
        }
        Operation::RemoveIndex { .. } | Operation::RemoveConstraint { .. } => {}
    }
    out
}

/// The indexes and triggers a raw SQL text creates (`CREATE [UNIQUE] INDEX [CONCURRENTLY]
/// [IF NOT EXISTS] name`, `CREATE [TEMP] TRIGGER [IF NOT EXISTS] name`), by a scan of its
/// words: a hint for `lint`, not a parser.
pub fn created_objects(sql: &str) -> Vec<super::operations::RawObject> {
    use super::operations::RawObject;
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
        .filter(|w| !w.is_empty())
        .collect();
    let skip = [
        "UNIQUE",
        "CONCURRENTLY",
        "IF",
        "NOT",
        "EXISTS",
        "TEMP",
        "TEMPORARY",
    ];
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if !w.eq_ignore_ascii_case("CREATE") {
            continue;
        }
        let mut j = i + 1;
        let mut kind = None;
        while let Some(x) = words.get(j) {
            let up = x.to_ascii_uppercase();
            if up == "INDEX" || up == "TRIGGER" {
                kind = Some(up);
            } else if !skip.contains(&up.as_str()) {
                break;
            }
            j += 1;
        }
        let (Some(kind), Some(name)) = (kind, words.get(j)) else {
            continue;
        };
        if name.eq_ignore_ascii_case("ON") {
            continue;
        }
        let name = name.trim_matches('"').replace("\"\"", "\"");
        out.push(if kind == "INDEX" {
            RawObject::Index(name)
        } else {
            RawObject::Trigger(name)
        });
    }
    out
}

/// Why `new` cannot hold every value `old` can, if it cannot.
fn narrowing(old: &FieldMeta, new: &FieldMeta) -> Option<String> {
    narrowing_type(&old.ty, &new.ty)
}

/// A type as a migration writes it, with its parameters: `String(50)`, `Decimal(10, 2)`,
/// `Array(String(20))`.
pub fn shown_type(t: &FieldType) -> String {
    use FieldType as T;
    match t {
        T::String {
            max_length: Some(n),
        } => format!("String({n})"),
        T::Decimal {
            precision: Some(p),
            scale,
        } => format!("Decimal({p}, {})", scale.unwrap_or(0)),
        T::Array(inner) => format!("Array({})", shown_type(inner)),
        other => other.name(),
    }
}

/// Why changing a column from `old` to `new` may not keep every value, comparing the types
/// with their parameters (a longer `String`, a wider `Decimal` or integer is no narrowing).
pub(crate) fn narrowing_type(old: &FieldType, new: &FieldType) -> Option<String> {
    use FieldType as T;
    let name = shown_type;
    let why = match (old, new) {
        (a, b) if a == b => return None,
        (T::Array(a), T::Array(b)) => {
            return narrowing_type(a, b).map(|why| format!("the elements: {why}"))
        }
        (
            T::String {
                max_length: Some(a),
            },
            T::String {
                max_length: Some(b),
            },
        ) if b >= a => return None,
        (T::BigInteger, T::Integer) => "BigInteger to Integer".to_owned(),
        (T::Float | T::Decimal { .. }, T::Integer | T::BigInteger) => {
            format!("{} to {}: fractions are lost", name(old), name(new))
        }
        (
            T::Text | T::String { max_length: None },
            T::String {
                max_length: Some(n),
            },
        ) => format!("unbounded text to String({n})"),
        (
            T::String {
                max_length: Some(a),
            },
            T::String {
                max_length: Some(b),
            },
        ) if b < a => format!("String({a}) to String({b})"),
        (
            T::Decimal {
                precision: p1,
                scale: s1,
            },
            T::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => {
            let smaller = |a: &Option<u32>, b: &Option<u32>| match (a, b) {
                (None, Some(_)) => true,
                (Some(a), Some(b)) => b < a,
                _ => false,
            };
            if smaller(p1, p2) || smaller(s1, s2) {
                "a smaller precision or scale".to_owned()
            } else {
                return None;
            }
        }
        // An enum keeps its rows when values are only added or moved.
        (T::Enum { values: a, .. }, T::Enum { values: b, .. }) => {
            let gone: Vec<&String> = a.iter().filter(|v| !b.contains(v)).collect();
            if gone.is_empty() {
                return None;
            }
            format!("the enum loses the values {gone:?}")
        }
        (T::Integer, T::BigInteger | T::Float | T::Decimal { .. })
        | (T::Enum { .. }, T::Text | T::String { max_length: None })
        | (T::BigInteger, T::Decimal { .. })
        | (T::String { .. }, T::Text | T::String { max_length: None }) => return None,
        (a, b) => format!("{} to {}: a different type", name(a), name(b)),
    };
    Some(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::format::parse_migration;
    use crate::migrate::loader::LoadedMigration;
    use std::path::Path;

    const SEED: &str = include_str!("../../../migrations/users/0001_initial.toml");

    fn graph(extra_ops: &str) -> Graph {
        let first =
            LoadedMigration::from_text(SEED, Path::new("m/users/0001_initial.toml")).unwrap();
        let text = format!(
            "[migration]\nid = \"0002_x\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n{extra_ops}"
        );
        parse_migration(&text, "x").unwrap();
        let second = LoadedMigration::from_text(&text, Path::new("m/users/0002_x.toml")).unwrap();
        Graph::new(vec![first, second]).unwrap()
    }

    fn codes(extra: &str) -> Vec<&'static str> {
        let g = graph(extra);
        let only = [g.find("0002_x").unwrap()];
        lint(&g, &only)
            .unwrap()
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn a_runsql_creating_what_it_does_not_declare_is_flagged() {
        use crate::migrate::operations::RawObject;
        assert_eq!(
            created_objects(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"a_i\" ON t (x); \
                 create temp trigger t_tr after insert on t begin select 1; end; \
                 CREATE INDEX ON t (y)"
            ),
            [
                RawObject::Index("a_i".into()),
                RawObject::Trigger("t_tr".into())
            ]
        );
        let run = |creates: &str| {
            codes(&format!(
                "\n[[operations]]\ntype = \"RunSQL\"\nsql = {{ postgres = \"CREATE INDEX CONCURRENTLY \
                 u_i ON users (username)\", sqlite = \"CREATE INDEX u_i ON users (username)\" }}\n\
                 reverse_sql = \"DROP INDEX u_i\"\n{creates}"
            ))
        };
        assert_eq!(run(""), ["RS101"]);
        assert!(run("creates = [\"index u_i\"]").is_empty());
    }

    #[test]
    fn each_rule_fires() {
        let op = |body: &str| format!("\n[[operations]]\n{body}\n");
        let add = |f: &str| {
            op(&format!(
                "type = \"AddField\"\ntable = \"users\"\n[operations.field]\n{f}"
            ))
        };
        let alter = |f: &str| {
            op(&format!(
                "type = \"AlterField\"\ntable = \"users\"\n[operations.field]\n{f}"
            ))
        };
        assert_eq!(
            codes(&op("type = \"DeleteModel\"\ntable = \"users\"")),
            ["DS101"]
        );
        assert_eq!(
            codes(&op(
                "type = \"RemoveField\"\ntable = \"users\"\nname = \"username\""
            )),
            ["DS102"]
        );
        assert_eq!(codes(&add("name = \"age\"\ntype = \"Integer\"")), ["MF101"]);
        assert!(codes(&add("name = \"age\"\ntype = \"Integer\"\ndefault = 0")).is_empty());
        assert_eq!(
            codes(&add(
                "name = \"age\"\ntype = \"Integer\"\nnullable = true\nindex = true"
            )),
            ["PG101"]
        );
        assert_eq!(
            codes(&alter(
                "name = \"username\"\ntype = \"String\"\nmax_length = 20\nunique = true"
            )),
            ["DT101"]
        );
        assert!(codes(&alter(
            "name = \"username\"\ntype = \"Text\"\nunique = true"
        ))
        .is_empty());
        assert_eq!(
            codes(&format!(
                "{}{}",
                add("name = \"age\"\ntype = \"Integer\"\nnullable = true"),
                alter("name = \"age\"\ntype = \"Integer\"")
            )),
            ["MF102"]
        );
        assert_eq!(
            codes(&op(
                "type = \"AddIndex\"\ntable = \"users\"\nname = \"i\"\ncolumns = [\"username\"]"
            )),
            ["PG101"]
        );
        assert_eq!(
            codes(&op("type = \"AddConstraint\"\ntable = \"users\"\nname = \"c\"\nkind = \"check\"\ncheck = \"id > 0\"")),
            ["PT101", "MF103"]
        );
        assert_eq!(
            codes(&op(
                "type = \"RenameModel\"\ntable = \"users\"\nnew_table = \"people\""
            )),
            ["BC101"]
        );
        assert_eq!(codes(&op("type = \"RenameField\"\ntable = \"users\"\nname = \"username\"\nnew_name = \"login\"")), ["BC101"]);
        let status = |values: &str| {
            format!(
                "name = \"status\"\ntype = \"Enum\"\nenum = \"st\"\nvalues = [{values}]\n\
                 nullable = true"
            )
        };
        let enum_change =
            |from: &str, to: &str| codes(&format!("{}{}", add(&status(from)), alter(&status(to))));
        assert_eq!(enum_change("\"a\", \"b\"", "\"b\", \"a\""), ["PG102"]);
        assert!(enum_change("\"a\", \"b\"", "\"a\", \"c\", \"b\"").is_empty());
        assert_eq!(enum_change("\"a\", \"b\"", "\"a\""), ["DT101", "PG102"]);
        assert_eq!(RULES.len(), 12, "RS101 has its own test");
    }

    /// Issue 26, problem 10: types compare with their parameters.
    #[test]
    fn widening_is_not_narrowing_and_messages_show_parameters() {
        let alter = |f: &str| {
            format!(
                "\n[[operations]]\ntype = \"AlterField\"\ntable = \"users\"\n[operations.field]\n{f}\n"
            )
        };
        let username = |len: u32| {
            alter(&format!(
                "name = \"username\"\ntype = \"String\"\nmax_length = {len}\nunique = true"
            ))
        };
        assert!(
            codes(&username(120)).is_empty(),
            "String(50) -> String(120)"
        );
        assert!(codes(&username(50)).is_empty());
        let g = graph(&username(3));
        let f = lint(&g, &[g.find("0002_x").unwrap()]).unwrap();
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("String(50) to String(3)"),
            "{}",
            f[0].message
        );
        use FieldType as T;
        let dec = |p, s| T::Decimal {
            precision: Some(p),
            scale: Some(s),
        };
        let st = |n| T::String {
            max_length: Some(n),
        };
        assert_eq!(narrowing_type(&dec(10, 2), &dec(12, 2)), None);
        assert!(narrowing_type(&dec(10, 2), &dec(8, 2)).is_some());
        assert_eq!(
            narrowing_type(&T::Array(Box::new(st(5))), &T::Array(Box::new(st(9)))),
            None
        );
        assert_eq!(
            narrowing_type(&T::Array(Box::new(st(9))), &T::Array(Box::new(st(5)))).as_deref(),
            Some("the elements: String(9) to String(5)")
        );
        assert_eq!(
            narrowing_type(&st(9), &T::Integer).as_deref(),
            Some("String(9) to Integer: a different type")
        );
    }
}
