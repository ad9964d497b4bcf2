//! Tests of the DDL planner (statement text; execution is tested in `tests/migrate_*.rs`).

use super::*;
use crate::migrate::format::parse_migration;
use crate::migrate::operations::DialectSql;

const USERS: &str = r#"
[migration]
id = "0001_initial"
app = "users"

[[operations]]
type = "CreateModel"
name = "User"
table = "users"
[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
auto_increment = true
[[operations.fields]]
name = "username"
type = "String"
max_length = 50
unique = true
[[operations.fields]]
name = "age"
type = "Integer"
nullable = true
index = true

[[operations]]
type = "CreateModel"
name = "Post"
table = "posts"
[[operations.fields]]
name = "id"
type = "Integer"
primary_key = true
auto_increment = true
[[operations.fields]]
name = "author_id"
type = "BigInteger"
references = { table = "users", on_delete = "CASCADE" }
[[operations.constraints]]
name = "posts_id_positive"
kind = "check"
check = "id > 0"
"#;

fn state() -> State {
    State::replay([&parse_migration(USERS, "u.toml").unwrap()]).unwrap()
}

fn op(text: &str) -> Operation {
    let m = parse_migration(
        &format!("[migration]\nid = \"2\"\napp = \"users\"\n[[operations]]\n{text}"),
        "o.toml",
    )
    .unwrap();
    m.operations.into_iter().next().unwrap()
}

#[test]
fn create_table_on_both_dialects() {
    let m = parse_migration(USERS, "u.toml").unwrap();
    let pg = migration_forward(&m, &mut State::new(), Dialect::Postgres).unwrap();
    assert_eq!(
        pg.statements[0],
        "CREATE TABLE \"users\" (\"id\" BIGSERIAL PRIMARY KEY, \"username\" VARCHAR(50) NOT NULL CONSTRAINT \"users_username_key\" UNIQUE, \"age\" INTEGER)"
    );
    assert_eq!(
        pg.statements[1],
        "CREATE INDEX \"users_age_idx\" ON \"users\" (\"age\")"
    );
    assert_eq!(
        pg.statements[2],
        "CREATE TABLE \"posts\" (\"id\" SERIAL PRIMARY KEY, \"author_id\" BIGINT NOT NULL CONSTRAINT \"posts_author_id_fkey\" REFERENCES \"users\" (\"id\") ON DELETE CASCADE, CONSTRAINT \"posts_id_positive\" CHECK (id > 0))"
    );
    let lite = migration_forward(&m, &mut State::new(), Dialect::Sqlite).unwrap();
    assert!(lite.statements[0].starts_with(
        "CREATE TABLE \"users\" (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT, \"username\" TEXT NOT NULL"
    ));
    assert!(!lite.foreign_keys_off);
}

#[test]
fn sqlite_rebuilds_what_alter_table_cannot_do() {
    let alter = op("type = \"AlterField\"\ntable = \"users\"\n[operations.field]\nname = \"age\"\ntype = \"BigInteger\"\ndefault = 0\n");
    let plan = forward(&alter, &state(), Dialect::Sqlite).unwrap();
    assert!(plan.foreign_keys_off);
    assert_eq!(
        plan.statements[1],
        "INSERT INTO \"__chakra_new_users\" (\"id\", \"username\", \"age\") SELECT \"id\", \"username\", COALESCE(\"age\", 0) FROM \"users\""
    );
    assert_eq!(plan.statements[2], "DROP TABLE \"users\"");
    assert_eq!(
        plan.statements[3],
        "ALTER TABLE \"__chakra_new_users\" RENAME TO \"users\""
    );
    let pg = forward(&alter, &state(), Dialect::Postgres).unwrap();
    assert_eq!(
        pg.statements,
        vec![
            "DROP INDEX \"users_age_idx\"",
            "ALTER TABLE \"users\" ALTER COLUMN \"age\" TYPE BIGINT USING \"age\"::BIGINT",
            "ALTER TABLE \"users\" ALTER COLUMN \"age\" SET DEFAULT 0",
            "UPDATE \"users\" SET \"age\" = 0 WHERE \"age\" IS NULL",
            "ALTER TABLE \"users\" ALTER COLUMN \"age\" SET NOT NULL",
        ]
    );
    let add = op("type = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"bio\"\ntype = \"Text\"\nnullable = true\n");
    let plan = forward(&add, &state(), Dialect::Sqlite).unwrap();
    assert_eq!(
        plan.statements,
        vec!["ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT"]
    );
    let add_unique = op("type = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"email\"\ntype = \"Text\"\nunique = true\nnullable = true\n");
    assert!(
        forward(&add_unique, &state(), Dialect::Sqlite)
            .unwrap()
            .foreign_keys_off
    );
}

#[test]
fn reverse_of_each_operation() {
    let st = state();
    let rm = op("type = \"RemoveField\"\ntable = \"users\"\nname = \"age\"\n");
    let back = reverse_operations(&rm, &st).unwrap();
    assert!(
        matches!(&back[0], Operation::AddField { field, .. } if field.name == "age" && field.index)
    );
    let rename =
        op("type = \"RenameField\"\ntable = \"users\"\nname = \"age\"\nnew_name = \"years\"\n");
    let pg = forward(&rename, &st, Dialect::Postgres).unwrap();
    assert_eq!(
        pg.statements,
        vec![
            "ALTER TABLE \"users\" RENAME COLUMN \"age\" TO \"years\"",
            "ALTER INDEX \"users_age_idx\" RENAME TO \"users_years_idx\"",
        ]
    );
    let irreversible = Operation::RunSql {
        sql: DialectSql::All("UPDATE users SET age = 1".into()),
        reverse_sql: None,
        creates: vec![],
    };
    let e = reverse_operations(&irreversible, &st).unwrap_err();
    assert!(
        e.message.starts_with("RunSQL: is irreversible"),
        "{}",
        e.message
    );
}

#[test]
fn up_then_down_plans_for_a_whole_migration() {
    let m = parse_migration(USERS, "u.toml").unwrap();
    let down = migration_backward(&m, &State::new(), Dialect::Postgres).unwrap();
    assert_eq!(
        down.statements,
        vec!["DROP TABLE \"posts\"", "DROP TABLE \"users\""]
    );
}

#[test]
fn identifiers_are_validated() {
    let bad = op("type = \"AddIndex\"\ntable = \"users\"\nname = \"x\\\"; DROP TABLE users; --\"\ncolumns = [\"age\"]\n");
    assert!(forward(&bad, &state(), Dialect::Postgres).is_err());
}

#[test]
fn lookup_conditions_compile_per_dialect_with_literals() {
    let before = state();
    let add = op(r#"type = "AddIndex"
table = "users"
name = "users_name_adult"
columns = ["username", "age"]
unique = true
condition = { age__gte = 18, username__startswith = "o'k" }"#);
    let pg = forward(&add, &before, Dialect::Postgres).unwrap();
    assert_eq!(
        pg.statements,
        ["CREATE UNIQUE INDEX \"users_name_adult\" ON \"users\" (\"username\", \"age\") WHERE ((\"age\" >= 18) AND (\"username\" LIKE 'o''k%' ESCAPE '\\'))"]
    );
    let lite = forward(&add, &before, Dialect::Sqlite).unwrap();
    assert!(
        lite.statements[0].starts_with(
            "CREATE UNIQUE INDEX \"users_name_adult\" ON \"users\" (\"username\", \"age\") WHERE ("
        ),
        "{:?}",
        lite.statements
    );
    let check = op(r#"type = "AddConstraint"
table = "users"
name = "users_age_ok"
kind = "check"
condition = { or = [{ age__isnull = true }, { age__range = [0, 150] }] }"#);
    let pg = forward(&check, &before, Dialect::Postgres).unwrap();
    assert_eq!(
        pg.statements,
        ["ALTER TABLE \"users\" ADD CONSTRAINT \"users_age_ok\" CHECK ((\"age\" IS NULL) OR (\"age\" BETWEEN 0 AND 150))"]
    );
    // SQLite adds a CHECK by rebuilding the table; the new table carries it.
    let lite = forward(&check, &before, Dialect::Sqlite).unwrap();
    assert!(lite
        .statements
        .iter()
        .any(|s| s.contains("CONSTRAINT \"users_age_ok\" CHECK (")));
    // A lookup on a field the table does not have is refused, naming the table.
    let bad = op(r#"type = "AddIndex"
table = "users"
name = "users_bad"
columns = ["age"]
condition = { nope = 1 }"#);
    let e = forward(&bad, &before, Dialect::Postgres)
        .unwrap_err()
        .to_string();
    assert!(e.contains("users") && e.contains("nope"), "{e}");
}

#[test]
fn expression_indexes_compile_per_dialect_and_refuse_bad_keys() {
    let add = op(r#"
type = "AddIndex"
table = "users"
name = "users_username_ci"
unique = true
expressions = ["lower(username)", "length( username )"]
"#);
    let pg = forward(&add, &state(), Dialect::Postgres)
        .unwrap()
        .statements;
    assert_eq!(
        pg,
        [
            r#"CREATE UNIQUE INDEX "users_username_ci" ON "users" ((LOWER("username")), (CAST(CHAR_LENGTH("username") AS BIGINT)))"#
        ]
    );
    let lite = forward(&add, &state(), Dialect::Sqlite).unwrap().statements;
    assert!(
        lite[0].contains(r#"((chakra_lower("username")), "#),
        "{lite:?}"
    );
    // Typed as queries are: lower of a number, an unknown field.
    for bad in ["lower(age)", "lower(nickname)"] {
        let mut s = state();
        let e = s
            .apply(&op(&format!(
                "type = \"AddIndex\"\ntable = \"users\"\nname = \"x\"\nexpressions = [\"{bad}\"]"
            )))
            .unwrap_err()
            .to_string();
        assert!(e.contains("AddIndex users.x"), "{bad}: {e}");
    }
}

/// PostgreSQL: the native enum type's statements around each operation, in order; SQLite
/// none (its CHECK is in the column).
#[test]
fn enum_types_are_planned_around_the_operations_on_postgres() {
    let d = Dialect::Postgres;
    let enum_field = |name: &str, values: &str| {
        format!(
            "[operations.field]\nname = \"{name}\"\ntype = \"Enum\"\nenum = \"mood\"\n\
             values = [{values}]\nnullable = true\n"
        )
    };
    let mut s = state();
    // A new enum column: the type created first.
    let add_mood = op(&format!(
        "type = \"AddField\"\ntable = \"users\"\n{}",
        enum_field("mood", "\"ok\", \"sad\"")
    ));
    let plan = forward(&add_mood, &s, d).unwrap().statements;
    assert_eq!(
        plan,
        [
            "CREATE TYPE \"mood\" AS ENUM ('ok', 'sad')",
            "ALTER TABLE \"users\" ADD COLUMN \"mood\" \"mood\""
        ]
    );
    assert!(forward(&add_mood, &s, Dialect::Sqlite)
        .unwrap()
        .statements
        .iter()
        .all(|x| !x.contains("CREATE TYPE")));
    s.apply(&add_mood).unwrap();
    // A second column of the same type: nothing for the type.
    let second = op(&format!(
        "type = \"AddField\"\ntable = \"posts\"\n{}",
        enum_field("mood", "\"ok\", \"sad\"")
    ));
    assert_eq!(
        forward(&second, &s, d).unwrap().statements,
        ["ALTER TABLE \"posts\" ADD COLUMN \"mood\" \"mood\""]
    );
    s.apply(&second).unwrap();
    // Removing one of them keeps the type; removing the last drops it, after the column.
    let remove_posts = op("type = \"RemoveField\"\ntable = \"posts\"\nname = \"mood\"");
    assert_eq!(
        forward(&remove_posts, &s, d).unwrap().statements,
        ["ALTER TABLE \"posts\" DROP COLUMN \"mood\""]
    );
    s.apply(&remove_posts).unwrap();
    // A value added in its place; then the enum altered to text (USING through text).
    let add_value = op(&format!(
        "type = \"AlterField\"\ntable = \"users\"\n{}",
        enum_field("mood", "\"meh\", \"ok\", \"sad\"")
    ));
    assert_eq!(
        forward(&add_value, &s, d).unwrap().statements,
        ["ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'meh' BEFORE 'ok'"]
    );
    s.apply(&add_value).unwrap();
    let to_text = op(
        "type = \"AlterField\"\ntable = \"users\"\n[operations.field]\nname = \"mood\"\n\
         type = \"Text\"\nnullable = true\n",
    );
    assert_eq!(
        forward(&to_text, &s, d).unwrap().statements,
        [
            "ALTER TABLE \"users\" ALTER COLUMN \"mood\" TYPE TEXT USING \"mood\"::text::TEXT",
            "DROP TYPE IF EXISTS \"mood\""
        ]
    );
}

/// PostgreSQL: fields sharing an enum type changed one `AlterField` at a time in one
/// migration: the type changes once, at the first operation declaring the new values, and the
/// migration's end state is checked as one type.
#[test]
fn a_shared_enum_type_changes_once_across_its_fields() {
    let field = |table: &str, values: &str| {
        format!(
            "[[operations]]\ntype = \"AlterField\"\ntable = \"{table}\"\n[operations.field]\n\
             name = \"mood\"\ntype = \"Enum\"\nenum = \"mood\"\nvalues = [{values}]\n\
             nullable = true\n"
        )
    };
    let add = |table: &str| field(table, "\"ok\", \"sad\"").replace("AlterField", "AddField");
    let m = |id: &str, ops: String| {
        parse_migration(
            &format!("[migration]\nid = \"{id}\"\napp = \"users\"\n{ops}"),
            "m.toml",
        )
        .unwrap()
    };
    let mut s = state();
    migration_forward(
        &m("2", add("users") + &add("posts")),
        &mut s,
        Dialect::Postgres,
    )
    .unwrap();
    let both = m(
        "3",
        field("users", "\"ok\", \"meh\", \"sad\"") + &field("posts", "\"ok\", \"meh\", \"sad\""),
    );
    let plan = migration_forward(&both, &mut s.clone(), Dialect::Postgres).unwrap();
    assert_eq!(
        plan.statements,
        ["ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'meh' AFTER 'ok'"]
    );
    // Only one of them changed by the end: refused, naming both.
    let half = m("3", field("users", "\"ok\", \"meh\", \"sad\""));
    let e = migration_forward(&half, &mut s, Dialect::Postgres).unwrap_err();
    assert!(
        e.message.contains("posts.mood") && e.message.contains("users.mood"),
        "{}",
        e.message
    );
}
