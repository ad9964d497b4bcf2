//! `kill -9` of `apply` at random moments of a plan with an atomic migration, a non-atomic one
//! and a SQLite table rebuild, 20 times per backend: afterwards the history tells the truth,
//! `apply` completes, no row is lost and nothing is left behind (issue 26).

mod common;

use chakra::dsl::ValueType;
use chakra::migrate::{Migrator, Status};
use chakra::{Dialect, Pool};
use common::{TestDb, BOTH};
use std::path::PathBuf;
use std::time::Duration;

const SEED: &str = include_str!("../../migrations/users/0001_initial.toml");
const ROWS: i64 = 20_000;

fn files() -> Vec<(&'static str, String)> {
    vec![
        ("users/0001_initial.toml", SEED.to_owned()),
        (
            "users/0002_bio.toml",
            "[migration]\nid = \"0002_bio\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\n\
             [[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"bio\"\ntype = \"Text\"\nnullable = true\n"
                .to_owned(),
        ),
        (
            "users/0003_indexes.toml",
            "[migration]\nid = \"0003_indexes\"\napp = \"users\"\ndependencies = [[\"users\", \"0002_bio\"]]\natomic = false\n\n\
             [[operations]]\ntype = \"RunSQL\"\nsql = { postgres = \"CREATE INDEX CONCURRENTLY na1 ON users (lower(username))\", sqlite = \"CREATE INDEX na1 ON users (lower(username))\" }\nreverse_sql = \"DROP INDEX na1\"\n\n\
             [[operations]]\ntype = \"RunSQL\"\nsql = { postgres = \"CREATE INDEX CONCURRENTLY na2 ON users (bio)\", sqlite = \"CREATE INDEX na2 ON users (bio)\" }\nreverse_sql = \"DROP INDEX na2\"\n"
                .to_owned(),
        ),
        (
            "users/0004_widen.toml",
            "[migration]\nid = \"0004_widen\"\napp = \"users\"\ndependencies = [[\"users\", \"0003_indexes\"]]\n\n\
             [[operations]]\ntype = \"AlterField\"\ntable = \"users\"\n[operations.field]\nname = \"username\"\ntype = \"String\"\nmax_length = 80\nunique = true\n"
                .to_owned(),
        ),
    ]
}

fn dir(i: usize) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "chakra_kill_random_{}_{i}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    for (name, text) in files() {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

async fn count(pool: &Pool, sql: &str) -> i64 {
    let q = chakra::migrate::history::raw(pool.dialect(), &[sql], vec![], vec![ValueType::I64]);
    pool.fetch_compiled(&q).await.unwrap()[0][0]
        .as_i64()
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
    for d in BOTH {
        for i in 0..20 {
            let db = TestDb::new(d).await;
            let pool = db.pool().await;
            let dir = dir(i);
            let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
            m.apply(Some("users/0001_initial")).await.unwrap();
            let fill = match d {
                Dialect::Postgres => format!(
                    "INSERT INTO users (username) SELECT 'user' || g FROM generate_series(1, {ROWS}) g"
                ),
                Dialect::Sqlite => format!(
                    "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {ROWS}) \
                     INSERT INTO users (username) SELECT 'user' || x FROM g"
                ),
            };
            pool.batch_execute(&fill).await.unwrap();
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chakra"))
                .args(["migrate", "apply", "--database-url", &db.url, "--dir"])
                .arg(&dir)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let wait = next() % 400;
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
                },
            )
            .await;
            assert_eq!(
                applied("0002_bio"),
                has_bio == 1,
                "{d:?} run {i} after {wait} ms"
            );
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
                m.check_database().await.unwrap().len(),
                2,
                "{d:?} run {i}: only the two RunSQL indexes are unknown to the history"
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
            };
            assert_eq!(count(&pool, leftovers).await, 0, "{d:?} run {i}");
            assert_eq!(
                count(&pool, "SELECT count(*) FROM chakra_migrations").await,
                4
            );
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
