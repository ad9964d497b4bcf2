//! PostgreSQL: DDL never waits forever behind another transaction (issue 26, problem 3).
//! Each statement runs with a `lock_timeout`; the error is retryable and names the table and
//! the session holding it; `retry_lock` tries again; a killed CLI leaves nothing waiting.

mod common;

use common::migrations::SEED;

use chakra::dsl::{Error, ValueType};
use chakra::migrate::Migrator;
use common::TestDb;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn next(lock_timeout: Option<&str>) -> String {
    format!(
        "[migration]\nid = \"0002_bio\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n{}\n\
         [[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"bio\"\ntype = \"Text\"\nnullable = true\n",
        lock_timeout
            .map(|t| format!("lock_timeout = \"{t}\"\n"))
            .unwrap_or_default()
    )
}

fn dir(second: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "chakra_pg_locks_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(d.join("users")).unwrap();
    std::fs::write(d.join("users/0001_initial.toml"), SEED).unwrap();
    std::fs::write(d.join("users/0002_bio.toml"), second).unwrap();
    d
}

/// A session that reads `users` in an open transaction (holding ACCESS SHARE on it), and
/// its pid.
async fn reader(url: &str) -> (tokio_postgres::Client, i32) {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let pid: i32 = c
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    c.batch_execute("BEGIN; SELECT count(*) FROM users")
        .await
        .unwrap();
    (c, pid)
}

async fn applied(pool: &chakra::Pool) -> i64 {
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &["SELECT count(*) FROM chakra_migrations"],
        vec![],
        vec![ValueType::I64],
    );
    pool.fetch_compiled(&q).await.unwrap()[0][0]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_behind_a_reader_fails_fast_naming_table_and_holder() {
    let db = TestDb::postgres().await;
    let pool = db.pool().await;
    let d = dir(&next(None));
    let mut m = Migrator::from_dir(pool.clone(), &d).unwrap();
    m.apply(Some("users/0001_initial")).await.unwrap();
    let (c, pid) = reader(&db.url).await;
    m.ddl_lock_timeout = Duration::from_millis(500);
    let started = Instant::now();
    let e = m.apply(None).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, Error::LockTimeout(_)), "{e:?}");
    assert!(e.retryable(), "a lock timeout is retryable");
    let text = e.to_string();
    assert!(
        text.contains(&format!("table \"users\" is held by pid {pid} ("))
            && text.contains("SELECT count(*) FROM users")
            && text.contains("nothing of it was applied")
            && text.contains("0002_bio.toml"),
        "{text}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(applied(&pool).await, 1);
    // The lock is free again: another migrator can take it at once.
    let mut other = Migrator::from_dir(pool.clone(), &d).unwrap();
    other.lock_timeout = Duration::from_millis(200);
    other.ddl_lock_timeout = Duration::from_millis(200);
    assert!(matches!(
        other.apply(None).await.unwrap_err(),
        Error::LockTimeout(_)
    ));
    // Retried while the reader finishes: it goes through.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        c.batch_execute("COMMIT").await.unwrap();
        c
    });
    m.retry_lock = 6;
    let done = m.apply(None).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(applied(&pool).await, 2);
    drop(release.await.unwrap());
    let _ = std::fs::remove_dir_all(d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrations_own_lock_timeout_wins() {
    let db = TestDb::postgres().await;
    let pool = db.pool().await;
    let d = dir(&next(Some("300ms")));
    let mut m = Migrator::from_dir(pool.clone(), &d).unwrap();
    m.apply(Some("users/0001_initial")).await.unwrap();
    let (_c, _) = reader(&db.url).await;
    m.ddl_lock_timeout = Duration::from_secs(60);
    let started = Instant::now();
    let e = m.apply(None).await.unwrap_err();
    assert!(matches!(e, Error::LockTimeout(_)), "{e}");
    assert!(e.to_string().contains("(0.3s)"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_cli_leaves_nothing_waiting_on_the_server() {
    let db = TestDb::postgres().await;
    let d = dir(&next(None));
    let cli = |extra: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_chakra"));
        c.args(["migrate", "apply", "--database-url", &db.url, "--dir"])
            .arg(&d)
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    assert!(cli(&["--to", "users/0001_initial"])
        .status()
        .unwrap()
        .success());
    let (_c, _) = reader(&db.url).await;
    let mut child = cli(&["--ddl-lock-timeout", "120s"]).spawn().unwrap();
    let (admin, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
        AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE%'";
    let count = |sql: &'static str| {
        let admin = &admin;
        async move { admin.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let started = Instant::now();
    while count(waiting).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the ALTER never waited"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    let advisory =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 1667785067";
    while count(waiting).await > 0 || count(advisory).await > 0 {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the server still waits for the killed migrator's ALTER"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = std::fs::remove_dir_all(d);
}
