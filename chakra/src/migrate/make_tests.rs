//! Tests of `make` and `make --merge`.

use super::*;
use crate::migrate::format::parse_migration;
use chakra_dsl::{FieldMeta, FieldType, ModelMeta};

const SEED: &str = include_str!("../../../migrations/users/0001_initial.toml");

fn user_model(extra: Vec<FieldMeta>) -> State {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    let mut username = FieldMeta::new(
        "username",
        FieldType::String {
            max_length: Some(50),
        },
    );
    username.unique = true;
    let mut fields = vec![id, username];
    fields.extend(extra);
    State::from_models(&[ModelMeta {
        name: "User".into(),
        table: "users".into(),
        fields,
        relations: vec![],
    }])
    .unwrap()
}

fn loaded(text: &str, app: &str, id: &str) -> LoadedMigration {
    LoadedMigration::from_text(text, &Path::new("m").join(app).join(format!("{id}.toml"))).unwrap()
}

#[test]
fn the_seed_model_makes_the_seed_file() {
    let opts = MakeOptions {
        app: Some("users".into()),
        ..Default::default()
    };
    let made = make(&[], Path::new("migrations"), &user_model(vec![]), &opts).unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(
        made[0].path,
        Path::new("migrations/users/0001_initial.toml")
    );
    let seed = parse_migration(SEED, "seed").unwrap();
    assert_eq!(
        made[0].text,
        write_migration(&seed),
        "byte-identical to the seed's canonical text"
    );
}

#[test]
fn next_migration_depends_on_the_leaf_and_settles() {
    let seed = loaded(SEED, "users", "0001_initial");
    let mut email = FieldMeta::new("email", FieldType::Text);
    email.nullable = true;
    let models = user_model(vec![email]);
    let made = make(
        std::slice::from_ref(&seed),
        Path::new("m"),
        &models,
        &MakeOptions::default(),
    )
    .unwrap();
    assert_eq!(made.len(), 1);
    let m = &made[0].migration;
    assert_eq!(m.id, "0002_users_email");
    assert_eq!(
        m.dependencies,
        [Dependency {
            app: "users".into(),
            id: "0001_initial".into()
        }]
    );
    let next = loaded(&made[0].text, "users", &m.id);
    let again = make(
        &[seed, next],
        Path::new("m"),
        &models,
        &MakeOptions::default(),
    )
    .unwrap();
    assert!(again.is_empty(), "make right after make finds no changes");
}

#[test]
fn a_new_table_needs_an_app_when_there_are_several() {
    let a = loaded(
        "[migration]\nid = \"0001_initial\"\napp = \"a\"\n",
        "a",
        "0001_initial",
    );
    let b = loaded(
        "[migration]\nid = \"0001_initial\"\napp = \"b\"\n",
        "b",
        "0001_initial",
    );
    let e = make(
        &[a, b],
        Path::new("m"),
        &user_model(vec![]),
        &MakeOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.message.contains("new table \"users\": which app"),
        "{}",
        e.message
    );
}

#[test]
fn merge_depends_on_every_leaf() {
    let first = loaded(SEED, "users", "0001_initial");
    let dep = "[migration]\nid = \"ID\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n";
    let a = loaded(&dep.replace("ID", "0002_a"), "users", "0002_a");
    let b = loaded(&dep.replace("ID", "0002_b"), "users", "0002_b");
    let all = vec![first, a, b];
    assert!(make(
        &all,
        Path::new("m"),
        &user_model(vec![]),
        &MakeOptions::default()
    )
    .is_err());
    let merged = merge(&all, Path::new("m")).unwrap();
    assert_eq!(merged[0].migration.id, "0003_merge");
    assert_eq!(merged[0].migration.dependencies.len(), 2);
    let mut with_merge = all.clone();
    with_merge.push(loaded(&merged[0].text, "users", "0003_merge"));
    assert!(Graph::new(with_merge).is_ok());
}
