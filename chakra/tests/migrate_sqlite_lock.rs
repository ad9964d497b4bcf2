//! SQLite: a migrator waiting for another one's write lock says so, stops at `--lock-timeout`,
//! and its error names the other applier, not its own migration (issue 26, problem 5).

mod common;

use common::migrations::SEED;

use common::TestDb;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const NEXT: &str = "[migration]\nid = \"0002_bio\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\n\
    [[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"bio\"\ntype = \"Text\"\nnullable = true\n";

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "chakra_sqlite_lock_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(d.join("users")).unwrap();
    std::fs::write(d.join("users/0001_initial.toml"), SEED).unwrap();
    d
}

fn apply(url: &str, dir: &PathBuf, timeout: &str) -> (Option<i32>, String, String, Duration) {
    let started = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args([
            "migrate",
            "apply",
            "--lock-timeout",
            timeout,
            "--database-url",
            url,
            "--dir",
        ])
        .arg(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_names_the_other_applier_and_honours_lock_timeout() {
    let db = TestDb::sqlite().await;
    let d = dir();
    let (code, _, err, _) = apply(&db.url, &d, "60");
    assert_eq!(code, Some(0), "{err}");
    std::fs::write(d.join("users/0002_bio.toml"), NEXT).unwrap();
    // Another applier: holds the write lock.
    let pool = db.pool().await;
    let mut holder = pool.acquire().await.unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").await.unwrap();
    let (code, out, err, took) = apply(&db.url, &d, "2");
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(
        err.contains("waiting: another process is applying migrations"),
        "{err}"
    );
    assert!(
        err.contains("another process is applying migrations (or writing) to this database")
            && err.contains("nothing of users/0002_bio was applied")
            && !err.contains("ROLLBACK failed"),
        "{err}"
    );
    // --lock-timeout 2, not the pool's 10 s busy timeout.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "took {took:?}"
    );
    holder.batch_execute("ROLLBACK").await.unwrap();
    drop(holder);
    let (code, out, err, _) = apply(&db.url, &d, "2");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("applied users/0002_bio"), "{out}");
    let _ = std::fs::remove_dir_all(d);
}
