//! `chakra migrate make` from a Rust binary's own models: the seed's table comes out as the
//! seed's file, applies, the model reads and writes it, and `make --check` then agrees.

use chakra::migrate::{parse_migration, write_migration, Migrator};
use chakra::prelude::*;
use chakra::Pool;
use std::path::PathBuf;
use std::process::ExitCode;

/// The seed's `User`, as a Rust model.
#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,

    #[chakra(max_length = 50, unique)]
    pub username: String,
}

const SEED: &str = include_str!("../../migrations/users/0001_initial.toml");

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chakra_make_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cli(args: &[&str]) -> ExitCode {
    let mut all = vec!["chakra", "migrate"];
    all.extend_from_slice(args);
    chakra::cli::run_from(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn make_from_rust_models_then_apply_then_use() {
    let dir = temp_dir("rust");
    let migrations = dir.join("migrations");
    let m = migrations.display().to_string();
    let code = tokio::task::spawn_blocking({
        let m = m.clone();
        move || cli(&["make", "--app", "users", "--dir", &m, "--no-input"])
    })
    .await
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let written = std::fs::read_to_string(migrations.join("users/0001_initial.toml")).unwrap();
    let seed = parse_migration(SEED, "seed").unwrap();
    assert_eq!(
        written,
        write_migration(&seed),
        "the seed's table makes the seed's file"
    );

    let url = format!("sqlite://{}", dir.join("app.db").display());
    let pool = Pool::connect(&url).await.unwrap();
    Migrator::from_dir(pool.clone(), &migrations)
        .unwrap()
        .apply(None)
        .await
        .unwrap();
    let mut alice = User {
        id: 0,
        username: "alice".into(),
    };
    alice.save(&pool).await.unwrap();
    assert_eq!(User::get(&pool, alice.id).await.unwrap().username, "alice");

    let code = tokio::task::spawn_blocking(move || cli(&["make", "--check", "--dir", &m]))
        .await
        .unwrap();
    assert_eq!(
        code,
        ExitCode::SUCCESS,
        "make right after apply finds no changes"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_fails_and_renames_are_said_up_front() {
    let dir = temp_dir("rename");
    std::fs::create_dir_all(dir.join("users")).unwrap();
    std::fs::write(dir.join("users/0001_initial.toml"), SEED).unwrap();
    let d = dir.display().to_string();
    let mut meta = (**User::meta()).clone();
    meta.fields[1].name = "login".into();
    meta.fields[1].column = "login".into();
    let run = |args: &[&str]| {
        let mut all = vec!["chakra", "migrate"];
        all.extend_from_slice(args);
        chakra::cli::run_with_models(all, vec![meta.clone()])
    };
    assert_eq!(run(&["make", "--check", "--dir", &d]), ExitCode::from(1));
    assert_eq!(
        run(&["make", "--dir", &d, "--rename", "users.username=login"]),
        ExitCode::SUCCESS
    );
    let text = std::fs::read_to_string(dir.join("users/0002_rename_users_login.toml")).unwrap();
    assert!(text.contains("type = \"RenameField\""), "{text}");
    assert!(
        text.contains("dependencies = [[\"users\", \"0001_initial\"]]"),
        "{text}"
    );
    assert_eq!(run(&["make", "--check", "--dir", &d]), ExitCode::SUCCESS);
    let status = |args: &[&str]| {
        let mut all = vec!["chakra", "migrate"];
        all.extend_from_slice(args);
        chakra::cli::exit_status(all, vec![meta.clone()])
    };
    assert_eq!(status(&["make", "--check", "--dir", &d]), 0);
    assert_eq!(status(&["make", "--bogus"]), 2);
    let _ = std::fs::remove_dir_all(dir);
}
