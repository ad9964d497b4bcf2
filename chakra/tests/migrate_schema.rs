//! `chakra migrate schema`: the committed `migrate_schema_seed.rs` is what the generator writes
//! for the seed migration, and it compiles; a model's field types unify with its column types
//! (the compile-time check a derive can emit per field).

#[path = "migrate_schema_seed.rs"]
mod schema;

use chakra::migrate::schema_rs::schema_rs;
use chakra::migrate::{parse_migration, State};

/// `users.username` holds a `String`, `users.id` an `i64`: these only compile if so.
const _: fn(schema::users::id) -> i64 = |x| x;
const _: fn(schema::users::username) -> String = |x| x;

#[test]
fn the_committed_schema_is_what_the_generator_writes() {
    let seed = include_str!("../../migrations/users/0001_initial.toml");
    let state = State::replay([&parse_migration(seed, "seed").unwrap()]).unwrap();
    assert_eq!(schema_rs(&state), include_str!("migrate_schema_seed.rs"));
    assert_eq!(schema::users::TABLE, "users");
}

/// The top-level `schema.rs` (the example app's, which `chakra/examples/blog_app.rs` checks
/// its models against) is what the generator writes for `migrations/`.
#[test]
fn the_example_apps_schema_rs_is_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let loaded = chakra::migrate::load_dir(&root.join("migrations")).unwrap();
    let graph = chakra::migrate::Graph::new(loaded).unwrap();
    let state = State::replay(graph.ordered.iter().map(|m| &m.migration)).unwrap();
    let committed = std::fs::read_to_string(root.join("schema.rs")).unwrap();
    assert!(
        schema_rs(&state) == committed,
        "schema.rs is out of date: run `cargo run -p chakra --bin chakra -- migrate schema --out schema.rs`"
    );
}

/// The example app's Rust models agree with `migrations/` (`migrate make --check` finds
/// nothing to write). The example is built by `cargo test`.
#[test]
fn the_example_apps_models_agree_with_its_migrations() {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let app = dir.join(format!("blog_app{}", std::env::consts::EXE_SUFFIX));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(&app)
        .args(["migrate", "make", "--check", "--no-input", "--dir"])
        .arg(root.join("migrations"))
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", app.display()));
    assert!(
        out.status.success(),
        "blog_app migrate make --check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
