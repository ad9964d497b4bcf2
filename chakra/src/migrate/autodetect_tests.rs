//! Tests of the autodetector.

use super::*;
use chakra_dsl::{FieldType, ForeignKeyRef, ModelMeta, OnDelete};

fn pk() -> FieldMeta {
    let mut f = FieldMeta::new("id", FieldType::BigInteger);
    f.primary_key = true;
    f.auto_increment = true;
    f
}

fn fk(name: &str, table: &str) -> FieldMeta {
    let mut f = FieldMeta::new(name, FieldType::BigInteger);
    f.nullable = true;
    f.references = Some(ForeignKeyRef {
        model: String::new(),
        table: table.into(),
        column: String::new(),
        on_delete: OnDelete::SetNull,
    });
    f
}

fn model(table: &str, fields: Vec<FieldMeta>) -> ModelMeta {
    ModelMeta {
        name: table.to_uppercase(),
        table: table.into(),
        fields,
        relations: vec![],
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
    }
}

fn text(name: &str) -> FieldMeta {
    FieldMeta::new(name, FieldType::Text)
}

fn state(models: Vec<ModelMeta>) -> State {
    State::from_models(&models).unwrap()
}

fn kinds(ops: &[Operation]) -> Vec<String> {
    ops.iter().map(Operation::describe).collect()
}

/// Applies the diff and checks that diffing again finds nothing.
fn settle(from: &State, to: &State, renames: &Renames) -> Vec<Operation> {
    let ops = diff(from, to, renames, DiffOptions::default()).unwrap();
    let mut s = from.clone();
    for op in &ops {
        s.apply(op).unwrap();
    }
    let again = diff(&s, to, &Renames::default(), DiffOptions::default()).unwrap();
    assert!(again.is_empty(), "not settled: {:?}", kinds(&again));
    ops
}

#[test]
fn creates_referenced_tables_first() {
    let to = state(vec![
        model("posts", vec![pk(), fk("author_id", "users")]),
        model("users", vec![pk(), text("name")]),
    ]);
    let ops = settle(&State::new(), &to, &Renames::default());
    assert_eq!(kinds(&ops), ["CreateModel users", "CreateModel posts"]);
}

#[test]
fn a_foreign_key_cycle_is_split() {
    let to = state(vec![
        model("a", vec![pk(), fk("b_id", "b")]),
        model("b", vec![pk(), fk("a_id", "a")]),
    ]);
    let ops = settle(&State::new(), &to, &Renames::default());
    assert_eq!(
        kinds(&ops),
        ["CreateModel a", "CreateModel b", "AddField a.b_id"]
    );
}

#[test]
fn fields_added_altered_removed() {
    let from = state(vec![model("users", vec![pk(), text("name"), text("old")])]);
    let mut name = text("name");
    name.nullable = true;
    let mut age = FieldMeta::new("age", FieldType::Integer);
    age.default = Some(chakra_dsl::DefaultValue::Value(chakra_dsl::Value::I32(0)));
    let to = state(vec![model("users", vec![pk(), name, age])]);
    let ops = settle(&from, &to, &Renames::default());
    assert_eq!(
        kinds(&ops),
        [
            "AddField users.age",
            "AlterField users.name",
            "RemoveField users.old"
        ]
    );
    assert!(diff(&to, &to, &Renames::default(), DiffOptions::default())
        .unwrap()
        .is_empty());
}

#[test]
fn renames_are_never_guessed() {
    let from = state(vec![model("users", vec![pk(), text("name")])]);
    let to = state(vec![model("users", vec![pk(), text("full_name")])]);
    let candidates = rename_candidates(&from, &to, &Renames::default());
    assert_eq!(
        candidates,
        [RenameCandidate::Field {
            table: "users".into(),
            old: "name".into(),
            new: "full_name".into()
        }]
    );
    assert_eq!(
        candidates[0].question(),
        "Was users.name renamed to users.full_name? [y/N]"
    );
    let ops = settle(&from, &to, &Renames::default());
    assert_eq!(
        kinds(&ops),
        ["AddField users.full_name", "RemoveField users.name"]
    );
    let mut renames = Renames::default();
    renames
        .fields
        .insert(("users".into(), "name".into()), "full_name".into());
    let ops = settle(&from, &to, &renames);
    assert_eq!(kinds(&ops), ["RenameField users.name -> full_name"]);
    assert!(rename_candidates(&from, &to, &renames).is_empty());
}

#[test]
fn table_renames_when_confirmed() {
    let from = state(vec![model("users", vec![pk(), text("name")])]);
    let to = state(vec![model("accounts", vec![pk(), text("name")])]);
    assert_eq!(
        rename_candidates(&from, &to, &Renames::default()),
        [RenameCandidate::Table {
            old: "users".into(),
            new: "accounts".into()
        }]
    );
    let mut renames = Renames::default();
    renames.tables.insert("users".into(), "accounts".into());
    let ops = settle(&from, &to, &renames);
    assert_eq!(kinds(&ops), ["RenameModel users -> accounts"]);
}

#[test]
fn deletes_referencing_tables_first() {
    let from = state(vec![
        model("users", vec![pk()]),
        model("posts", vec![pk(), fk("author_id", "users")]),
        model("keep", vec![pk()]),
    ]);
    let to = state(vec![model("keep", vec![pk()])]);
    let ops = settle(&from, &to, &Renames::default());
    assert_eq!(kinds(&ops), ["DeleteModel posts", "DeleteModel users"]);
}

#[test]
fn hand_written_indexes_stay_unless_compared() {
    let mut from = state(vec![model("users", vec![pk(), text("name")])]);
    from.apply(&Operation::AddIndex {
        table: "users".into(),
        index: crate::migrate::IndexDef {
            name: "users_name_i".into(),
            columns: vec!["name".into()],
            expressions: vec![],
            unique: false,
            condition: None,
        },
    })
    .unwrap();
    let to = state(vec![model("users", vec![pk(), text("name")])]);
    assert!(
        diff(&from, &to, &Renames::default(), DiffOptions::default())
            .unwrap()
            .is_empty()
    );
    let all = DiffOptions {
        named_indexes_and_constraints: true,
        ..DiffOptions::default()
    };
    assert_eq!(
        kinds(&diff(&from, &to, &Renames::default(), all).unwrap()),
        ["RemoveIndex users.users_name_i"]
    );
}

#[test]
fn flags_that_build_the_same_index_are_no_change() {
    // A foreign key is indexed whether or not `index` is said; a unique field needs no index.
    let mut fk_said = fk("author_id", "users");
    fk_said.index = true;
    let mut unique = text("name");
    unique.unique = true;
    let mut unique_indexed = unique.clone();
    unique_indexed.index = true;
    let from = state(vec![
        model("users", vec![pk(), unique]),
        model("posts", vec![pk(), fk("author_id", "users")]),
    ]);
    let to = state(vec![
        model("users", vec![pk(), unique_indexed]),
        model("posts", vec![pk(), fk_said]),
    ]);
    assert!(
        diff(&from, &to, &Renames::default(), DiffOptions::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_added_enum_value_is_an_alter_field_written_and_read_back() {
    let status = |values: &[&str]| {
        FieldMeta::new(
            "status",
            FieldType::Enum {
                name: "ticket_status".into(),
                values: values.iter().map(|v| v.to_string()).collect(),
            },
        )
    };
    let before = state(vec![model(
        "tickets",
        vec![pk(), status(&["open", "closed"])],
    )]);
    let after = state(vec![model(
        "tickets",
        vec![pk(), status(&["open", "closed", "on hold"])],
    )]);
    let ops = settle(&before, &after, &Renames::default());
    assert_eq!(kinds(&ops), ["AlterField tickets.status"]);
    let m = crate::migrate::operations::Migration {
        id: "0002_x".into(),
        app: "tickets".into(),
        dependencies: vec![],
        atomic: true,
        lock_timeout: None,
        operations: ops,
    };
    let text = crate::migrate::writer::write_migration(&m);
    assert!(
        text.contains("type = \"Enum\"")
            && text.contains("enum = \"ticket_status\"")
            && text.contains("values = [\"open\", \"closed\", \"on hold\"]"),
        "{text}"
    );
    let again = crate::migrate::format::parse_migration(&text, "0002_x.toml").unwrap();
    assert_eq!(again.operations, m.operations);
}
