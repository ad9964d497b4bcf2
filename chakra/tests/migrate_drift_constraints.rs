//! `check` compares what the history declares beyond columns (issue 26, problem 7): unique
//! constraints, foreign keys (target and ON DELETE), defaults and CHECK constraints; `status`
//! says when the database drifted.

mod common;

use chakra::migrate::Migrator;
use chakra::Dialect;
use common::migrations::{migration_dir, SEED};
use common::{TestDb, BOTH};
use std::path::PathBuf;

const MORE: &str = r#"[migration]
id = "0002_more"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "age"
type = "Integer"
default = 18

[[operations]]
type = "AddConstraint"
table = "users"
name = "users_age_adult"
kind = "check"
check = "age >= 0"

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

fn dir() -> PathBuf {
    migration_dir(
        "drift_cons",
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_more.toml", MORE),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_sees_dropped_unique_fk_default_and_check() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        m.apply(None).await.unwrap();
        assert_eq!(
            m.check_database().await.unwrap(),
            Vec::<String>::new(),
            "{d:?}"
        );
        // The same tables by hand, without the unique, the default, the CHECK and with
        // another ON DELETE.
        let by_hand = match d {
            Dialect::Postgres => {
                "ALTER TABLE users DROP CONSTRAINT users_username_key; \
                 ALTER TABLE users ALTER COLUMN age SET DEFAULT 21; \
                 ALTER TABLE users DROP CONSTRAINT users_age_adult; \
                 ALTER TABLE posts DROP CONSTRAINT posts_author_id_fkey; \
                 ALTER TABLE posts ADD CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) \
                 REFERENCES users (id) ON DELETE SET NULL"
            }
            Dialect::Sqlite => {
                "PRAGMA foreign_keys = OFF; \
                 CREATE TABLE u2 (id INTEGER PRIMARY KEY AUTOINCREMENT, username VARCHAR(50) NOT NULL, \
                 age INTEGER NOT NULL DEFAULT 21); \
                 INSERT INTO u2 SELECT id, username, age FROM users; DROP TABLE users; \
                 ALTER TABLE u2 RENAME TO users; \
                 CREATE TABLE p2 (id INTEGER PRIMARY KEY AUTOINCREMENT, author_id BIGINT NOT NULL \
                 REFERENCES users (id) ON DELETE SET NULL); \
                 INSERT INTO p2 SELECT id, author_id FROM posts; DROP TABLE posts; \
                 ALTER TABLE p2 RENAME TO posts; PRAGMA foreign_keys = ON"
            }
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        };
        pool.batch_execute(by_hand).await.unwrap();
        let drift = m.check_database().await.unwrap();
        let has = |s: &str| drift.iter().any(|x| x.contains(s));
        assert!(
            has("column users.age: the database has default 21, the migrations say default 18"),
            "{d:?}: {drift:#?}"
        );
        assert!(
            has("unique constraint on users (username) is missing from the database"),
            "{d:?}: {drift:#?}"
        );
        assert!(
            has("table users has 0 CHECK constraint(s) in the database, the migrations say 1"),
            "{d:?}: {drift:#?}"
        );
        assert!(
            has("foreign key posts(author_id) -> users ON DELETE CASCADE is missing from the database")
                && has("foreign key posts(author_id) -> users ON DELETE SET NULL is in the database"),
            "{d:?}: {drift:#?}"
        );
        // status says so.
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_chakra"))
            .args(["migrate", "status", "--database-url", &db.url, "--dir"])
            .arg(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("drift: run check"), "{d:?}: {out}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
