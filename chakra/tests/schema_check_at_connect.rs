//! The schema fingerprint at connect: a generated model layer linked into the program (here
//! registered as `chakra generate models --lang rust` registers it, from
//! `tests/fixtures/schema_check/v1`) is compared with the database's applied migrations when
//! a pool connects. Nothing applied, or a migration applied that the layer was not generated
//! from, fails the connect with `StaleModels` naming the module, its models and what
//! differs; a database at the layer's migrations connects; `schema_check=warn` and
//! `schema_check=off` (URL, `PoolOptions`, `chakra.toml`'s `[database]`) let it connect. On
//! SQLite, PostgreSQL, MariaDB, and PostgreSQL through PgBouncer in transaction mode. In a
//! test binary of its own: the registered layer is process-wide.

mod common;

use chakra::generate::check::ModelLayer;
use chakra::migrate::Migrator;
use chakra::{Error, Pool, PoolOptions, SchemaCheck};
use common::ALL3;
use std::path::PathBuf;

/// `SCHEMA_MIGRATIONS` of the models generated from `fixtures/schema_check/v1` (checked
/// against the files by `the_registered_layer_is_the_fixtures`).
const V1: &[(&str, &str, &str)] = &[(
    "notes",
    "0001_initial",
    "3e9ed832673e54c55a24199a7b016c9848a297db4093005380f5e013418c807f",
)];

chakra::inventory::submit! {
    ModelLayer {
        module: module_path!(),
        fingerprint: "test",
        migrations: V1,
        models: &["Note"],
    }
}

fn fixture(v: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/schema_check/{v}"))
}

fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

async fn apply(url: &str, v: &str) {
    let pool = Pool::connect(&with_param(url, "schema_check=off"))
        .await
        .unwrap();
    Migrator::from_dir(pool, fixture(v))
        .unwrap()
        .apply(None)
        .await
        .unwrap();
}

fn stale(r: chakra::Result<Pool>, what: &str) -> String {
    match r {
        Err(e @ Error::StaleModels { .. }) => {
            let text = e.to_string();
            let Error::StaleModels {
                module,
                models,
                differences,
                ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(module, "schema_check_at_connect", "{text}");
            assert_eq!(models, "Note", "{text}");
            assert!(
                differences.iter().any(|d| d.contains(what)),
                "{what}: {text}"
            );
            text
        }
        Err(other) => panic!("expected StaleModels, got {other}"),
        Ok(_) => panic!("expected StaleModels, the pool connected"),
    }
}

#[test]
fn the_registered_layer_is_the_fixtures() {
    let source = chakra::generate::Source::from_dir(&fixture("v1")).unwrap();
    let rust = chakra::generate::generate(
        &source,
        chakra::generate::Lang::Rust,
        &chakra::generate::Options::default(),
        None,
    )
    .unwrap()
    .text;
    for (app, id, sum) in V1 {
        assert!(
            rust.contains(&format!("({app:?}, {id:?}, {sum:?})")),
            "{rust}"
        );
    }
    assert!(rust.contains("::chakra::inventory::submit!"), "{rust}");
    let layers = chakra::generate::check::layers();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].models, ["Note"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_layer_fails_the_connect_by_name() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let url = db.url.clone();
        // Nothing applied yet: the layer is ahead of the database.
        let text = stale(
            Pool::connect(&url).await,
            "notes/0001_initial, which the database has not applied",
        );
        assert!(text.contains("schema_check=off"), "{text}");
        // The migration step connects with the check off; then the layer agrees.
        apply(&url, "v1").await;
        let pool = Pool::connect(&url).await.unwrap();
        assert_eq!(
            chakra::generate::check::check_schema(&pool, V1)
                .await
                .unwrap(),
            Vec::<String>::new()
        );
        drop(pool);
        // A later migration applied: the layer is behind.
        apply(&url, "v2").await;
        stale(
            Pool::connect(&url).await,
            "notes/0002_pinned applied, which the models were not generated from",
        );
        // Warn and off connect; so do options given in code.
        Pool::connect(&with_param(&url, "schema_check=warn"))
            .await
            .unwrap();
        Pool::connect(&with_param(&url, "schema_check=off"))
            .await
            .unwrap();
        let opts = PoolOptions {
            schema_check: SchemaCheck::Warn,
            ..PoolOptions::default()
        };
        Pool::connect_with(&url, opts).await.unwrap();
        let err = Pool::connect(&with_param(&url, "schema_check=maybe"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Config(_)) && err.to_string().contains("schema_check"),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_reads_through_pgbouncer_in_transaction_mode() {
    let db = common::TestDb::pgbouncer().await;
    stale(
        Pool::connect(&db.url).await,
        "notes/0001_initial, which the database has not applied",
    );
    // Migrations take a session lock: applied on the server directly.
    let mut direct = url::Url::parse(&common::pg_admin_url()).unwrap();
    direct.set_path(url::Url::parse(&db.url).unwrap().path());
    apply(direct.as_str(), "v1").await;
    Pool::connect(&db.url).await.unwrap();
}

#[test]
fn chakra_toml_sets_the_mode() {
    for (text, want) in [
        ("warn", SchemaCheck::Warn),
        ("off", SchemaCheck::Off),
        ("error", SchemaCheck::Error),
    ] {
        let s = chakra::config::PoolSettings::from_toml(&format!(
            "[database]\nurl = \"sqlite::memory:\"\nschema_check = \"{text}\"\n"
        ))
        .unwrap();
        assert_eq!(s.schema_check, Some(want));
        assert_eq!(PoolOptions::default().with_settings(&s).schema_check, want);
    }
    assert_eq!(PoolOptions::default().schema_check, SchemaCheck::Error);
    let err = chakra::config::PoolSettings::from_toml("[database]\nschema_check = \"sometimes\"\n")
        .unwrap_err();
    assert!(err.to_string().contains("schema_check"), "{err}");
}

/// The migration paths are never stopped by the check, with no opt-out, even when the URL
/// asks for it explicitly: a program whose generated layer is ahead of the database (its
/// new migration not applied yet) applies it through `Migrator::connect` or
/// `chakra::cli` with the same URL its models use, then connects normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_is_never_stopped_by_the_check() {
    for d in ALL3 {
        // In code: Migrator::connect with the program's own URL.
        let db = common::TestDb::new(d).await;
        let url = with_param(&db.url, "schema_check=error");
        stale(
            Pool::connect(&url).await,
            "notes/0001_initial, which the database has not applied",
        );
        let steps = Migrator::connect(&url, fixture("v1"))
            .await
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        assert_eq!(steps.len(), 1, "{d:?}");
        let pool = Pool::connect(&url).await.unwrap();
        // Hand-written SQL: the migration's table exists.
        let n = chakra::raw_execute("INSERT INTO sc_notes (body) VALUES ('x')")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{d:?}");
        drop(pool);

        // The command line, run from the program (`chakra::cli`), same URL.
        let db = common::TestDb::new(d).await;
        let url = with_param(&db.url, "schema_check=error");
        stale(
            Pool::connect(&url).await,
            "notes/0001_initial, which the database has not applied",
        );
        let dir = fixture("v1");
        let code = chakra::cli::run_async_from([
            "chakra",
            "migrate",
            "apply",
            "--database-url",
            url.as_str(),
            "--dir",
            dir.to_str().unwrap(),
        ])
        .await;
        assert_eq!(code, std::process::ExitCode::SUCCESS, "{d:?}");
        Pool::connect(&url).await.unwrap();
    }
}

#[test]
fn the_message_names_each_remedy_once() {
    let e = Error::StaleModels {
        module: "app::models".into(),
        models: "Note".into(),
        database: "sqlite://app.db".into(),
        differences: chakra::generate::check::differences(
            &[],
            &[("notes".into(), "0002_pinned".into(), "x".into())],
        ),
    };
    let text = e.to_string();
    assert_eq!(text.matches("chakra generate models").count(), 1, "{text}");
    assert_eq!(text.matches("chakra migrate apply").count(), 1, "{text}");
}
