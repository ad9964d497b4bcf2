//! `kill -9` of `apply` at random moments of a multi-step plan on MySQL/MariaDB, 20 times:
//! MySQL's DDL commits statement by statement, so every step is recorded as it completes.
//! Afterwards `status` answers and tells the truth (what it says is applied is in the
//! database), `apply` completes (a step the kill cut off between its DDL and its record is
//! recognised as done), no row is lost, no progress record is left, and the schema is the
//! one an uninterrupted apply gives (read from `information_schema`).

mod common;

use chakra::migrate::{Migrator, Status};
use chakra::{Dialect, Pool};
use common::migrations::{chakra_cli, count, migration_dir, SEED};
use common::TestDb;
use std::path::Path;
use std::time::{Duration, Instant};

const ROWS: i64 = 5_000;

const BIO: &str = "[migration]\nid = \"0002_bio\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\n\
[[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"bio\"\ntype = \"Text\"\nnullable = true\n\n\
[[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"rank\"\ntype = \"Integer\"\ndefault = 3\nindex = true\n";

const INDEXES: &str = "[migration]\nid = \"0003_indexes\"\napp = \"users\"\ndependencies = [[\"users\", \"0002_bio\"]]\n\n\
[[operations]]\ntype = \"RunSQL\"\nsql = { mysql = \"CREATE INDEX na1 ON users (username, rank)\" }\nreverse_sql = { mysql = \"DROP INDEX na1 ON users\" }\n\n\
[[operations]]\ntype = \"RunSQL\"\nsql = { mysql = \"CREATE INDEX na2 ON users (bio(20))\" }\nreverse_sql = { mysql = \"DROP INDEX na2 ON users\" }\n";

const WIDEN: &str = "[migration]\nid = \"0004_widen\"\napp = \"users\"\ndependencies = [[\"users\", \"0003_indexes\"]]\n\n\
[[operations]]\ntype = \"AlterField\"\ntable = \"users\"\n[operations.field]\nname = \"username\"\ntype = \"String\"\nmax_length = 80\nunique = true\n\n\
[[operations]]\ntype = \"RenameField\"\ntable = \"users\"\nname = \"rank\"\nnew_name = \"level\"\n\n\
[[operations]]\ntype = \"AddConstraint\"\ntable = \"users\"\nname = \"users_level_positive\"\nkind = \"check\"\ncheck = \"level >= 0\"\n";

/// The first migration applied and the rows written, on an empty database.
async fn prepare(pool: &Pool, m: &Migrator) {
    m.apply(Some("users/0001_initial")).await.unwrap();
    let digits = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                  UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 \
                  UNION ALL SELECT 8 UNION ALL SELECT 9)";
    pool.batch_execute(&format!(
        "INSERT INTO users (username) SELECT CONCAT('user', a.d + 10 * b.d + 100 * c.d + \
         1000 * e.d + 1) FROM {digits} a, {digits} b, {digits} c, {digits} e WHERE e.d < 5"
    ))
    .await
    .unwrap();
    assert_eq!(count(pool, "SELECT count(*) FROM users").await, ROWS);
}

/// The schema as `information_schema` describes it: columns, index columns, constraints,
/// CHECK clauses.
async fn schema(pool: &Pool) -> Vec<String> {
    let sql = "SELECT table_name || '.' || column_name || ' ' || column_type || ' ' || \
               is_nullable || ' ' || coalesce(column_default, '') FROM information_schema.columns \
               WHERE table_schema = DATABASE() \
               UNION ALL SELECT table_name || ' index ' || index_name || ' ' || seq_in_index || \
               ' ' || column_name || ' ' || coalesce(sub_part, '') || ' ' || non_unique \
               FROM information_schema.statistics WHERE table_schema = DATABASE() \
               UNION ALL SELECT table_name || ' ' || constraint_type || ' ' || constraint_name \
               FROM information_schema.table_constraints WHERE table_schema = DATABASE() \
               UNION ALL SELECT constraint_name || ' ' || check_clause \
               FROM information_schema.check_constraints WHERE constraint_schema = DATABASE() \
               ORDER BY 1";
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &[sql],
        vec![],
        vec![chakra::dsl::ValueType::Text],
    );
    pool.fetch_compiled(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn apply_cli(url: &str, dir: &Path) -> std::process::Child {
    chakra_cli(&["migrate", "apply", "--database-url", url], dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_on_mysql_then_apply_completes() {
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
        "kill_mysql",
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_bio.toml", BIO),
            ("users/0003_indexes.toml", INDEXES),
            ("users/0004_widen.toml", WIDEN),
        ],
    );
    let d = Dialect::Mysql;
    // How long one whole apply takes (process start included; the faster of two), and the
    // schema it leaves.
    let mut span = u64::MAX;
    let mut want = Vec::new();
    for _ in 0..2 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        prepare(&pool, &Migrator::from_dir(pool.clone(), &dir).unwrap()).await;
        let started = Instant::now();
        assert!(apply_cli(&db.url, &dir).wait().unwrap().success());
        span = span.min(started.elapsed().as_millis().max(10) as u64);
        want = schema(&pool).await;
    }
    assert!(
        want.iter()
            .any(|s| s.starts_with("users index na2 1 bio 20")),
        "{want:?}"
    );
    assert!(
        want.iter().any(|s| s.starts_with("users.level int")),
        "{want:?}"
    );
    println!("one apply takes {span} ms");
    let mut interrupted = 0;
    for i in 0..20 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
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
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = 'users' AND column_name = 'bio'",
        )
        .await;
        if applied("0002_bio") {
            assert_eq!(has_bio, 1, "run {i} after {wait} ms");
        }
        let has_level = count(
            &pool,
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = 'users' AND column_name = 'level'",
        )
        .await;
        if applied("0004_widen") {
            assert_eq!(has_level, 1, "run {i} after {wait} ms");
        }
        if !applied("0004_widen") {
            interrupted += 1;
        }
        // apply completes, no rows lost, nothing left behind, the same schema.
        m.apply(None).await.unwrap_or_else(|e| {
            panic!("run {i}, killed after {wait} ms ({status:?}): apply failed: {e}")
        });
        assert!(m
            .status()
            .await
            .unwrap()
            .iter()
            .all(|e| matches!(e.status, Status::Applied(_))));
        assert_eq!(count(&pool, "SELECT count(*) FROM users").await, ROWS);
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migration_progress").await,
            0,
            "run {i}"
        );
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migrations").await,
            4
        );
        assert_eq!(schema(&pool).await, want, "run {i} after {wait} ms");
    }
    // The kills landed inside the plan, not after it.
    assert!(
        interrupted >= 5,
        "only {interrupted} of 20 runs were cut short"
    );
    println!("{interrupted} of 20 runs cut short");
    let _ = std::fs::remove_dir_all(dir);
}

/// The crash the random kills rarely hit, made on purpose for every statement of the plan:
/// statements 0..=k of a migration have committed (MySQL's DDL commits by itself) while its
/// progress record says k had not run. `status` says the migration is partly applied, and
/// `apply` completes: statement k is taken as done where the server says its effect is
/// there (added column or index exists, renamed column gone), or runs again where it can
/// (`MODIFY COLUMN`), and the schema is the one an uninterrupted apply gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_that_committed_before_its_record_is_taken_as_done() {
    let dir = migration_dir(
        "cut_mysql",
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_bio.toml", BIO),
            ("users/0003_indexes.toml", INDEXES),
            ("users/0004_widen.toml", WIDEN),
        ],
    );
    let reference = TestDb::new(Dialect::Mysql).await;
    let pool = reference.pool().await;
    let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
    prepare(&pool, &m).await;
    let all = m.plan_apply(None).await.unwrap();
    m.apply(None).await.unwrap();
    let want = schema(&pool).await;
    let mut taken_as_done = 0;
    for (n, step) in all.iter().enumerate() {
        for k in 0..step.plan.statements.len() {
            let db = TestDb::new(Dialect::Mysql).await;
            let pool = db.pool().await;
            let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
            prepare(&pool, &m).await;
            if n > 0 {
                let before = &all[n - 1].key;
                m.apply(Some(&format!("{}/{}", before.app, before.id)))
                    .await
                    .unwrap();
            }
            // Statements 0..=k commit; the run dies before recording k.
            for sql in &step.plan.statements[..=k] {
                pool.batch_execute(sql).await.unwrap();
            }
            let mut conn = pool.acquire().await.unwrap();
            conn.batch_execute(&chakra::migrate::history::create_progress_sql(
                Dialect::Mysql,
            ))
            .await
            .unwrap();
            chakra::migrate::history::write_progress(
                &mut conn,
                &step.key.app,
                &step.key.id,
                &step.checksum,
                k as u64,
            )
            .await
            .unwrap();
            drop(conn);
            let status = m.status().await.unwrap();
            assert!(
                status.iter().any(|e| e.key == step.key
                    && matches!(e.status, Status::PartlyApplied { done, .. } if done == k)),
                "{status:?}"
            );
            let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
            let sink = heard.clone();
            let m = m.on_message(move |s| sink.lock().unwrap().push(s.into()));
            m.apply(None).await.unwrap_or_else(|e| {
                panic!("{}/{} cut at statement {k}: {e}", step.key.app, step.key.id)
            });
            let sql = &step.plan.statements[k];
            let rerunnable = sql.contains(" MODIFY COLUMN ");
            let said = heard
                .lock()
                .unwrap()
                .iter()
                .any(|s| s.contains("already done by the interrupted run"));
            assert_eq!(said, !rerunnable, "{sql}: {:?}", heard.lock().unwrap());
            taken_as_done += usize::from(said);
            assert_eq!(count(&pool, "SELECT count(*) FROM users").await, ROWS);
            assert_eq!(schema(&pool).await, want, "{sql}");
        }
    }
    assert!(taken_as_done >= 4, "{taken_as_done}");
    let _ = std::fs::remove_dir_all(dir);
}
