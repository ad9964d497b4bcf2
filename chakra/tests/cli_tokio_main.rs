//! A `#[tokio::main]` application binary with a `migrate` subcommand (issue 23): this test is
//! that binary (`harness = false`). Run with `migrate …` it hands the arguments to
//! `chakra::cli::run_async_from` (or, with `CHAKRA_CLI_BLOCKING=1`, to the blocking
//! `chakra::cli::run_from`, which must work inside the running runtime too). Run without
//! them (as `cargo test` does) it starts itself as a child process with `migrate apply` on a
//! fresh SQLite file and PostgreSQL database, and checks what the child applied with
//! hand-written SQL. It answers libtest's `--list` so cargo-nextest runs it too.

mod common;

use common::{TestDb, BOTH};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};

const SEED: &str = include_str!("../../migrations/users/0001_initial.toml");

const SECOND: &str = "[migration]\nid = \"0002_nickname\"\napp = \"users\"\n\
    dependencies = [[\"users\", \"0001_initial\"]]\n\n[[operations]]\ntype = \"AddField\"\n\
    table = \"users\"\n[operations.field]\nname = \"nickname\"\ntype = \"Text\"\nnullable = true\n";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        // The application's own subcommand, as the docs show it: everything after the
        // program name is `migrate …`.
        Some("migrate") if std::env::var_os("CHAKRA_CLI_BLOCKING").is_some() => {
            chakra::cli::run_from(args)
        }
        Some("migrate") => chakra::cli::run_async_from(args).await,
        // Enough of libtest's command line for test runners: `--list` (cargo-nextest lists
        // tests first; `--ignored` lists none here) and a name filter.
        _ if args.iter().any(|a| a == "--list") => {
            if !args.iter().any(|a| a == "--ignored") {
                println!("cli_tokio_main: test");
            }
            ExitCode::SUCCESS
        }
        _ => {
            let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
            if !filters.is_empty()
                && !filters
                    .iter()
                    .any(|f| "cli_tokio_main".contains(f.as_str()))
            {
                println!("test result: ok. 0 passed; 0 failed; 1 filtered out");
                return ExitCode::SUCCESS;
            }
            the_binary_applies_migrations_on_both_backends().await;
            println!("test cli_tokio_main ... ok");
            ExitCode::SUCCESS
        }
    }
}

fn migrations_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chakra_tokio_main_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(dir.join("users")).unwrap();
    std::fs::write(dir.join("users/0001_initial.toml"), SEED).unwrap();
    std::fs::write(dir.join("users/0002_nickname.toml"), SECOND).unwrap();
    dir
}

/// This binary, run as the application with `args`.
fn app(args: &[&str], blocking: bool) -> Output {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(args).env("NO_COLOR", "1");
    if blocking {
        c.env("CHAKRA_CLI_BLOCKING", "1");
    } else {
        c.env_remove("CHAKRA_CLI_BLOCKING");
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The columns of `users` and the history rows, read with hand-written SQL.
async fn applied(db: &TestDb) -> (Vec<String>, Vec<String>) {
    let pool = db.pool().await;
    let columns = match pool.dialect() {
        chakra::Dialect::Sqlite => "SELECT name FROM pragma_table_info('users') ORDER BY name",
        chakra::Dialect::Postgres => {
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = 'users' ORDER BY 1"
        }
        chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
    };
    let history = "SELECT app || '/' || id FROM chakra_migrations ORDER BY 1";
    let mut out = Vec::new();
    for sql in [columns, history] {
        let q = chakra::migrate::history::raw(
            pool.dialect(),
            &[sql],
            vec![],
            vec![chakra::dsl::ValueType::Text],
        );
        out.push(
            pool.fetch_compiled(&q)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .map(|r| r[0].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>(),
        );
    }
    let history = out.pop().unwrap();
    (out.pop().unwrap(), history)
}

async fn the_binary_applies_migrations_on_both_backends() {
    let dir = migrations_dir();
    let dir_s = dir.display().to_string();
    for d in BOTH {
        for blocking in [false, true] {
            let db = TestDb::new(d).await;
            let base = ["migrate", "--help"];
            let help = app(&base, blocking);
            assert!(help.status.success(), "{d:?}: {}", text(&help));
            let o = app(
                &[
                    "migrate",
                    "apply",
                    "--to",
                    "0001_initial",
                    "--database-url",
                    &db.url,
                    "--dir",
                    &dir_s,
                ],
                blocking,
            );
            assert!(
                o.status.success(),
                "{d:?} blocking={blocking}: {}",
                text(&o)
            );
            assert!(
                String::from_utf8_lossy(&o.stdout).contains("applied users/0001_initial"),
                "{}",
                text(&o)
            );
            let (columns, history) = applied(&db).await;
            assert!(!columns.contains(&"nickname".to_owned()), "{columns:?}");
            assert_eq!(history, ["users/0001_initial"], "{d:?}");

            let o = app(
                &[
                    "migrate",
                    "apply",
                    "--database-url",
                    &db.url,
                    "--dir",
                    &dir_s,
                ],
                blocking,
            );
            assert!(
                o.status.success(),
                "{d:?} blocking={blocking}: {}",
                text(&o)
            );
            let (columns, history) = applied(&db).await;
            assert!(
                columns.contains(&"nickname".to_owned()),
                "{d:?}: {columns:?}"
            );
            assert_eq!(
                history,
                ["users/0001_initial", "users/0002_nickname"],
                "{d:?}"
            );

            // A failing command exits 1 with the error, and nothing panics.
            let o = app(
                &[
                    "migrate",
                    "apply",
                    "--to",
                    "9999_nothing",
                    "--database-url",
                    &db.url,
                    "--dir",
                    &dir_s,
                ],
                blocking,
            );
            assert_eq!(o.status.code(), Some(1), "{}", text(&o));
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("error:"),
                "{}",
                text(&o)
            );
            assert!(
                !String::from_utf8_lossy(&o.stderr).contains("panicked"),
                "{}",
                text(&o)
            );
        }
    }
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
