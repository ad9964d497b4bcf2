//! `--dir` typos and empty folders are said out loud, and the read-only commands never create
//! a database (issue 26, problem 12).

mod common;

use common::migrations::SEED;
use common::{TestDb, BOTH};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chakra_cli_dir_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o: Output = Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn sqlite_file(url: &str) -> &Path {
    Path::new(url.strip_prefix("sqlite://").unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_dir_is_an_error_naming_it_and_creates_nothing() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let tmp = temp_dir("missing");
        let typo = tmp.join("migartions");
        let typo_s = typo.display().to_string();
        for cmd in [
            "apply", "rollback", "status", "check", "sql", "lint", "schema",
        ] {
            let mut args = vec!["migrate", cmd, "--dir", &typo_s];
            if !matches!(cmd, "lint" | "schema") {
                args.extend(["--database-url", &db.url]);
            }
            if cmd == "schema" {
                args.extend(["--out", "-"]);
            }
            let (code, out, err) = run(&args);
            assert_eq!(code, Some(2), "{d:?} {cmd}: {out}\n{err}");
            assert!(
                err.contains(&typo_s) && err.contains("does not exist"),
                "{d:?} {cmd}: {err}"
            );
            if d == chakra::Dialect::Sqlite {
                assert!(
                    !sqlite_file(&db.url).exists(),
                    "{cmd} created the database file"
                );
            }
        }
        assert!(!typo.exists());
        let _ = std::fs::remove_dir_all(tmp);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_folder_says_there_are_no_migrations() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let tmp = temp_dir("empty");
        let tmp_s = tmp.display().to_string();
        for cmd in ["apply", "status", "sql"] {
            let (code, out, err) =
                run(&["migrate", cmd, "--dir", &tmp_s, "--database-url", &db.url]);
            assert_eq!(code, Some(0), "{d:?} {cmd}: {err}");
            assert!(
                out.contains(&format!("no migrations in {tmp_s}")),
                "{d:?} {cmd}: {out}"
            );
            if d == chakra::Dialect::Sqlite {
                assert!(!sqlite_file(&db.url).exists(), "{cmd} created the file");
            }
        }
        let _ = std::fs::remove_dir_all(tmp);
    }
}

#[test]
fn status_check_and_sql_never_create_a_sqlite_file() {
    let tmp = temp_dir("nofile");
    std::fs::create_dir_all(tmp.join("users")).unwrap();
    std::fs::write(tmp.join("users/0001_initial.toml"), SEED).unwrap();
    let tmp_s = tmp.display().to_string();
    let file = tmp.join("not_yet.db");
    let url = format!("sqlite://{}", file.display());
    let (code, out, err) = run(&["migrate", "status", "--dir", &tmp_s, "--database-url", &url]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("[ ] 0001_initial"), "{out}");
    assert!(err.contains("does not exist yet"), "{err}");
    let (code, out, err) = run(&["migrate", "sql", "--dir", &tmp_s, "--database-url", &url]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("CREATE TABLE \"users\""), "{out}");
    let (code, _, err) = run(&["migrate", "check", "--dir", &tmp_s, "--database-url", &url]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&file.display().to_string()) && err.contains("does not exist"),
        "{err}"
    );
    assert!(
        !file.exists(),
        "a read-only command created {}",
        file.display()
    );
    // apply does create it.
    let (code, _, err) = run(&["migrate", "apply", "--dir", &tmp_s, "--database-url", &url]);
    assert_eq!(code, Some(0), "{err}");
    assert!(file.exists());
    let _ = std::fs::remove_dir_all(tmp);
}
