//! `chakra generate models --lang rust`: the models generated from the repository's shared
//! migrations and from the hard-case fixture (`tests/fixtures/generate_hard`) compile, with
//! the `schema = crate::schema::…` check against the `schema.rs` of the same migrations, and
//! `migrate make --check` run with them as the models finds nothing to make (a trybuild pass
//! case: built and run); the hard cases' models then read, change and save a row on SQLite,
//! checked with hand-written SQL. The binary writes a file only when its bytes change and `--check`
//! names a stale file. The models of an inspected database (`tests/fixtures/inspected_shop`,
//! kept equal to what `migrate inspect` writes by `migrate_inspect.rs`) compile and round-trip
//! a row the same way, and `make --check` over them agrees too; its composite-key table is a
//! Rust model with two `primary_key` fields, the first also the key of a `ForeignKey`
//! relation, which is read both ways (`select_related`, `prefetch_related`). `check_schema` names what differs between the migrations a model
//! layer was generated from and a database's applied history (SQLite and PostgreSQL); the
//! generated Rust modules register themselves, so connecting before the migrations are
//! applied fails with `StaleModels` and after succeeds (the round trips).

mod common;

use chakra::generate::check::check_schema;
use chakra::generate::{generate, Lang, Options, Source};
use chakra::migrate::schema_rs::schema_rs;
use chakra::migrate::Migrator;
use common::{TestDb, BOTH};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The hard cases' round trip on SQLite: a row written by hand-written SQL read through the
/// generated models (enum, decimal, JSON, date, nullable key), changed and saved through
/// them, read back by hand-written SQL.
const HARD_ROUND_TRIP: &str = r#"
    use ::chakra::Model as _;
    #[derive(Debug, PartialEq, ::chakra::FromRow)]
    struct Back {
        name: String,
        status: String,
    }
    let rt = ::tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let file = ::std::env::temp_dir().join(format!("chakra_generate_{}.db", ::std::process::id()));
        let _ = ::std::fs::remove_file(&file);
        let url = format!("sqlite://{}", file.display());
        // Before the migrations, the generated layer is ahead of the database: connecting
        // fails by name; the migration step connects with the check off.
        let stale = ::chakra::Pool::connect(&url).await.unwrap_err();
        assert!(matches!(stale, ::chakra::Error::StaleModels { .. }), "{stale}");
        let migrating = ::chakra::Pool::connect(&format!("{url}?schema_check=off")).await.unwrap();
        ::chakra::migrate::Migrator::from_dir(migrating, DIR).unwrap().apply(None).await.unwrap();
        let pool = ::chakra::Pool::connect(&url).await.unwrap();
        pool.batch_execute(
            "INSERT INTO people (name, type, nickname, balance, status) VALUES ('Ann', 'member', NULL, '0', 'active');              INSERT INTO people (name, type, nickname, parent_id, balance, status, settings, joined)              VALUES ('Bob', 'guest', 'b', 1, '12.50', 'on hold', '[1, 2]', '2021-02-03')",
        )
        .await
        .unwrap();
        let mut bob = models::Person::get(&pool, 2i64).await.unwrap();
        assert_eq!((bob.name.as_str(), bob.type_.as_str(), bob.nickname.as_deref()), ("Bob", "guest", Some("b")));
        assert_eq!(bob.parent_id, Some(1));
        assert_eq!(bob.balance.to_string(), "12.50");
        assert_eq!(bob.status, models::PersonStatus::OnHold);
        assert_eq!(bob.settings, ::serde_json::json!([1, 2]));
        assert_eq!(bob.joined.to_string(), "2021-02-03");
        let ann = models::Person::get(&pool, 1i64).await.unwrap();
        assert_eq!((ann.status, ann.joined.to_string()), (models::PersonStatus::Active, "2020-01-31".to_owned()));
        bob.name = "Robert".into();
        bob.status = models::PersonStatus::Active;
        bob.save(&pool).await.unwrap();
        let back = ::chakra::raw_as::<Back>("SELECT name, status FROM people ORDER BY id").all(&pool).await.unwrap();
        assert_eq!(back, [Back { name: "Ann".into(), status: "active".into() }, Back { name: "Robert".into(), status: "active".into() }]);
        drop(pool);
        let _ = ::std::fs::remove_file(&file);
    });
"#;

/// The inspected shop's round trip on SQLite (`tests/fixtures/inspected_shop`, the files
/// `migrate inspect` wrote for the hand-written PostgreSQL schema of `migrate_inspect.rs`):
/// rows written by hand-written SQL read through the generated models, changed and saved
/// through them (a reserved-word table and column, an enum, an array, a decimal), read back
/// by hand-written SQL.
const INSPECTED_ROUND_TRIP: &str = r#"
    use ::chakra::Model as _;
    #[derive(Debug, PartialEq, ::chakra::FromRow)]
    struct Back {
        email: String,
        feeling: Option<String>,
    }
    let rt = ::tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let file = ::std::env::temp_dir().join(format!("chakra_inspected_{}.db", ::std::process::id()));
        let _ = ::std::fs::remove_file(&file);
        let url = format!("sqlite://{}", file.display());
        // Before the migrations, the generated layer is ahead of the database: connecting
        // fails by name; the migration step connects with the check off.
        let stale = ::chakra::Pool::connect(&url).await.unwrap_err();
        assert!(matches!(stale, ::chakra::Error::StaleModels { .. }), "{stale}");
        let migrating = ::chakra::Pool::connect(&format!("{url}?schema_check=off")).await.unwrap();
        ::chakra::migrate::Migrator::from_dir(migrating, DIR).unwrap().apply(None).await.unwrap();
        let pool = ::chakra::Pool::connect(&url).await.unwrap();
        pool.batch_execute(
            "INSERT INTO customers (email, balance, tags, feeling) VALUES ('ann@example.com', '7.25', '[\"a\", \"b\"]', 'sad');              INSERT INTO \"order\" (\"select\", buyer_id, placed) VALUES ('first', 1, '2024-05-06')",
        )
        .await
        .unwrap();
        let mut ann = models::Customers::get(&pool, 1i64).await.unwrap();
        assert_eq!((ann.email.as_str(), ann.name.as_str(), ann.status.as_str()), ("ann@example.com", "anon", "new"));
        assert_eq!(ann.balance.to_string(), "7.25");
        assert_eq!(ann.tags, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(ann.feeling, Some(models::Mood::Sad));
        let order = models::Order::get(&pool, 1i32).await.unwrap();
        assert_eq!((order.select.as_str(), order.buyer_id, order.placed.to_string()), ("first", 1, "2024-05-06".to_owned()));
        // The composite key's first column is a foreign key: the relation works both ways.
        pool.batch_execute("INSERT INTO order_lines (order_id, line, qty) VALUES (1, 1, 3), (1, 2, 4)")
            .await
            .unwrap();
        let lines = models::OrderLines::query()
            .select_related(models::OrderLines::order())
            .order_by(models::OrderLines::line().asc())
            .all(&pool)
            .await
            .unwrap();
        let got: Vec<(i32, i32, String)> = lines.iter().map(|l| (l.line, l.qty, l.order.get().unwrap().select.clone())).collect();
        assert_eq!(got, [(1, 3, "first".to_owned()), (2, 4, "first".to_owned())]);
        let orders = models::Order::query().prefetch_related(models::Order::order_lines()).all(&pool).await.unwrap();
        assert_eq!(orders[0].order_lines.get().unwrap().len(), 2);
        let line = models::OrderLines::get(&pool, (1i32, 2i32)).await.unwrap();
        assert_eq!(line.qty, 4);
        ann.email = "ann@example.org".into();
        ann.feeling = Some(models::Mood::Happy);
        ann.save(&pool).await.unwrap();
        let back = ::chakra::raw_as::<Back>("SELECT email, feeling FROM customers").all(&pool).await.unwrap();
        assert_eq!(back, [Back { email: "ann@example.org".into(), feeling: Some("happy".into()) }]);
        drop(pool);
        let _ = ::std::fs::remove_file(&file);
    });
"#;

/// A program holding `schema.rs` and the generated models, whose `main` runs `make --check`
/// over `dir` with those models (when `make_check`: a table Rust models cannot declare yet,
/// such as one with a composite primary key, would read as one to drop), then `extra`.
fn program_checked(dir: &Path, extra: &str, make_check: bool) -> String {
    let source = Source::from_dir(dir).unwrap();
    let opts = Options {
        schema_path: Some("crate::schema".into()),
        ..Options::default()
    };
    let models = generate(&source, Lang::Rust, &opts, None).unwrap().text;
    let structs: Vec<String> = models
        .lines()
        .filter_map(|l| l.strip_prefix("pub struct "))
        .map(|l| l.trim_end_matches(" {").to_owned())
        .collect();
    assert!(!structs.is_empty(), "{models}");
    let metas: Vec<String> = structs
        .iter()
        .map(|s| format!("(**<models::{s} as ::chakra::Model>::meta()).clone()"))
        .collect();
    let check = if make_check {
        "    let code = ::chakra::cli::exit_status([\"chakra\", \"migrate\", \"make\", \"--check\", \"--dir\", DIR], metas);\n    assert_eq!(code, 0, \"make --check found a difference\");\n"
    } else {
        "    assert!(!metas.is_empty());\n"
    };
    format!(
        "const DIR: &str = {:?};\n\nmod schema {{\n{}\n}}\n\nmod models {{\n{}\n}}\n\nfn main() {{\n    assert_eq!(models::SCHEMA_FINGERPRINT.len(), 64);\n    let metas = vec![{}];\n{check}{extra}}}\n",
        dir.to_str().unwrap(),
        schema_rs(&source.state),
        models,
        metas.join(", "),
    )
}

#[test]
fn generated_rust_compiles_and_agrees_with_the_migrations() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("generate_models");
    std::fs::create_dir_all(&out).unwrap();
    let t = trybuild::TestCases::new();
    for (name, dir, extra, make_check) in [
        ("shared_migrations", root().join("migrations"), "", true),
        (
            "hard_cases",
            root().join("chakra/tests/fixtures/generate_hard"),
            HARD_ROUND_TRIP,
            true,
        ),
        (
            "inspected_shop",
            root().join("chakra/tests/fixtures/inspected_shop"),
            INSPECTED_ROUND_TRIP,
            true,
        ),
    ] {
        let file = out.join(format!("{name}.rs"));
        std::fs::write(&file, program_checked(&dir, extra, make_check)).unwrap();
        t.pass(file);
    }
}

fn chakra(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn the_file_is_written_only_when_it_changes_and_check_names_a_stale_one() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("generate_cli_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let migrations = root().join("migrations");
    let m = migrations.to_str().unwrap();
    let args = [
        "generate",
        "models",
        "--lang",
        "rust",
        "--out",
        "models.rs",
        "--migrations",
        m,
    ];
    let first = chakra(&args, &tmp);
    assert!(first.status.success(), "{first:?}");
    let path = &tmp.join("models.rs");
    let text = std::fs::read_to_string(path.as_path()).unwrap();
    let modified = std::fs::metadata(path.as_path())
        .unwrap()
        .modified()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = chakra(&args, &tmp);
    assert!(String::from_utf8_lossy(&again.stdout).contains("unchanged"));
    assert_eq!(
        std::fs::metadata(path.as_path())
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    assert_eq!(std::fs::read_to_string(path.as_path()).unwrap(), text);

    let mut check: Vec<&str> = args.to_vec();
    check.push("--check");
    assert!(chakra(&check, &tmp).status.success());
    std::fs::write(
        path.as_path(),
        text.replace("pub struct User", "pub struct Member"),
    )
    .unwrap();
    let stale = chakra(&check, &tmp);
    assert_eq!(stale.status.code(), Some(1));
    let said = String::from_utf8_lossy(&stale.stdout);
    assert!(
        said.contains("models.rs") && said.contains("stale"),
        "{said}"
    );
    // --check wrote nothing.
    assert!(std::fs::read_to_string(path.as_path())
        .unwrap()
        .contains("pub struct Member"));

    let bad = chakra(
        &[
            "generate",
            "models",
            "--lang",
            "rust",
            "--out",
            "-",
            "--migrations",
            "nowhere",
        ],
        &tmp,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nowhere"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_schema_names_the_migrations_a_stale_layer_lacks() {
    let dir = root().join("chakra/tests/fixtures/generate_hard");
    let source = Source::from_dir(&dir).unwrap();
    let listed: Vec<(&str, &str, &str)> = source
        .migrations
        .iter()
        .map(|(a, i, c)| (a.as_str(), i.as_str(), c.as_str()))
        .collect();
    assert_eq!(listed.len(), 1);
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let missing = check_schema(&pool, &listed).await.unwrap();
        assert_eq!(
            missing,
            ["the models were generated from net/0001_initial, which the database has not applied"],
            "{d:?}"
        );
        Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        assert!(
            check_schema(&pool, &listed).await.unwrap().is_empty(),
            "{d:?}"
        );
        let stale = check_schema(&pool, &[]).await.unwrap();
        assert_eq!(stale.len(), 1, "{d:?}");
        assert!(stale[0].contains("net/0001_initial") && stale[0].contains("not generated from"));
    }
}
