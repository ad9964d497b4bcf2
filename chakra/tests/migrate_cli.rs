//! The `chakra migrate` command as a process: concurrent appliers, exit codes, messages.

mod common;

use common::migrations::SEED;
use common::{TestDb, ALL3};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn next(id: &str, dep: &str, column: &str) -> String {
    format!(
        "[migration]\nid = \"{id}\"\napp = \"users\"\ndependencies = [[\"users\", \"{dep}\"]]\n\n\
         [[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\n\
         name = \"{column}\"\ntype = \"Text\"\nnullable = true\n"
    )
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chakra_cli_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(dir.join("users")).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join("users").join(name), text).unwrap();
}

fn chakra(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chakra"));
    c.args(args).env("NO_COLOR", "1");
    c
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_apply_at_once() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let dir = temp_dir("four");
        write(&dir, "0001_initial.toml", SEED);
        write(&dir, "0002_a.toml", &next("0002_a", "0001_initial", "a"));
        write(&dir, "0003_b.toml", &next("0003_b", "0002_a", "b"));
        let dir_s = dir.display().to_string();
        let children: Vec<_> = (0..4)
            .map(|_| {
                chakra(&[
                    "migrate",
                    "apply",
                    "--database-url",
                    &db.url,
                    "--dir",
                    &dir_s,
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        let mut applied = 0;
        for c in children {
            let o = c.wait_with_output().unwrap();
            let (out, err) = text(&o);
            assert!(o.status.success(), "{d:?}: {out}\n{err}");
            applied += out.lines().filter(|l| l.starts_with("applied ")).count();
        }
        assert_eq!(
            applied, 3,
            "{d:?}: each migration applied by exactly one process"
        );
        let o = chakra(&[
            "migrate",
            "status",
            "--database-url",
            &db.url,
            "--dir",
            &dir_s,
        ])
        .output()
        .unwrap();
        let (out, _) = text(&o);
        assert_eq!(out.matches("[x]").count(), 3, "{out}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn exit_codes_and_messages() {
    let dir = temp_dir("codes");
    write(
        &dir,
        "0001_initial.toml",
        &SEED.replace("unique = true", "unique = yes"),
    );
    let dir_s = dir.display().to_string();
    let db = dir.join("x.db").display().to_string();
    let url = format!("sqlite://{db}");
    let o = chakra(&["migrate", "apply", "--database-url", &url, "--dir", &dir_s])
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("0001_initial.toml:23: not valid TOML"),
        "{err}"
    );

    write(&dir, "0001_initial.toml", SEED);
    let o = chakra(&["migrate", "sql", "--dialect", "sqlite", "--dir", &dir_s])
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.contains("BEGIN IMMEDIATE;\nCREATE TABLE \"users\""),
        "{out}"
    );

    write(
        &dir,
        "0002_drop.toml",
        "[migration]\nid = \"0002_drop\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\
         [[operations]]\ntype = \"DeleteModel\"\ntable = \"users\"\n",
    );
    let o = chakra(&["migrate", "lint", "--dir", &dir_s])
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("0002_drop.toml: DS101 DeleteModel users: drops table users"),
        "{out}"
    );
    let o = chakra(&["migrate", "lint", "0001_initial", "--dir", &dir_s])
        .output()
        .unwrap();
    assert!(o.status.success());

    let o = chakra(&["migrate", "rollback", "--steps", "x"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = chakra(&["migrate", "apply", "--help"]).output().unwrap();
    let (out, _) = text(&o);
    assert!(o.status.success() && out.contains("Example:"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A migration whose second statement runs for as long as the test's `kill_gate` table says
/// (seconds of sleep on PostgreSQL, rows to count on SQLite), so the process can be killed in
/// it and the re-run is quick once the gate is set to 0.
fn slow(d: chakra::Dialect) -> String {
    let sql = match d {
        chakra::Dialect::Postgres => "SELECT pg_sleep((SELECT n FROM kill_gate))",
        chakra::Dialect::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < (SELECT n FROM kill_gate)) SELECT count(*) FROM c"
        }
        chakra::Dialect::Mysql => "SELECT SLEEP((SELECT n FROM kill_gate))",
    };
    format!(
        "[migration]\nid = \"0002_slow\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\n\
         [[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"bio\"\ntype = \"Text\"\nnullable = true\n\n\
         [[operations]]\ntype = \"RunSQL\"\nsql = \"{sql}\"\nreverse_sql = \"SELECT 1\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_migration_leaves_a_consistent_database() {
    use std::io::Read;
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let dir = temp_dir("kill");
        write(&dir, "0001_initial.toml", SEED);
        let dir_s = dir.display().to_string();
        let apply = || {
            chakra(&[
                "migrate",
                "apply",
                "--database-url",
                &db.url,
                "--dir",
                &dir_s,
            ])
        };
        assert!(apply().output().unwrap().status.success());
        let pool = db.pool().await;
        let long = match d {
            chakra::Dialect::Postgres => 3,
            chakra::Dialect::Sqlite => 30_000_000,
            chakra::Dialect::Mysql => 3,
        };
        pool.batch_execute(&format!(
            "CREATE TABLE kill_gate (n BIGINT); INSERT INTO kill_gate VALUES ({long})"
        ))
        .await
        .unwrap();
        write(&dir, "0002_slow.toml", &slow(d));
        let mut child = apply()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until it says it is applying 0002, then give it time to be inside the statement.
        let mut err = child.stderr.take().unwrap();
        let mut seen = String::new();
        let mut buf = [0u8; 256];
        while !seen.contains("applying users/0002_slow") {
            let n = err.read(&mut buf).unwrap();
            assert!(n > 0, "{seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let status = chakra::migrate::Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .status()
            .await
            .unwrap();
        let bio = pool.batch_execute("SELECT bio FROM users").await;
        if d == chakra::Dialect::Mysql {
            // MySQL's ADD COLUMN committed by itself, and was recorded as done.
            assert!(
                matches!(
                    status[1].status,
                    chakra::migrate::Status::PartlyApplied { done: 1, total: 2 }
                ),
                "{d:?}: {status:?}"
            );
            assert!(bio.is_ok(), "{d:?}: the committed column stays");
        } else {
            assert!(
                matches!(status[1].status, chakra::migrate::Status::Pending),
                "{d:?}: {status:?}"
            );
            assert!(
                bio.is_err(),
                "{d:?}: the half-done migration left no column"
            );
        }
        // The re-run's statement is quick.
        pool.batch_execute("UPDATE kill_gate SET n = 0")
            .await
            .unwrap();
        let o = apply().output().unwrap();
        let (out, err) = text(&o);
        assert!(o.status.success(), "{d:?}: {out}\n{err}");
        assert!(out.contains("applied users/0002_slow"), "{out}");
        pool.batch_execute("SELECT bio FROM users").await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// `--dialect` takes every spelling of `chakra::Dialect` (its URL schemes and short forms, any
/// case): each prints what the canonical name prints; an unknown one is named, with the
/// accepted ones, and prints no SQL.
#[test]
fn dialect_spellings_in_migrate_sql() {
    let dir = temp_dir("dialects");
    write(&dir, "0001_initial.toml", SEED);
    let dir_s = dir.display().to_string();
    let sql = |name: &str| {
        let o = chakra(&["migrate", "sql", "--dialect", name, "--dir", &dir_s])
            .output()
            .unwrap();
        (o.status.success(), text(&o))
    };
    let (ok, (pg, _)) = sql("postgres");
    assert!(ok && pg.contains("BEGIN;\nCREATE TABLE \"users\""), "{pg}");
    let (ok, (lite, _)) = sql("sqlite");
    assert!(
        ok && lite.contains("BEGIN IMMEDIATE;\nCREATE TABLE \"users\""),
        "{lite}"
    );
    for (name, want) in [
        ("postgresql", &pg),
        ("PostgreSQL", &pg),
        ("pg", &pg),
        ("sqlite3", &lite),
        ("SQLite", &lite),
    ] {
        let (ok, (out, err)) = sql(name);
        assert!(ok, "{name}: {err}");
        assert_eq!(&out, want, "{name}");
    }
    // MySQL: the session's sql_mode first (the script quotes with double quotes), no
    // transaction around DDL (each statement commits), the table as InnoDB.
    let (ok, (my, err)) = sql("mysql");
    assert!(ok, "{err}");
    assert!(
        my.starts_with("-- the session Chakra's connections have")
            && my.contains("SET SESSION sql_mode = 'ANSI_QUOTES,")
            && my.contains("\nCREATE TABLE \"users\" (")
            && my.contains("ENGINE=InnoDB")
            && !my.contains("BEGIN"),
        "{my}"
    );
    for name in ["MySQL", "mariadb", "MariaDB"] {
        let (ok, (out, err)) = sql(name);
        assert!(ok, "{name}: {err}");
        assert_eq!(out, my, "{name}");
    }
    let (ok, (out, err)) = sql("oracle");
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(
            "unknown dialect \"oracle\"; accepted: postgres, postgresql, pg, sqlite, sqlite3, \
             mysql, mariadb"
        ),
        "{err}"
    );
}

/// `lint --dialect mysql` flags a column type change that makes MySQL copy the table
/// (MY101), not a `VARCHAR` that grows within its length byte; without `--dialect` nothing
/// MySQL-specific is flagged.
#[test]
fn lint_for_mysql_flags_table_copies() {
    let dir = temp_dir("lint_mysql");
    write(&dir, "0001_initial.toml", SEED);
    let alter = |id: &str, dep: &str, ty: &str| {
        format!(
            "[migration]\nid = \"{id}\"\napp = \"users\"\ndependencies = [[\"users\", \"{dep}\"]]\n\n\
             [[operations]]\ntype = \"AlterField\"\ntable = \"users\"\n[operations.field]\n\
             name = \"username\"\n{ty}\nunique = true\n"
        )
    };
    write(
        &dir,
        "0002_grow.toml",
        &alter(
            "0002_grow",
            "0001_initial",
            "type = \"String\"\nmax_length = 60",
        ),
    );
    write(
        &dir,
        "0003_text.toml",
        &alter("0003_text", "0002_grow", "type = \"Text\""),
    );
    let dir_s = dir.display().to_string();
    let lint = |extra: &[&str]| {
        let mut args = vec!["migrate", "lint", "--dir", &dir_s];
        args.extend_from_slice(extra);
        let o = chakra(&args).env("NO_COLOR", "1").output().unwrap();
        text(&o).0
    };
    let my = lint(&["--dialect", "mysql"]);
    let flagged: Vec<&str> = my.lines().filter(|l| l.contains("MY101")).collect();
    assert_eq!(flagged.len(), 1, "{my}");
    assert!(
        flagged[0].contains("0003_text.toml")
            && flagged[0].contains("users.username (VARCHAR(60) to VARCHAR(255))"),
        "{my}"
    );
    assert!(!lint(&[]).contains("MY101"));
    let _ = std::fs::remove_dir_all(dir);
}
