//! The SQLite table rebuild keeps the indexes and triggers the table has in the database,
//! also those the migration history does not know (issue 26, problem 6): a partial unique
//! index made with RunSQL survives an AlterField, and is still enforced. A RunSQL that
//! declares what it creates (`creates = ["index …"]`) makes it known to the history: `check`
//! does not report it, a rollback without `reverse_sql` drops it; triggers nobody declared are
//! drift.

mod common;

use chakra::migrate::Migrator;
use chakra::Dialect;
use common::migrations::{count, migration_dir, SEED};
use common::{TestDb, BOTH};
use std::path::PathBuf;

const BY_HAND: &str = r#"[migration]
id = "0002_by_hand"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "active"
type = "Boolean"
default = true

[[operations]]
type = "RunSQL"
sql = "CREATE UNIQUE INDEX users_active_lower ON users (lower(username)) WHERE active"
reverse_sql = "DROP INDEX users_active_lower"
"#;

const WIDEN: &str = r#"[migration]
id = "0003_widen"
app = "users"
dependencies = [["users", "0002_by_hand"]]

[[operations]]
type = "AlterField"
table = "users"
[operations.field]
name = "username"
type = "String"
max_length = 80
unique = true
"#;

fn dir() -> PathBuf {
    dir_with(BY_HAND)
}

fn dir_with(by_hand: &str) -> PathBuf {
    migration_dir(
        "rebuild_keeps",
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_by_hand.toml", by_hand),
            ("users/0003_widen.toml", WIDEN),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_keeps_an_index_the_history_does_not_know() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        m.apply(Some("users/0002_by_hand")).await.unwrap();
        if d == Dialect::Sqlite {
            pool.batch_execute(
                "CREATE TABLE audit (name TEXT); \
                 CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN \
                 INSERT INTO audit VALUES (new.username); END",
            )
            .await
            .unwrap();
        }
        pool.batch_execute("INSERT INTO users (username) VALUES ('Ann')")
            .await
            .unwrap();
        assert_eq!(m.apply(None).await.unwrap().len(), 1, "{d:?}");
        let index = match d {
            Dialect::Sqlite => {
                "SELECT count(*) FROM sqlite_master WHERE name = 'users_active_lower' \
                 AND sql LIKE '%WHERE active%'"
            }
            Dialect::Postgres => {
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_active_lower' \
                 AND indexdef LIKE '%WHERE active%'"
            }
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        };
        assert_eq!(
            count(&pool, index).await,
            1,
            "{d:?}: the partial index is there"
        );
        // Still enforced: another active 'ann' is refused, an inactive one is not.
        assert!(pool
            .batch_execute("INSERT INTO users (username) VALUES ('ANN')")
            .await
            .is_err());
        let inactive = match d {
            Dialect::Sqlite => "INSERT INTO users (username, active) VALUES ('ann', 0)",
            Dialect::Postgres => "INSERT INTO users (username, active) VALUES ('ann', false)",
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        };
        pool.batch_execute(inactive).await.unwrap();
        if d == Dialect::Sqlite {
            assert_eq!(
                count(
                    &pool,
                    "SELECT count(*) FROM sqlite_master WHERE name = 'users_audit'"
                )
                .await,
                1,
                "the trigger is there"
            );
            assert_eq!(count(&pool, "SELECT count(*) FROM audit").await, 2);
        }
        // Rolling back (another rebuild on SQLite) keeps them too.
        m.rollback(&chakra::migrate::RollbackTarget::Steps(1))
            .await
            .unwrap();
        assert_eq!(
            count(&pool, index).await,
            1,
            "{d:?}: kept across the rollback"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

const DECLARED: &str = r#"[migration]
id = "0002_by_hand"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "active"
type = "Boolean"
default = true

[[operations]]
type = "RunSQL"
sql = "CREATE UNIQUE INDEX users_active_lower ON users (lower(username)) WHERE active"
creates = ["index users_active_lower"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_declared_by_runsql_is_known_kept_and_rolled_back() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        // Undeclared: check reports the index.
        let undeclared = dir();
        let m = Migrator::from_dir(pool.clone(), &undeclared).unwrap();
        m.apply(Some("users/0002_by_hand")).await.unwrap();
        let drift = m.check_database().await.unwrap();
        assert_eq!(
            drift,
            ["index users_active_lower on users is in the database but not in the migrations"],
            "{d:?}"
        );
        m.rollback(&chakra::migrate::RollbackTarget::Steps(1))
            .await
            .unwrap();
        // Declared: known, kept by the rebuild, dropped by the rollback.
        let dir = dir_with(DECLARED);
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        assert_eq!(m.apply(None).await.unwrap().len(), 2, "{d:?}");
        assert_eq!(
            m.check_database().await.unwrap(),
            Vec::<String>::new(),
            "{d:?}"
        );
        let index = "SELECT count(*) FROM (SELECT 1 FROM sqlite_master WHERE name = 'users_active_lower') x";
        let index = match d {
            Dialect::Sqlite => index,
            Dialect::Postgres => {
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_active_lower'"
            }
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        };
        assert_eq!(count(&pool, index).await, 1, "{d:?}");
        // A trigger nobody declared is drift.
        let trigger = match d {
            Dialect::Sqlite => {
                "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT 1; END"
            }
            Dialect::Postgres => {
                "CREATE FUNCTION users_touch_f() RETURNS trigger LANGUAGE plpgsql AS \
                 'BEGIN RETURN NEW; END'; CREATE TRIGGER users_touch BEFORE UPDATE ON users \
                 FOR EACH ROW EXECUTE FUNCTION users_touch_f()"
            }
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        };
        pool.batch_execute(trigger).await.unwrap();
        let drift = m.check_database().await.unwrap();
        assert_eq!(drift.len(), 1, "{d:?}: {drift:?}");
        assert!(
            drift[0].starts_with("trigger users_touch on users is in the database"),
            "{drift:?}"
        );
        pool.batch_execute("DROP TRIGGER users_touch ON users")
            .await
            .ok();
        pool.batch_execute("DROP TRIGGER IF EXISTS users_touch")
            .await
            .ok();
        assert_eq!(
            m.check_database().await.unwrap(),
            Vec::<String>::new(),
            "{d:?}"
        );
        // Rolled back without a reverse_sql: the declared index is dropped.
        m.rollback(&chakra::migrate::RollbackTarget::Steps(2))
            .await
            .unwrap();
        assert_eq!(count(&pool, index).await, 0, "{d:?}");
        assert_eq!(
            m.check_database().await.unwrap(),
            Vec::<String>::new(),
            "{d:?}"
        );
        // Applied again and the index dropped by hand: check says what is missing.
        m.apply(Some("users/0002_by_hand")).await.unwrap();
        pool.batch_execute("DROP INDEX users_active_lower")
            .await
            .unwrap();
        assert_eq!(
            m.check_database().await.unwrap(),
            ["index users_active_lower (declared by a RunSQL's creates) is missing from the database"],
            "{d:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
        let _ = std::fs::remove_dir_all(undeclared);
    }
}

/// SQLite: a named CHECK constraint the table has in the database but no migration declares
/// (made by hand) is carried into the rebuilt table, still enforced; `check` reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_keeps_a_check_constraint_the_history_does_not_know() {
    let db = TestDb::new(Dialect::Sqlite).await;
    let pool = db.pool().await;
    let dir = dir();
    let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
    m.apply(Some("users/0002_by_hand")).await.unwrap();
    pool.batch_execute(
        "CREATE TABLE u2 (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT, \"username\" TEXT NOT NULL \
         UNIQUE, \"active\" BOOLEAN NOT NULL DEFAULT 1, \
         CONSTRAINT \"users_name_len\" CHECK (length(\"username\") > 1 AND username <> 'x,y')); \
         INSERT INTO u2 SELECT id, username, active FROM users; DROP TABLE users; \
         ALTER TABLE u2 RENAME TO users; \
         CREATE UNIQUE INDEX users_active_lower ON users (lower(username)) WHERE active; \
         INSERT INTO users (username) VALUES ('Ann')",
    )
    .await
    .unwrap();
    assert_eq!(m.apply(None).await.unwrap().len(), 1);
    let sql = "SELECT count(*) FROM sqlite_master WHERE name = 'users' \
               AND sql LIKE '%CONSTRAINT \"users_name_len\" CHECK (length(\"username\") > 1%'";
    assert_eq!(count(&pool, sql).await, 1, "carried as written");
    for bad in ["a", "x,y"] {
        assert!(
            pool.batch_execute(&format!("INSERT INTO users (username) VALUES ('{bad}')"))
                .await
                .is_err(),
            "{bad}"
        );
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 1);
    let drift = m.check_database().await.unwrap();
    assert!(
        drift.iter().any(|x| x.starts_with(
            "CHECK constraint users_name_len on users is in the database but not in the migrations"
        )),
        "{drift:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
