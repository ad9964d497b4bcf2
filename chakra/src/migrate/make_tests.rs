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
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
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

#[test]
fn a_cross_app_foreign_key_cycle_becomes_a_later_add_field() {
    use chakra_dsl::{ForeignKeyRef, OnDelete};
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
    let fk = |name: &str, table: &str| {
        let mut f = FieldMeta::new(name, FieldType::BigInteger);
        f.nullable = true;
        f.references = Some(ForeignKeyRef {
            model: String::new(),
            table: table.into(),
            column: "id".into(),
            on_delete: OnDelete::SetNull,
        });
        f
    };
    let pk = || {
        let mut f = FieldMeta::new("id", FieldType::BigInteger);
        f.primary_key = true;
        f
    };
    let model = |table: &str, other: &str| ModelMeta {
        name: table.into(),
        table: table.into(),
        fields: vec![pk(), fk("other_id", other)],
        relations: vec![],
        app: None,
        ordering: Vec::new(),
        options: Default::default(),
    };
    let models = State::from_models(&[model("ta", "tb"), model("tb", "ta")]).unwrap();
    // Both tables go to app a here; put tb in app b by creating it there first.
    let b2 = loaded(
        "[migration]\nid = \"0002_tb\"\napp = \"b\"\ndependencies = [[\"b\", \"0001_initial\"]]\n\
         [[operations]]\ntype = \"CreateModel\"\nname = \"tb\"\ntable = \"tb\"\n\
         [[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\n",
        "b",
        "0002_tb",
    );
    let opts = MakeOptions {
        app: Some("a".into()),
        ..Default::default()
    };
    let made = make(
        &[a.clone(), b.clone(), b2.clone()],
        Path::new("m"),
        &models,
        &opts,
    )
    .unwrap();
    let ids: Vec<String> = made
        .iter()
        .map(|m| format!("{}/{}", m.migration.app, m.migration.id))
        .collect();
    assert_eq!(ids, ["a/0002_create_ta", "b/0003_tb_other_id"]);
    assert!(made[1]
        .migration
        .dependencies
        .contains(&made[0].migration.key()));

    // Two new tables in two apps referencing each other: CreateModel, then a later AddField.
    let models = State::from_models(&[model("ta", "tc"), model("tc", "ta")]).unwrap();
    let c = loaded(
        "[migration]\nid = \"0001_initial\"\napp = \"c\"\n[[operations]]\ntype = \"CreateModel\"\nname = \"tc\"\ntable = \"tc\"\n\
         [[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\n",
        "c",
        "0001_initial",
    );
    let made = make(&[a, c], Path::new("m"), &models, &opts).unwrap();
    let ops: Vec<String> = made
        .iter()
        .flat_map(|m| m.migration.operations.iter().map(|o| o.describe()))
        .collect();
    assert_eq!(ops, ["CreateModel ta", "AddField tc.other_id"]);
}

#[test]
fn a_new_table_goes_to_the_app_its_model_declares() {
    let seed = loaded(SEED, "users", "0001_initial");
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    let mut models = vec![ModelMeta {
        name: "Tag".into(),
        table: "tags".into(),
        fields: vec![id],
        relations: vec![],
        ordering: Vec::new(),
        app: Some("blog".into()),
        options: Default::default(),
    }];
    models.extend(
        user_model(vec![])
            .tables
            .values()
            .map(|t| t.to_model_meta()),
    );
    let state = State::from_models(&models).unwrap();
    let opts = MakeOptions {
        app: Some("users".into()),
        declared_apps: [("tags".to_owned(), "blog".to_owned())].into(),
        ..Default::default()
    };
    let made = make(std::slice::from_ref(&seed), Path::new("m"), &state, &opts).unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].migration.app, "blog");
    assert_eq!(made[0].path, Path::new("m/blog/0001_initial.toml"));
}
