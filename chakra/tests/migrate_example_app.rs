//! The example app's `migrations/` (users, profiles, posts, comments, tags; the seed's
//! `0001_initial.toml` first) applies on SQLite, PostgreSQL and MySQL/MariaDB, holds rows across its foreign
//! keys, rolls all the way back and applies again to the same schema, and lints clean.

mod common;

use chakra::migrate::{lint::lint, load_dir, Graph, Migrator, RollbackTarget, Status};
use common::{TestDb, ALL3};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

async fn tables(pool: &chakra::Pool) -> Vec<String> {
    let sql = match pool.dialect() {
        chakra::Dialect::Sqlite => {
            "SELECT name || ': ' || sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        chakra::Dialect::Postgres => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             FROM information_schema.columns WHERE table_schema = 'public' \
             UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        }
        chakra::Dialect::Mysql => {
            "SELECT table_name || '.' || column_name || ' ' || column_type || ' ' || is_nullable \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
             UNION ALL SELECT table_name || ' index ' || index_name || ' ' || column_name || ' ' || \
             non_unique FROM information_schema.statistics WHERE table_schema = DATABASE() \
             UNION ALL SELECT table_name || ' ' || constraint_type || ' ' || constraint_name FROM \
             information_schema.table_constraints WHERE table_schema = DATABASE() ORDER BY 1"
        }
    };
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_app_applies_rolls_back_and_applies_again() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let m = Migrator::from_dir(pool.clone(), dir()).unwrap();
        let n = m.graph().ordered.len();
        assert_eq!(m.apply(None).await.unwrap().len(), n, "{d:?}");
        assert!(m
            .status()
            .await
            .unwrap()
            .iter()
            .all(|e| matches!(e.status, Status::Applied(_))));
        pool.batch_execute(
            "INSERT INTO users (username) VALUES ('alice'); \
             INSERT INTO profiles (user_id, bio) VALUES (1, 'hi'); \
             INSERT INTO posts (author_id, title) VALUES (1, 'hello'); \
             INSERT INTO comments (post_id, author_id, body) VALUES (1, 1, 'first'); \
             INSERT INTO tags (name) VALUES ('rust'); \
             INSERT INTO posts_tags (post_id, tag_id) VALUES (1, 1)",
        )
        .await
        .unwrap();
        assert!(
            pool.batch_execute("INSERT INTO posts_tags (post_id, tag_id) VALUES (1, 9)")
                .await
                .is_err(),
            "{d:?}: foreign keys hold"
        );
        let applied = tables(&pool).await;
        let back = m.rollback(&RollbackTarget::Steps(n)).await.unwrap();
        assert_eq!(back.len(), n);
        assert!(
            tables(&pool)
                .await
                .iter()
                .all(|t| t.contains("chakra_migration")),
            "{d:?}: only the history and progress tables are left"
        );
        m.apply(None).await.unwrap();
        assert_eq!(tables(&pool).await, applied, "{d:?}: up, down, up");
    }
}

#[test]
fn the_example_app_lints_clean() {
    let graph = Graph::new(load_dir(&dir()).unwrap()).unwrap();
    assert_eq!(lint(&graph, &[]).unwrap(), []);
    let first = &graph.ordered[0];
    assert_eq!(first.path.file_name().unwrap(), "0001_initial.toml");
    assert_eq!(first.migration.app, "users");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_no_drift_then_catches_a_manual_alter_table() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let m = Migrator::from_dir(pool.clone(), dir()).unwrap();
        m.apply(None).await.unwrap();
        assert_eq!(
            m.check_database().await.unwrap(),
            Vec::<String>::new(),
            "{d:?}"
        );
        if d == chakra::Dialect::Mysql {
            // MySQL keeps an index a foreign key needs: the key goes too.
            pool.batch_execute(
                "ALTER TABLE users ADD COLUMN nickname TEXT; ALTER TABLE posts DROP FOREIGN KEY \
                 posts_author_id_fkey, DROP INDEX posts_author_id_idx",
            )
            .await
            .unwrap();
            assert_eq!(
                m.check_database().await.unwrap(),
                [
                    "foreign key posts(author_id) -> users ON DELETE CASCADE is missing from the \
                     database",
                    "index posts_author_id_idx on posts is missing from the database",
                    "column users.nickname is in the database but not in the migrations",
                ],
                "{d:?}"
            );
        } else {
            pool.batch_execute(
                "ALTER TABLE users ADD COLUMN nickname TEXT; DROP INDEX posts_author_id_idx",
            )
            .await
            .unwrap();
            assert_eq!(
                m.check_database().await.unwrap(),
                [
                    "index posts_author_id_idx on posts is missing from the database",
                    "column users.nickname is in the database but not in the migrations",
                ],
                "{d:?}"
            );
        }
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_chakra"))
            .args(["migrate", "check", "--database-url", &db.url, "--dir"])
            .arg(dir())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("drift: column users.nickname is in the database"),
            "{out}"
        );
    }
}
