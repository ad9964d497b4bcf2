//! Tests of the migration file reader and writer.

use super::*;
use crate::migrate::writer::write_migration;
use chakra_dsl::{DefaultValue, OnDelete, Value};

const SEED: &str = include_str!("../../../migrations/users/0001_initial.toml");

const EVERY_OPERATION: &str = r#"
[migration]
id = "0002_everything"
app = "blog"
dependencies = [["users", "0001_initial"]]
atomic = false

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
name = "author"
column = "author_id"
type = "BigInteger"
index = true
references = { table = "users", column = "id", on_delete = "CASCADE" }

[[operations.fields]]
name = "price"
type = "Decimal"
precision = 10
scale = 2
default = "1.50"

[[operations.fields]]
name = "created"
type = "DateTime"
default = "now()"

[[operations.fields]]
name = "tags"
type = "Array(Text)"
nullable = true

[[operations.indexes]]
name = "posts_author_created"
columns = ["author_id", "created"]

[[operations.constraints]]
name = "posts_price_positive"
kind = "check"
check = "price >= 0"

[[operations]]
type = "AddField"
table = "posts"
[operations.field]
name = "title"
type = "String"
max_length = 200
default = "it's \"quoted\"\n"

[[operations]]
type = "AlterField"
table = "posts"
[operations.field]
name = "title"
type = "Text"
nullable = true

[[operations]]
type = "RenameField"
table = "posts"
name = "title"
new_name = "headline"

[[operations]]
type = "RemoveField"
table = "posts"
name = "tags"

[[operations]]
type = "AddIndex"
table = "posts"
name = "posts_headline"
columns = ["headline"]
unique = true

[[operations]]
type = "RemoveIndex"
table = "posts"
name = "posts_headline"

[[operations]]
type = "AddConstraint"
table = "posts"
name = "posts_author_fk"
kind = "foreign_key"
columns = ["author_id"]
references = { table = "users", columns = ["id"], on_delete = "SET NULL" }

[[operations]]
type = "RemoveConstraint"
table = "posts"
name = "posts_author_fk"

[[operations]]
type = "RunSQL"
sql = { postgres = "CREATE INDEX CONCURRENTLY x ON posts (id)", sqlite = "CREATE INDEX x ON posts (id)" }
reverse_sql = "DROP INDEX x"

[[operations]]
type = "RenameModel"
table = "posts"
new_table = "articles"
new_name = "Article"

[[operations]]
type = "DeleteModel"
table = "articles"
"#;

fn err(text: &str) -> String {
    parse_migration(text, "migrations/users/0002_x.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn the_seed_parses_unchanged() {
    let m = parse_migration(SEED, "0001_initial.toml").unwrap();
    assert_eq!((m.app.as_str(), m.id.as_str()), ("users", "0001_initial"));
    assert!(m.atomic && m.dependencies.is_empty());
    let Operation::CreateModel {
        name,
        table,
        fields,
        ..
    } = &m.operations[0]
    else {
        panic!("expected CreateModel")
    };
    assert_eq!((name.as_str(), table.as_str()), ("User", "users"));
    assert!(fields[0].primary_key && fields[0].auto_increment);
    assert_eq!(fields[0].ty, FieldType::BigInteger);
    assert_eq!(
        fields[1].ty,
        FieldType::String {
            max_length: Some(50)
        }
    );
    assert!(fields[1].unique && !fields[1].nullable);
}

#[test]
fn every_operation_parses_and_round_trips() {
    let m = parse_migration(EVERY_OPERATION, "x.toml").unwrap();
    assert_eq!(m.operations.len(), 12);
    assert!(!m.atomic);
    let Operation::CreateModel {
        fields,
        indexes,
        constraints,
        ..
    } = &m.operations[0]
    else {
        panic!()
    };
    let author = &fields[1];
    assert_eq!(author.column, "author_id");
    let r = author.references.as_ref().unwrap();
    assert_eq!(
        (r.table.as_str(), r.on_delete),
        ("users", OnDelete::Cascade)
    );
    assert_eq!(fields[3].default, Some(DefaultValue::Now));
    assert!(matches!(
        fields[2].default,
        Some(DefaultValue::Value(Value::Decimal(_)))
    ));
    assert_eq!(indexes.len(), 1);
    assert_eq!(constraints.len(), 1);
    let text = write_migration(&m);
    let again = parse_migration(&text, "x.toml").unwrap();
    assert_eq!(again, m);
    assert_eq!(write_migration(&again), text, "the writer is deterministic");
}

#[test]
fn the_seed_written_back() {
    let m = parse_migration(SEED, "0001_initial.toml").unwrap();
    let expected = "[migration]\nid = \"0001_initial\"\napp = \"users\"\n\n[[operations]]\ntype = \"CreateModel\"\nname = \"User\"\ntable = \"users\"\n\n[[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\nauto_increment = true\n\n[[operations.fields]]\nname = \"username\"\ntype = \"String\"\nmax_length = 50\nunique = true\n";
    assert_eq!(write_migration(&m), expected);
}

#[test]
fn unknown_keys_name_file_and_line() {
    let bad = SEED.replace("unique = true", "uniq = true");
    let e = err(&bad);
    assert!(e.starts_with("migrations/users/0002_x.toml:23: "), "{e}");
    assert!(e.contains("unknown key \"uniq\""), "{e}");
    assert!(e.contains("expected one of"), "{e}");
    let e = err(&SEED.replace("app = \"users\"", "app = \"users\"\nauthor = \"me\""));
    assert!(
        e.contains(":7: unknown key \"author\" in [migration]"),
        "{e}"
    );
}

#[test]
fn wrong_types_and_unknown_operations() {
    let e = err(&SEED.replace("max_length = 50", "max_length = \"50\""));
    assert!(
        e.contains(":22: max_length") && e.contains("integer"),
        "{e}"
    );
    let e = err(&SEED.replace("type = \"CreateModel\"", "type = \"CreateTable\""));
    assert!(
        e.contains(":9: unknown operation type \"CreateTable\""),
        "{e}"
    );
    let e = err(&SEED.replace("\"BigInteger\"", "\"Bigint\""));
    assert!(e.contains(":15: unknown type \"Bigint\""), "{e}");
    let e = err(&SEED.replace("primary_key = true", "primary_key = 1"));
    assert!(e.contains("must be true or false"), "{e}");
    let e = err(&SEED.replace("max_length = 50", "max_length = 50\nprecision = 3"));
    assert!(
        e.contains("precision does not apply to a String field"),
        "{e}"
    );
    let e = err("[migration]\nid = \"1\"\napp = \"x\"\n\n[[operations]]\ntype = \"AddField\"\ntable = \"t\"\n[operations.field]\nname = \"n\"\ntype = \"Integer\"\ndefault = \"x\"\n");
    assert!(
        e.contains(":11: a Integer default must be an integer"),
        "{e}"
    );
}

#[test]
fn malformed_toml_and_missing_keys() {
    let e = err("[migration]\nid = \"1\"\napp = \n");
    assert!(e.contains(":3: not valid TOML"), "{e}");
    let e = err("[migration]\nid = \"1\"\n");
    assert!(e.contains("missing key \"app\""), "{e}");
    let e = err("[[operations]]\ntype = \"DeleteModel\"\ntable = \"x\"\n");
    assert!(e.contains("no [migration] table"), "{e}");
    let e = err("[migration]\nid = \"1\"\napp = \"a\"\ndependencies = [\"users\"]\n");
    assert!(e.contains(":4:"), "{e}");
}

#[test]
fn a_migrations_lock_timeout_parses_and_round_trips() {
    let text = "[migration]\nid = \"0002_x\"\napp = \"a\"\nlock_timeout = \"1500ms\"\n";
    let m = parse_migration(text, "f.toml").unwrap();
    assert_eq!(m.lock_timeout, Some(std::time::Duration::from_millis(1500)));
    let written = write_migration(&m);
    assert!(written.contains("lock_timeout = \"1500ms\""), "{written}");
    assert_eq!(parse_migration(&written, "f.toml").unwrap(), m);
    let m = parse_migration(&text.replace("1500ms", "30"), "f.toml").unwrap();
    assert_eq!(m.lock_timeout, Some(std::time::Duration::from_secs(30)));
    assert!(write_migration(&m).contains("lock_timeout = \"30s\""));
    let e = err(&text.replace("1500ms", "soon"));
    assert!(
        e.contains("0002_x.toml:4: lock_timeout = \"soon\" is not a duration"),
        "{e}"
    );
    let e = err(&text.replace("1500ms", "0s"));
    assert!(e.contains(":4:"), "{e}");
}

#[test]
fn lookup_conditions_round_trip() {
    let text = r#"[migration]
id = "0003_conditions"
app = "blog"

[[operations]]
type = "AddIndex"
table = "posts"
name = "posts_live_slug"
columns = ["slug"]
unique = true
condition = { or = [{ status = "live", "weird key" = [1, -2] }, { not = { draft = true } }] }

[[operations]]
type = "AddConstraint"
table = "posts"
name = "posts_price_ok"
kind = "check"
condition = { price__gte = 0 }
"#;
    let m = parse_migration(text, "x.toml").unwrap();
    let written = write_migration(&m);
    assert_eq!(parse_migration(&written, "x.toml").unwrap(), m);
    assert_eq!(
        write_migration(&parse_migration(&written, "x.toml").unwrap()),
        written
    );
    assert!(
        written.contains("condition = { price__gte = 0 }"),
        "{written}"
    );
    // A condition value TOML has but lookups do not take is refused with its line.
    let bad = text.replace("price__gte = 0", "price__gte = 1.5");
    let e = parse_migration(&bad, "x.toml").unwrap_err().to_string();
    assert!(e.contains("x.toml") && e.contains("price__gte"), "{e}");
}

#[test]
fn expressions_and_runsql_creates_round_trip_and_bad_ones_are_named() {
    let text = r#"[migration]
id = "0004_x"
app = "users"

[[operations]]
type = "AddIndex"
table = "users"
name = "users_email_ci"
expressions = ["lower(email)", "length(name)"]

[[operations]]
type = "RunSQL"
sql = "CREATE INDEX users_x ON users (id)"
creates = ["index users_x", "trigger users_t"]
"#;
    let m = parse_migration(text, "x.toml").unwrap();
    let written = write_migration(&m);
    assert_eq!(written, text);
    assert_eq!(parse_migration(&written, "x.toml").unwrap(), m);
    for (from, to, says) in [
        ("lower(email)", "trim(email)", "unknown function"),
        ("lower(email)", "lower(email) || 'x'", "index expression"),
        ("lower(email)", "email + 1", "not a field name"),
        ("index users_x", "view users_x", "not \"view\""),
        ("index users_x", "index", "write \"index <name>\""),
    ] {
        let e = parse_migration(&text.replace(from, to), "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.toml:") && e.contains(says), "{to}: {e}");
    }
}
