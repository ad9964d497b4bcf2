//! Rollback follows the recorded order of application (issue 26, problem 1): the history
//! keeps a sequence, older history tables are upgraded in place, and `--to` refuses to leave
//! an applied migration whose dependency is gone.

mod common;

use chakra::dsl::ValueType;
use chakra::migrate::{Migrator, RollbackTarget};
use chakra::Pool;
use common::migrations::SEED;
use common::{TestDb, ALL3};
use std::path::PathBuf;

const NICKNAME: &str = r#"
[migration]
id = "0002_nickname"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "nickname"
type = "Text"
nullable = true
"#;

/// Depends on users/0001 only, so the dependency graph puts it before users/0002.
const POSTS: &str = r#"
[migration]
id = "0001_initial"
app = "posts"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "CreateModel"
name = "Post"
table = "posts"
[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
auto_increment = true
[[operations.fields]]
name = "author_id"
type = "BigInteger"
references = { table = "users", column = "id", on_delete = "CASCADE" }
"#;

/// Depends on users/0002.
const POSTS_TWO: &str = r#"
[migration]
id = "0002_title"
app = "posts"
dependencies = [["posts", "0001_initial"], ["users", "0002_nickname"]]

[[operations]]
type = "AddField"
table = "posts"
[operations.field]
name = "title"
type = "Text"
nullable = true
"#;

struct Dir(PathBuf);

impl Dir {
    fn new(files: &[(&str, &str)]) -> Dir {
        let dir = std::env::temp_dir().join(format!(
            "chakra_rollback_order_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn texts(pool: &Pool, sql: &str) -> Vec<String> {
    let q = chakra::migrate::history::raw(pool.dialect(), &[sql], vec![], vec![ValueType::Text]);
    pool.fetch_compiled(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The applied migrations as the history table holds them, by sequence.
async fn recorded(pool: &Pool) -> Vec<String> {
    texts(
        pool,
        "SELECT app || '/' || id FROM chakra_migrations ORDER BY seq",
    )
    .await
}

async fn has_column(pool: &Pool, table: &str, column: &str) -> bool {
    let sql = match pool.dialect() {
        chakra::Dialect::Sqlite => {
            format!("SELECT name FROM pragma_table_info('{table}') WHERE name = '{column}'")
        }
        chakra::Dialect::Postgres => format!(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = '{table}' AND column_name = '{column}'"
        ),
        chakra::Dialect::Mysql => format!(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = '{table}' AND column_name = '{column}'"
        ),
    };
    !texts(pool, &sql).await.is_empty()
}

fn files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("users/0001_initial.toml", SEED),
        ("users/0002_nickname.toml", NICKNAME),
        ("posts/0001_initial.toml", POSTS),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_undoes_the_last_applied_migration_first() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&files());
        let m = Migrator::from_dir(pool.clone(), &dir.0).unwrap();
        m.apply(Some("users/0002_nickname")).await.unwrap();
        m.apply(None).await.unwrap();
        assert_eq!(
            recorded(&pool).await,
            [
                "users/0001_initial",
                "users/0002_nickname",
                "posts/0001_initial"
            ],
            "{d:?}"
        );
        let planned = m.plan_rollback(&RollbackTarget::Steps(1)).await.unwrap();
        let back = m.rollback(&RollbackTarget::Steps(1)).await.unwrap();
        assert_eq!(planned, back);
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].key.app.as_str(), back[0].key.id.as_str()),
            ("posts", "0001_initial"),
            "{d:?}: the last applied goes first"
        );
        assert!(has_column(&pool, "users", "nickname").await, "{d:?}");
        assert!(!has_column(&pool, "posts", "id").await, "{d:?}");
        // Applied again, it is last again.
        m.apply(None).await.unwrap();
        assert_eq!(
            recorded(&pool).await.last().map(String::as_str),
            Some("posts/0001_initial")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_to_refuses_to_orphan_a_dependant_and_names_it() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let mut all = files();
        all.push(("posts/0002_title.toml", POSTS_TWO));
        let dir = Dir::new(&all);
        let m = Migrator::from_dir(pool.clone(), &dir.0).unwrap();
        m.apply(None).await.unwrap();
        let before = recorded(&pool).await;
        assert_eq!(before.len(), 4);
        let e = m
            .rollback(&RollbackTarget::To("users/0001_initial".into()))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("posts/0002_title (applied) depends on users/0002_nickname"),
            "{d:?}: {e}"
        );
        assert_eq!(recorded(&pool).await, before, "{d:?}: nothing undone");
        assert!(has_column(&pool, "users", "nickname").await);
        // Undo posts first, then users back to 0001.
        let back = m
            .rollback(&RollbackTarget::To("posts/zero".into()))
            .await
            .unwrap();
        let ids: Vec<String> = back
            .iter()
            .map(|s| format!("{}/{}", s.key.app, s.key.id))
            .collect();
        assert_eq!(ids, ["posts/0002_title", "posts/0001_initial"], "{d:?}");
        m.rollback(&RollbackTarget::To("users/0001_initial".into()))
            .await
            .unwrap();
        assert_eq!(recorded(&pool).await, ["users/0001_initial"], "{d:?}");
        assert!(!has_column(&pool, "users", "nickname").await, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_table_without_a_sequence_is_upgraded_in_place() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&files());
        let m = Migrator::from_dir(pool.clone(), &dir.0).unwrap();
        m.apply(Some("users/0002_nickname")).await.unwrap();
        m.apply(None).await.unwrap();
        // The table as an older version wrote it: no seq column, times in application order.
        let (at, key) = match d {
            chakra::Dialect::Sqlite => ("TEXT", "TEXT"),
            chakra::Dialect::Postgres => ("TIMESTAMPTZ", "TEXT"),
            // A key needs a bounded type.
            chakra::Dialect::Mysql => ("DATETIME(6)", "VARCHAR(255)"),
        };
        pool.batch_execute(&format!(
            "CREATE TABLE old_history AS SELECT app, id, checksum, applied_at FROM chakra_migrations; \
             DROP TABLE chakra_migrations; \
             CREATE TABLE chakra_migrations (app {key} NOT NULL, id {key} NOT NULL, \
             checksum TEXT NOT NULL, applied_at {at} NOT NULL, PRIMARY KEY (app, id)); \
             INSERT INTO chakra_migrations SELECT * FROM old_history; DROP TABLE old_history"
        ))
        .await
        .unwrap();
        assert!(!has_column(&pool, "chakra_migrations", "seq").await);
        // Read-only: status works on the old table and leaves it as it is.
        assert_eq!(m.status().await.unwrap().len(), 3);
        assert!(!has_column(&pool, "chakra_migrations", "seq").await);
        let back = m.rollback(&RollbackTarget::Steps(1)).await.unwrap();
        assert_eq!(back[0].key.app, "posts", "{d:?}");
        assert!(has_column(&pool, "chakra_migrations", "seq").await);
        assert_eq!(
            recorded(&pool).await,
            ["users/0001_initial", "users/0002_nickname"],
            "{d:?}"
        );
        assert_eq!(
            texts(
                &pool,
                &format!(
                    "SELECT CAST(seq AS {}) FROM chakra_migrations ORDER BY seq",
                    if d == chakra::Dialect::Mysql {
                        "CHAR"
                    } else {
                        "TEXT"
                    }
                )
            )
            .await,
            ["1", "2"]
        );
    }
}
