//! Non-atomic migrations resume safely (issue 26, problem 4): each statement is recorded when
//! it commits, a statement cut off between running and being recorded runs again in its
//! idempotent form (an invalid index a failed `CREATE INDEX CONCURRENTLY` left is dropped
//! first), and `status`/`sql` say "partly applied: k of n steps".

mod common;

use chakra::migrate::{Migrator, Status};
use chakra::{Dialect, Pool};
use common::migrations::{count, migration_dir, SEED};
use common::{TestDb, BOTH};
use std::path::PathBuf;
use std::process::Command;

const INDEXES: &str = r#"
[migration]
id = "0002_indexes"
app = "users"
dependencies = [["users", "0001_initial"]]
atomic = false

[[operations]]
type = "RunSQL"
sql = { postgres = "CREATE INDEX CONCURRENTLY na1 ON users (username)", sqlite = "CREATE INDEX na1 ON users (username)" }
reverse_sql = "DROP INDEX na1"

[[operations]]
type = "RunSQL"
sql = { postgres = "CREATE UNIQUE INDEX CONCURRENTLY na2 ON users (lower(username))", sqlite = "CREATE UNIQUE INDEX na2 ON users (lower(username))" }
reverse_sql = "DROP INDEX na2"
"#;

fn dir() -> PathBuf {
    migration_dir(
        "resume",
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_indexes.toml", INDEXES),
        ],
    )
}

/// Valid indexes named `name` on users.
async fn index(pool: &Pool, name: &str) -> i64 {
    let sql = match pool.dialect() {
        Dialect::Sqlite => {
            format!("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '{name}'")
        }
        Dialect::Postgres => format!(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname = '{name}' AND i.indisvalid"
        ),
        chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
    };
    count(pool, &sql).await
}

fn cli(args: &[&str], url: &str, dir: &PathBuf) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args(["migrate"])
        .args(args)
        .args(["--database-url", url, "--dir"])
        .arg(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_cut_off_before_its_record_resumes() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        m.apply(Some("users/0001_initial")).await.unwrap();
        // The record of statement 1 cannot be written: the run stops right after statement 1
        // ran, as a crash there would.
        let progress = |check: &str| {
            format!(
                "CREATE TABLE chakra_migration_progress (app TEXT NOT NULL, id TEXT NOT NULL, \
                 checksum TEXT NOT NULL, done BIGINT NOT NULL {check}, PRIMARY KEY (app, id))"
            )
        };
        pool.batch_execute(&progress("CHECK (done <> 1)"))
            .await
            .unwrap();
        assert!(m.apply(None).await.is_err(), "{d:?}");
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migrations").await,
            1
        );
        pool.batch_execute(&format!(
            "CREATE TABLE keep AS SELECT * FROM chakra_migration_progress; \
             DROP TABLE chakra_migration_progress; {}; \
             INSERT INTO chakra_migration_progress SELECT * FROM keep; DROP TABLE keep",
            progress("")
        ))
        .await
        .unwrap();
        let done = m.apply(None).await.unwrap();
        assert_eq!(done.len(), 1, "{d:?}");
        assert_eq!(index(&pool, "na1").await, 1, "{d:?}");
        assert_eq!(index(&pool, "na2").await, 1, "{d:?}");
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migration_progress").await,
            0
        );
        assert!(matches!(
            m.status().await.unwrap()[1].status,
            Status::Applied(_)
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_second_statement_shows_as_partly_applied_and_resumes() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        m.apply(Some("users/0001_initial")).await.unwrap();
        pool.batch_execute("INSERT INTO users (username) VALUES ('Bob'), ('bob')")
            .await
            .unwrap();
        let e = m.apply(None).await.unwrap_err().to_string();
        assert!(e.contains("0002_indexes.toml"), "{e}");
        assert_eq!(index(&pool, "na1").await, 1, "{d:?}");
        assert_eq!(index(&pool, "na2").await, 0, "{d:?}");
        assert!(matches!(
            m.status().await.unwrap()[1].status,
            Status::PartlyApplied { done: 1, total: 2 }
        ));
        let status = cli(&["status"], &db.url, &dir);
        assert!(
            status.contains("[~] 0002_indexes  partly applied: 1 of 2 steps"),
            "{status}"
        );
        let sql = cli(&["sql"], &db.url, &dir);
        assert!(sql.contains("-- partly applied: 1 of 2 steps ran"), "{sql}");
        assert!(
            !sql.contains("na1"),
            "{d:?}: sql lists a statement apply skips:\n{sql}"
        );
        assert!(sql.contains("na2"), "{sql}");
        let history_note = sql.find("-- then records the history row").unwrap();
        assert!(history_note > sql.find("na2").unwrap(), "{sql}");
        pool.batch_execute("DELETE FROM users WHERE username = 'bob'")
            .await
            .unwrap();
        assert_eq!(m.apply(None).await.unwrap().len(), 1, "{d:?}");
        assert_eq!(index(&pool, "na2").await, 1, "{d:?}: built, and valid");
        let dup = pool
            .batch_execute("INSERT INTO users (username) VALUES ('BOB')")
            .await;
        assert!(dup.is_err(), "{d:?}: na2 is enforced");
        let _ = std::fs::remove_dir_all(dir);
    }
}
