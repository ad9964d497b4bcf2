//! Tests of the schema state replay.

use super::*;
use crate::migrate::format::parse_migration;
use chakra_dsl::{FieldType, ForeignKeyRef, OnDelete};

fn mig(ops: &str) -> Migration {
    parse_migration(
        &format!("[migration]\nid = \"0001\"\napp = \"a\"\n{ops}"),
        "t.toml",
    )
    .unwrap()
}

const USERS: &str = r#"
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
name = "name"
type = "String"
max_length = 50
"#;

const POSTS: &str = r#"
[[operations]]
type = "CreateModel"
name = "Post"
table = "posts"
[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
[[operations.fields]]
name = "author_id"
type = "BigInteger"
references = { table = "users", column = "id", on_delete = "CASCADE" }
"#;

#[test]
fn replay_builds_tables_fields_indexes() {
    let extra = r#"
[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "email"
type = "Text"
nullable = true
[[operations]]
type = "AddIndex"
table = "users"
name = "users_email"
columns = ["email"]
[[operations]]
type = "RenameField"
table = "users"
name = "email"
new_name = "mail"
[[operations]]
type = "AlterField"
table = "users"
[operations.field]
name = "name"
type = "Text"
"#;
    let s = State::replay([&mig(&format!("{USERS}{extra}"))]).unwrap();
    let users = s.table("users").unwrap();
    assert_eq!(users.fields.len(), 3);
    assert_eq!(users.field("mail").unwrap().column, "mail");
    assert_eq!(users.indexes[0].columns, vec!["mail".to_string()]);
    assert_eq!(users.field("name").unwrap().ty, FieldType::Text);
}

#[test]
fn rename_model_follows_foreign_keys() {
    let rename =
        "\n[[operations]]\ntype = \"RenameModel\"\ntable = \"users\"\nnew_table = \"accounts\"\n";
    let s = State::replay([&mig(&format!("{USERS}{POSTS}{rename}"))]).unwrap();
    let fk = s.table("posts").unwrap().field("author_id").unwrap();
    assert_eq!(fk.references.as_ref().unwrap().table, "accounts");
    assert!(s.table("users").is_none());
}

#[test]
fn invalid_operations_are_refused() {
    let e = State::replay([&mig(&format!("{USERS}{USERS}"))]).unwrap_err();
    assert!(
        e.message
            .contains("CreateModel users: table \"users\" already exists"),
        "{}",
        e.message
    );
    let del = "\n[[operations]]\ntype = \"DeleteModel\"\ntable = \"users\"\n";
    let e = State::replay([&mig(&format!("{USERS}{POSTS}{del}"))]).unwrap_err();
    assert!(
        e.message.contains("still referenced by posts.author_id"),
        "{}",
        e.message
    );
    let rm = "\n[[operations]]\ntype = \"RemoveField\"\ntable = \"users\"\nname = \"nope\"\n";
    let e = State::replay([&mig(&format!("{USERS}{rm}"))]).unwrap_err();
    assert!(
        e.message.contains("users has no field \"nope\""),
        "{}",
        e.message
    );
    let bad = USERS.replace("table = \"users\"", "table = \"us\\\"ers\"");
    assert!(State::replay([&mig(&bad)]).is_err());
}

#[test]
fn from_models_matches_the_replayed_state() {
    let replayed = State::replay([&mig(&format!("{USERS}{POSTS}"))]).unwrap();
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    let name = FieldMeta::new(
        "name",
        FieldType::String {
            max_length: Some(50),
        },
    );
    let mut pid = FieldMeta::new("id", FieldType::BigInteger);
    pid.primary_key = true;
    let mut author = FieldMeta::new("author_id", FieldType::BigInteger);
    author.references = Some(ForeignKeyRef {
        model: "User".into(),
        table: "users".into(),
        column: "id".into(),
        on_delete: OnDelete::Cascade,
    });
    let models = vec![
        ModelMeta {
            name: "User".into(),
            table: "users".into(),
            fields: vec![id, name],
            relations: vec![],
            app: None,
            options: Default::default(),
            ordering: Vec::new(),
        },
        ModelMeta {
            name: "Post".into(),
            table: "posts".into(),
            fields: vec![pid, author],
            relations: vec![],
            app: None,
            ordering: Vec::new(),
            options: Default::default(),
        },
    ];
    assert_eq!(State::from_models(&models).unwrap(), replayed);
}

#[test]
fn renaming_a_column_follows_into_check_constraints() {
    let ops = r#"
[[operations]]
type = "AddConstraint"
table = "users"
name = "users_name_len"
kind = "check"
check = "length(name) > 0 AND names_x IS NULL OR name <> ''"
[[operations]]
type = "RenameField"
table = "users"
name = "name"
new_name = "full_name"
"#;
    let s = State::replay([&mig(&format!("{USERS}{ops}"))]).unwrap();
    let c = &s.table("users").unwrap().constraints[0];
    assert_eq!(
        c.kind,
        ConstraintKind::Check {
            check: "length(full_name) > 0 AND names_x IS NULL OR full_name <> ''".into()
        }
    );
}

#[test]
fn model_options_are_checked_when_read() {
    use chakra_dsl::table_options::{CheckOption, Cond, CondValue, IndexOption};
    let mut f = FieldMeta::new("age", chakra_dsl::FieldType::Integer);
    f.nullable = false;
    let mut id = FieldMeta::new("id", chakra_dsl::FieldType::BigInteger);
    id.primary_key = true;
    let mut m = ModelMeta {
        name: "Person".into(),
        table: "people".into(),
        fields: vec![id, f],
        relations: vec![],
        ordering: Vec::new(),
        app: None,
        options: Default::default(),
    };
    m.options.checks.push(CheckOption {
        name: "people_age_ok".into(),
        check: Cond::Lookup {
            key: "agee__gte".into(),
            value: CondValue::Int(0),
        },
    });
    let e = State::from_models(std::slice::from_ref(&m))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Person") && e.contains("people_age_ok") && e.contains("agee"),
        "{e}"
    );
    m.options.checks.clear();
    m.options.indexes.push(IndexOption {
        name: "people_x".into(),
        fields: vec!["height".into()],
        expressions: vec![],
        unique: false,
        condition: None,
    });
    let e = State::from_models(std::slice::from_ref(&m))
        .unwrap_err()
        .to_string();
    assert!(e.contains("people_x") && e.contains("height"), "{e}");
    m.options.indexes[0].fields = vec!["age".into()];
    let s = State::from_models(&[m]).unwrap();
    assert_eq!(s.table("people").unwrap().indexes[0].columns, ["age"]);
}

#[test]
fn renaming_a_field_follows_into_conditions_and_removing_it_drops_them() {
    use chakra_dsl::table_options::{Cond, CondValue};
    let ops = r#"
[[operations]]
type = "AddIndex"
table = "users"
name = "users_named"
columns = ["id"]
condition = { name__startswith = "a" }
[[operations]]
type = "AddConstraint"
table = "users"
name = "users_name_ok"
kind = "check"
condition = { not = { name = "" } }
[[operations]]
type = "RenameField"
table = "users"
name = "name"
new_name = "full_name"
"#;
    let s = State::replay([&mig(&format!("{USERS}{ops}"))]).unwrap();
    let t = s.table("users").unwrap();
    assert_eq!(
        t.indexes[0].condition,
        Some(Cond::Lookup {
            key: "full_name__startswith".into(),
            value: CondValue::Text("a".into())
        })
    );
    assert_eq!(
        t.constraints[0].kind,
        ConstraintKind::CheckLookup {
            condition: Cond::Not(Box::new(Cond::Lookup {
                key: "full_name".into(),
                value: CondValue::Text(String::new())
            }))
        }
    );
    // The DDL of a later rebuild compiles against the renamed field.
    let sql = crate::migrate::table_sql::create_index_sql(
        "users",
        &t.indexes[0],
        t,
        crate::Dialect::Sqlite,
    )
    .unwrap();
    assert!(sql.contains("\"full_name\""), "{sql}");
    // Removing the field drops what its conditions read, as PostgreSQL's DROP COLUMN does.
    let rm = r#"
[[operations]]
type = "RemoveField"
table = "users"
name = "full_name"
"#;
    let s = State::replay([&mig(&format!("{USERS}{ops}{rm}"))]).unwrap();
    let t = s.table("users").unwrap();
    assert!(t.indexes.is_empty() && t.constraints.is_empty(), "{t:?}");
}

#[test]
fn auto_now_and_ordering_are_not_schema() {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    let at = FieldMeta::new("at", FieldType::DateTime);
    let plain = ModelMeta {
        name: "Memo".into(),
        table: "memos".into(),
        fields: vec![id, at],
        relations: vec![],
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
    };
    let mut stamped = plain.clone();
    stamped.fields[1].auto_now = chakra_dsl::meta::AutoNow::OnSave;
    stamped.ordering = chakra_dsl::meta::OrderKey::parse_list("-at, id");
    assert_eq!(
        State::from_models(&[stamped]).unwrap(),
        State::from_models(&[plain]).unwrap()
    );
}

/// A `CreateModel` of `table` with one `Enum` field `status` of type `name` and `values`.
fn enum_table(model: &str, table: &str, name: &str, values: &[&str]) -> String {
    let list: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!(
        r#"
[[operations]]
type = "CreateModel"
name = "{model}"
table = "{table}"
[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
[[operations.fields]]
name = "status"
type = "Enum"
enum = "{name}"
values = [{}]
"#,
        list.join(", ")
    )
}

fn alter_status(table: &str, name: &str, values: &[&str]) -> String {
    let list: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!(
        r#"
[[operations]]
type = "AlterField"
table = "{table}"
[operations.field]
name = "status"
type = "Enum"
enum = "{name}"
values = [{}]
"#,
        list.join(", ")
    )
}

#[test]
fn fields_sharing_an_enum_name_share_its_values() {
    let both = format!(
        "{}{}",
        enum_table("Ticket", "tickets", "status", &["open", "closed"]),
        enum_table("Issue", "issues", "status", &["open", "closed"])
    );
    let types = State::replay([&mig(&both)]).unwrap().enum_types().unwrap();
    assert_eq!(types.len(), 1);
    assert_eq!(types["status"].values, ["open", "closed"]);
    assert_eq!(types["status"].declared_by, "issues.status");
}

#[test]
fn two_declarations_of_one_enum_name_that_disagree_are_a_named_error() {
    for other in [&["open", "held"][..], &["closed", "open"], &["open"]] {
        let text = format!(
            "{}{}",
            enum_table("Ticket", "tickets", "status", &["open", "closed"]),
            enum_table("Issue", "issues", "status", other)
        );
        let e = State::replay([&mig(&text)]).unwrap_err().message;
        assert!(
            e.starts_with("migration a/0001: the enum status is declared twice")
                && e.contains(&format!("issues.status has {other:?}"))
                && e.contains(r#"tickets.status has ["open", "closed"]"#),
            "{e}"
        );
    }
    // The registered models are held to the same rule.
    let model = |name: &str, table: &str, values: &[&str]| {
        let mut id = FieldMeta::new("id", FieldType::BigInteger);
        id.primary_key = true;
        let status = FieldMeta::new(
            "status",
            FieldType::Enum {
                name: "status".into(),
                values: values.iter().map(|v| v.to_string()).collect(),
            },
        );
        ModelMeta {
            name: name.into(),
            table: table.into(),
            fields: vec![id, status],
            relations: vec![],
            app: None,
            options: Default::default(),
            ordering: Vec::new(),
        }
    };
    let e = State::from_models(&[
        model("Ticket", "tickets", &["open", "closed"]),
        model("Issue", "issues", &["open"]),
    ])
    .unwrap_err()
    .message;
    assert!(e.contains("the enum status is declared twice"), "{e}");
    assert!(State::from_models(&[
        model("Ticket", "tickets", &["open", "closed"]),
        model("Issue", "issues", &["open", "closed"]),
    ])
    .is_ok());
}

#[test]
fn an_enum_shared_by_two_tables_changes_in_one_migration() {
    let create = format!(
        "{}{}",
        enum_table("Ticket", "tickets", "status", &["open", "closed"]),
        enum_table("Issue", "issues", "status", &["open", "closed"])
    );
    let first = mig(&create);
    // Both fields altered in one migration: the types disagree only between its operations.
    let both = format!(
        "{}{}",
        alter_status("tickets", "status", &["open", "held", "closed"]),
        alter_status("issues", "status", &["open", "held", "closed"])
    );
    let mut second = mig(&both);
    second.id = "0002".into();
    let s = State::replay([&first, &second]).unwrap();
    assert_eq!(
        s.enum_types().unwrap()["status"].values,
        ["open", "held", "closed"]
    );
    // One of them alone leaves the two disagreeing when the migration ends.
    let mut lone = mig(&alter_status(
        "tickets",
        "status",
        &["open", "held", "closed"],
    ));
    lone.id = "0002".into();
    let e = State::replay([&first, &lone]).unwrap_err().message;
    assert!(
        e.starts_with("migration a/0002: the enum status is declared twice"),
        "{e}"
    );
    // The DDL planner refuses it the same way.
    let mut st = State::replay([&first]).unwrap();
    let e = crate::migrate::ddl::migration_forward(&lone, &mut st, crate::sql::Dialect::Postgres)
        .unwrap_err()
        .message;
    assert!(
        e.starts_with("migration a/0002: the enum status is declared twice"),
        "{e}"
    );
}
