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

/// Issue 26, problem 11: columns whose names read the same once made identifiers (`a-b c`,
/// `a_b_c`) get distinct Rust names, `schema` says so, and the file compiles (checked with
/// rustc, not with the generator's own idea of an identifier).
#[test]
fn colliding_column_names_get_unique_rust_names_and_compile() {
    let dir = std::env::temp_dir().join(format!(
        "chakra_schema_collide_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(dir.join("things")).unwrap();
    std::fs::write(
        dir.join("things/0001_initial.toml"),
        "[migration]\nid = \"0001_initial\"\napp = \"things\"\n\n\
         [[operations]]\ntype = \"CreateModel\"\nname = \"Thing\"\ntable = \"things\"\n\
         [[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\n\
         [[operations.fields]]\nname = \"a-b c\"\ntype = \"Text\"\nnullable = true\n\
         [[operations.fields]]\nname = \"a_b_c\"\ntype = \"Integer\"\nnullable = true\n\
         [[operations.fields]]\nname = \"a b-c\"\ntype = \"Boolean\"\nnullable = true\n\n\
         [[operations]]\ntype = \"CreateModel\"\nname = \"Other\"\ntable = \"th-ings\"\n\
         [[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\n",
    )
    .unwrap();
    let out = dir.join("schema.rs");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args(["migrate", "schema", "--dir"])
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("things: column `a-b c` is `a_b_c_2` in schema.rs: `a_b_c` is also the name of `a_b_c`, `a b-c`"),
        "{err}"
    );
    assert!(err.contains("things: column `a b-c` is `a_b_c_3`"), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    for line in [
        "pub type a_b_c = ::std::option::Option<i32>;",
        "pub type a_b_c_2 = ::std::option::Option<::std::string::String>;",
        "pub type a_b_c_3 = ::std::option::Option<bool>;",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    // The file compiles on its own (it only names std types here).
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let c = std::process::Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--emit",
            "metadata",
            "-o",
        ])
        .arg(dir.join("schema.rmeta"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        c.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&c.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}
