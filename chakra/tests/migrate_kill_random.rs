//! `kill -9` of `apply` at random moments of a plan with an atomic migration, a non-atomic one
//! and a SQLite table rebuild, 20 times per backend: afterwards the history tells the truth,
//! `apply` completes, no row is lost and nothing is left behind (issue 26).
//!
//! Kept cheap: the kill moments are drawn over the time one whole `apply` of the plan takes
//! (measured first, per backend), so every run lands somewhere in the plan instead of after
//! its end; PostgreSQL reuses one database (its schema dropped between runs).

mod common;

use chakra::migrate::{Migrator, Status};
use chakra::{Dialect, Pool};
use common::migrations::{chakra_cli, count, migration_dir, SEED};
use common::{TestDb, BOTH};
use std::path::Path;
use std::time::{Duration, Instant};

const ROWS: i64 = 5_000;

const BIO: &str = "[migration]\nid = \"0002_bio\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\n\
[[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"bio\"\ntype = \"Text\"\nnullable = true\n";

const INDEXES: &str = "[migration]\nid = \"0003_indexes\"\napp = \"users\"\ndependencies = [[\"users\", \"0002_bio\"]]\natomic = false\n\n\
[[operations]]\ntype = \"RunSQL\"\nsql = { postgres = \"CREATE INDEX CONCURRENTLY na1 ON users (lower(username))\", sqlite = \"CREATE INDEX na1 ON users (lower(username))\" }\nreverse_sql = \"DROP INDEX na1\"\ncreates = [\"index na1\"]\n\n\
[[operations]]\ntype = \"RunSQL\"\nsql = { postgres = \"CREATE INDEX CONCURRENTLY na2 ON users (bio)\", sqlite = \"CREATE INDEX na2 ON users (bio)\" }\nreverse_sql = \"DROP INDEX na2\"\ncreates = [\"index na2\"]\n";

const WIDEN: &str = "[migration]\nid = \"0004_widen\"\napp = \"users\"\ndependencies = [[\"users\", \"0003_indexes\"]]\n\n\
[[operations]]\ntype = \"AlterField\"\ntable = \"users\"\n[operations.field]\nname = \"username\"\ntype = \"String\"\nmax_length = 80\nunique = true\n";

/// The first migration applied and the rows written, on an empty database.
async fn prepare(pool: &Pool, m: &Migrator) {
    m.apply(Some("users/0001_initial")).await.unwrap();
    let fill = match pool.dialect() {
        Dialect::Postgres => format!(
            "INSERT INTO users (username) SELECT 'user' || g FROM generate_series(1, {ROWS}) g"
        ),
        Dialect::Sqlite => format!(
            "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {ROWS}) \
             INSERT INTO users (username) SELECT 'user' || x FROM g"
        ),
        chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
    };
    pool.batch_execute(&fill).await.unwrap();
}

fn apply_cli(url: &str, dir: &Path) -> std::process::Child {
    chakra_cli(&["migrate", "apply", "--database-url", url], dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_then_apply_completes() {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("seed {seed}");
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let dir = migration_dir(
        "kill_random",
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_bio.toml", BIO),
            ("users/0003_indexes.toml", INDEXES),
            ("users/0004_widen.toml", WIDEN),
        ],
    );
    for d in BOTH {
        // How long one whole apply takes here (process start included; the faster of two).
        let mut span = u64::MAX;
        for _ in 0..2 {
            let db = TestDb::new(d).await;
            let pool = db.pool().await;
            prepare(&pool, &Migrator::from_dir(pool.clone(), &dir).unwrap()).await;
            let started = Instant::now();
            assert!(apply_cli(&db.url, &dir).wait().unwrap().success());
            span = span.min(started.elapsed().as_millis().max(10) as u64);
        }
        println!("{d:?}: one apply takes {span} ms");
        let pg = if d == Dialect::Postgres {
            Some(TestDb::new(d).await)
        } else {
            None
        };
        let mut interrupted = 0;
        for i in 0..20 {
            let fresh;
            let db = match &pg {
                Some(db) => db,
                None => {
                    fresh = TestDb::new(d).await;
                    &fresh
                }
            };
            let pool = db.pool().await;
            if pg.is_some() {
                pool.batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                    .await
                    .unwrap();
            }
            let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
            prepare(&pool, &m).await;
            let mut child = apply_cli(&db.url, &dir);
            let wait = next() % span;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let _ = child.kill();
            let _ = child.wait();
            // The history tells the truth: what it says is applied is in the database.
            let status = m.status().await.unwrap();
            let applied = |id: &str| {
                status
                    .iter()
                    .any(|e| e.key.id == id && matches!(e.status, Status::Applied(_)))
            };
            let has_bio = count(
                &pool,
                match d {
                    Dialect::Postgres => "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'bio'",
                    Dialect::Sqlite => "SELECT count(*) FROM pragma_table_info('users') WHERE name = 'bio'",
                    chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
                },
            )
            .await;
            assert_eq!(
                applied("0002_bio"),
                has_bio == 1,
                "{d:?} run {i} after {wait} ms"
            );
            if !applied("0004_widen") {
                interrupted += 1;
            }
            // apply completes, no rows lost, nothing left behind.
            m.apply(None).await.unwrap_or_else(|e| {
                panic!("{d:?} run {i}, killed after {wait} ms: apply failed: {e}")
            });
            assert!(m
                .status()
                .await
                .unwrap()
                .iter()
                .all(|e| matches!(e.status, Status::Applied(_))));
            assert_eq!(count(&pool, "SELECT count(*) FROM users").await, ROWS);
            assert_eq!(
                m.check_database().await.unwrap(),
                Vec::<String>::new(),
                "{d:?} run {i}: the database is what the history says (the RunSQL indexes \
                 are declared)"
            );
            let leftovers = match d {
                Dialect::Postgres => {
                    "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE '\\_\\_chakra%') \
                     + (SELECT count(*) FROM pg_index WHERE NOT indisvalid) \
                     + (SELECT count(*) FROM chakra_migration_progress)"
                }
                Dialect::Sqlite => {
                    "SELECT (SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_\\_chakra%' ESCAPE '\\') \
                     + (SELECT count(*) FROM chakra_migration_progress)"
                }
                chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
            };
            assert_eq!(count(&pool, leftovers).await, 0, "{d:?} run {i}");
            assert_eq!(
                count(&pool, "SELECT count(*) FROM chakra_migrations").await,
                4
            );
        }
        // The kills landed inside the plan, not after it.
        assert!(
            interrupted >= 5,
            "{d:?}: only {interrupted} of 20 runs were cut short"
        );
        println!("{d:?}: {interrupted} of 20 runs cut short");
    }
    let _ = std::fs::remove_dir_all(dir);
}
