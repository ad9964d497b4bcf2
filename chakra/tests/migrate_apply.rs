//! Applying and rolling back migrations on real SQLite files, PostgreSQL and MariaDB databases.

mod common;

use chakra::migrate::{Migrator, RollbackTarget, Status};
use chakra::{Dialect, Pool};
use common::migrations::{count, SEED};
use common::{TestDb, ALL3, BOTH};
use std::path::{Path, PathBuf};

const PROFILE: &str = r#"
[migration]
id = "0002_profile"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "age"
type = "Integer"
nullable = true
index = true

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
[[operations.fields]]
name = "title"
type = "String"
max_length = 100
"#;

const AGE_REQUIRED: &str = r#"
[migration]
id = "0003_age_required"
app = "users"
dependencies = [["users", "0002_profile"]]

[[operations]]
type = "AlterField"
table = "users"
[operations.field]
name = "age"
type = "BigInteger"
default = 18
index = true

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "active"
type = "Boolean"
default = true

[[operations]]
type = "AddConstraint"
table = "users"
name = "users_age_adult"
kind = "check"
check = "age >= 0"
"#;

/// A migrations folder in a temporary directory.
struct Dir(PathBuf);

impl Dir {
    fn new(files: &[(&str, &str)]) -> Dir {
        let n = std::sync::atomic::AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "chakra_migs_{}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let d = Dir(dir);
        for (name, text) in files {
            d.write(name, text);
        }
        d
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn migrator(pool: &Pool, dir: &Dir) -> Migrator {
    Migrator::from_dir(pool.clone(), dir.path()).expect("migrations load")
}

/// The schema as the database describes it: tables, columns (type, nullability, default),
/// indexes, in a stable order.
async fn schema(pool: &Pool) -> Vec<String> {
    let sql = match pool.dialect() {
        Dialect::Sqlite => {
            "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
                .to_owned()
        }
        Dialect::Postgres => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             || ' ' || coalesce(column_default, '') FROM information_schema.columns \
             WHERE table_schema = 'public' \
             UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' \
             UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE connamespace = 'public'::regnamespace ORDER BY 1"
                .to_owned()
        }
        Dialect::Mysql => {
            "SELECT table_name || '.' || column_name || ' ' || column_type || ' ' || is_nullable \
             || ' ' || coalesce(column_default, '') FROM information_schema.columns \
             WHERE table_schema = DATABASE() \
             UNION ALL SELECT table_name || ' index ' || index_name || ' ' || seq_in_index || ' ' \
             || column_name || ' ' || non_unique FROM information_schema.statistics \
             WHERE table_schema = DATABASE() \
             UNION ALL SELECT table_name || ' ' || constraint_type || ' ' || constraint_name \
             FROM information_schema.table_constraints WHERE table_schema = DATABASE() \
             UNION ALL SELECT constraint_name || ' ' || check_clause \
             FROM information_schema.check_constraints WHERE constraint_schema = DATABASE() \
             ORDER BY 1"
                .to_owned()
        }
    };
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &[&sql],
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
async fn the_seed_applies_once_on_both_backends() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&[("users/0001_initial.toml", SEED)]);
        let m = migrator(&pool, &dir);
        let ran = m.apply(None).await.unwrap();
        assert_eq!(ran.len(), 1, "{d:?}");
        pool.batch_execute("INSERT INTO users (username) VALUES ('alice')")
            .await
            .unwrap();
        let dup = pool
            .batch_execute("INSERT INTO users (username) VALUES ('alice')")
            .await;
        assert!(dup.is_err(), "username is unique on {d:?}");
        assert!(m.apply(None).await.unwrap().is_empty(), "nothing pending");
        let status = m.status().await.unwrap();
        assert!(matches!(status[0].status, Status::Applied(_)), "{status:?}");
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migrations").await,
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_failing_halfway_changes_nothing() {
    let broken = r#"
[migration]
id = "0002_broken"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "nickname"
type = "Text"
nullable = true

[[operations]]
type = "RunSQL"
sql = "INSERT INTO no_such_table VALUES (1)"
"#;
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&[("users/0001_initial.toml", SEED)]);
        migrator(&pool, &dir).apply(None).await.unwrap();
        let before = schema(&pool).await;
        dir.write("users/0002_broken.toml", broken);
        let e = migrator(&pool, &dir)
            .apply(None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("0002_broken.toml") && e.contains("nothing of it was applied"),
            "{e}"
        );
        assert_eq!(schema(&pool).await, before, "{d:?}: schema unchanged");
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migrations").await,
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_concurrent_appliers_apply_each_migration_once() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let dir = Dir::new(&[
            ("users/0001_initial.toml", SEED),
            ("users/0002_profile.toml", PROFILE),
            ("users/0003_age_required.toml", AGE_REQUIRED),
        ]);
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let pool = db.pool().await;
            let m = migrator(&pool, &dir);
            tasks.push(tokio::spawn(async move { m.apply(None).await }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap().expect("apply").len();
        }
        assert_eq!(total, 3, "{d:?}: each migration ran exactly once");
        let pool = db.pool().await;
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migrations").await,
            3
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksums_ignore_line_endings_and_catch_edits() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&[("users/0001_initial.toml", SEED)]);
        migrator(&pool, &dir).apply(None).await.unwrap();
        dir.write(
            "users/0001_initial.toml",
            &format!("\u{feff}{}", SEED.replace('\n', "\r\n")),
        );
        assert!(migrator(&pool, &dir).apply(None).await.unwrap().is_empty());
        dir.write(
            "users/0001_initial.toml",
            &SEED.replace("max_length = 50", "max_length = 60"),
        );
        let e = migrator(&pool, &dir)
            .apply(None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("users/0001_initial.toml") && e.contains("edited after it was applied"),
            "{e}"
        );
        let status = migrator(&pool, &dir).status().await.unwrap();
        assert!(matches!(status[0].status, Status::Changed(_)));
        std::fs::remove_file(dir.path().join("users/0001_initial.toml")).unwrap();
        let e = migrator(&pool, &dir)
            .apply(None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("users/0001_initial is recorded as applied but no file has it"),
            "{e}"
        );
        let mut tolerant = migrator(&pool, &dir);
        tolerant.ignore_missing = true;
        assert!(tolerant.apply(None).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_down_up_keeps_rows_and_schema() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&[
            ("users/0001_initial.toml", SEED),
            ("users/0002_profile.toml", PROFILE),
            ("users/0003_age_required.toml", AGE_REQUIRED),
        ]);
        let m = migrator(&pool, &dir);
        m.apply(Some("0002_profile")).await.unwrap();
        let at_two = schema(&pool).await;
        pool.batch_execute(
            "INSERT INTO users (username, age) VALUES ('alice', NULL), ('bob', 40); \
             INSERT INTO posts (author_id, title) VALUES (1, 'hello'), (2, 'world')",
        )
        .await
        .unwrap();
        // AlterField + AddConstraint: a table rebuild on SQLite, with posts referencing users.
        assert_eq!(m.apply(None).await.unwrap().len(), 1);
        assert_eq!(
            count(
                &pool,
                "SELECT count(*) FROM users WHERE age = 18 AND active"
            )
            .await,
            1
        );
        assert_eq!(count(&pool, "SELECT count(*) FROM posts").await, 2);
        let at_three = schema(&pool).await;
        let back = m.rollback(&RollbackTarget::Steps(1)).await.unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(
            schema(&pool).await,
            at_two,
            "{d:?}: down restores the schema"
        );
        assert_eq!(count(&pool, "SELECT count(*) FROM posts").await, 2);
        m.apply(None).await.unwrap();
        assert_eq!(
            schema(&pool).await,
            at_three,
            "{d:?}: up again gives the same schema"
        );
        m.rollback(&RollbackTarget::To("0001_initial".into()))
            .await
            .unwrap();
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migrations").await,
            1
        );
        assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn irreversible_operations_refuse_to_roll_back() {
    let data = r#"
[migration]
id = "0002_data"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "RunSQL"
sql = "INSERT INTO users (username) VALUES ('root')"
"#;
    let db = TestDb::sqlite().await;
    let pool = db.pool().await;
    let dir = Dir::new(&[
        ("users/0001_initial.toml", SEED),
        ("users/0002_data.toml", data),
    ]);
    let m = migrator(&pool, &dir);
    m.apply(None).await.unwrap();
    let e = m
        .rollback(&RollbackTarget::Steps(1))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("0002_data.toml") && e.contains("RunSQL: is irreversible"),
        "{e}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM chakra_migrations").await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_shows_what_apply_runs() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&[
            ("users/0001_initial.toml", SEED),
            ("users/0002_profile.toml", PROFILE),
        ]);
        let m = migrator(&pool, &dir);
        let planned = m.plan_apply(None).await.unwrap();
        let ran = m.apply(None).await.unwrap();
        assert_eq!(planned, ran, "{d:?}");
        let script = planned[0].script(d);
        if d == Dialect::Mysql {
            // DDL commits by itself: no transaction around it, each statement recorded.
            let mut want = vec!["SET SESSION lock_wait_timeout = 5".to_owned()];
            want.extend(planned[0].plan.statements.iter().cloned());
            assert_eq!(script, want);
            assert!(!planned[0].atomic);
            continue;
        }
        let begin = match d {
            Dialect::Postgres => {
                assert_eq!(script[0], "SET lock_timeout = 5000", "{script:?}");
                &script[1]
            }
            Dialect::Sqlite => &script[0],
            Dialect::Mysql => unreachable!("returned above"),
        };
        assert_eq!(
            begin,
            match d {
                Dialect::Postgres => "BEGIN",
                Dialect::Sqlite => "BEGIN IMMEDIATE",
                Dialect::Mysql => unreachable!("returned above"),
            }
        );
        assert_eq!(script.last().map(String::as_str), Some("COMMIT"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_lock_times_out_naming_its_holder() {
    let db = TestDb::postgres().await;
    let pool = db.pool().await;
    let mut holder = pool.acquire().await.unwrap();
    chakra::dialect::migrate::lock(&mut holder, std::time::Duration::from_secs(1), &|_| {})
        .await
        .unwrap();
    let dir = Dir::new(&[("users/0001_initial.toml", SEED)]);
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = heard.clone();
    let mut m = migrator(&pool, &dir).on_message(move |s| sink.lock().unwrap().push(s.into()));
    m.lock_timeout = std::time::Duration::from_millis(600);
    let e = m.apply(None).await.unwrap_err().to_string();
    assert!(
        e.contains("could not take the migration lock") && e.contains("held by session pid"),
        "{e}"
    );
    assert!(heard.lock().unwrap()[0].starts_with("waiting for the migration lock"));
    chakra::dialect::migrate::unlock(&mut holder).await.unwrap();
    drop(holder);
    assert_eq!(m.apply(None).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_null_columns_with_defaults_keep_every_row() {
    let add = r#"
[migration]
id = "0002_flags"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "score"
type = "Integer"
default = 7

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "joined"
type = "DateTime"
default = "now()"

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "email"
type = "String"
max_length = 100
nullable = true
unique = true
"#;
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&[("users/0001_initial.toml", SEED)]);
        let m = migrator(&pool, &dir);
        m.apply(None).await.unwrap();
        pool.batch_execute("INSERT INTO users (username) VALUES ('a'), ('b'), ('c')")
            .await
            .unwrap();
        dir.write("users/0002_flags.toml", add);
        let m = migrator(&pool, &dir);
        let steps = m.apply(None).await.unwrap();
        // On SQLite a now() default and a UNIQUE column need the rebuild.
        assert_eq!(
            steps[0].plan.foreign_keys_off,
            d == Dialect::Sqlite,
            "{d:?}"
        );
        assert_eq!(
            count(
                &pool,
                "SELECT count(*) FROM users WHERE score = 7 AND joined IS NOT NULL AND email IS NULL"
            )
            .await,
            3,
            "{d:?}"
        );
        pool.batch_execute("UPDATE users SET email = 'x@y' WHERE username = 'a'")
            .await
            .unwrap();
        assert!(pool
            .batch_execute("UPDATE users SET email = 'x@y' WHERE username = 'b'")
            .await
            .is_err());
        m.rollback(&RollbackTarget::Steps(1)).await.unwrap();
        assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_atomic_migration_resumes_where_it_failed() {
    let steps = r#"
[migration]
id = "0002_steps"
app = "users"
dependencies = [["users", "0001_initial"]]
atomic = false

[[operations]]
type = "RunSQL"
sql = "CREATE TABLE step_one (x INTEGER)"
reverse_sql = "DROP TABLE step_one"

[[operations]]
type = "RunSQL"
sql = "INSERT INTO needed (x) VALUES (1)"
reverse_sql = "DELETE FROM needed"
"#;
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = Dir::new(&[
            ("users/0001_initial.toml", SEED),
            ("users/0002_steps.toml", steps),
        ]);
        let m = migrator(&pool, &dir);
        let e = m.apply(None).await.unwrap_err().to_string();
        assert!(e.contains("it is not atomic"), "{e}");
        assert_eq!(
            count(&pool, "SELECT count(*) FROM step_one").await,
            0,
            "statement 1 stayed"
        );
        pool.batch_execute("CREATE TABLE needed (x INTEGER)")
            .await
            .unwrap();
        // Resumes at statement 2: repeating CREATE TABLE step_one would fail.
        assert_eq!(m.apply(None).await.unwrap().len(), 1, "{d:?}");
        assert_eq!(count(&pool, "SELECT count(*) FROM needed").await, 1);
        assert_eq!(
            count(&pool, "SELECT count(*) FROM chakra_migration_progress").await,
            0
        );
        m.rollback(&RollbackTarget::Steps(1)).await.unwrap();
        assert_eq!(count(&pool, "SELECT count(*) FROM needed").await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_mysql_lock_times_out_naming_its_holder() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    let mut holder = pool.acquire().await.unwrap();
    chakra::dialect::migrate::lock(&mut holder, std::time::Duration::from_secs(1), &|_| {})
        .await
        .unwrap();
    let dir = Dir::new(&[("users/0001_initial.toml", SEED)]);
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = heard.clone();
    let mut m = migrator(&pool, &dir).on_message(move |s| sink.lock().unwrap().push(s.into()));
    m.lock_timeout = std::time::Duration::from_millis(600);
    let e = m.apply(None).await.unwrap_err().to_string();
    assert!(
        e.contains("could not take the migration lock") && e.contains("held by connection"),
        "{e}"
    );
    assert!(heard.lock().unwrap()[0].starts_with("waiting for the migration lock"));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'users'").await,
        0,
        "nothing ran without the lock"
    );
    chakra::dialect::migrate::unlock(&mut holder).await.unwrap();
    drop(holder);
    assert_eq!(m.apply(None).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_mysql_migration_keeps_its_committed_statements_and_resumes() {
    let broken = r#"
[migration]
id = "0002_broken"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "nickname"
type = "Text"
nullable = true

[[operations]]
type = "RunSQL"
sql = "INSERT INTO needed (x) VALUES (1)"
reverse_sql = "DELETE FROM needed"
"#;
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    let dir = Dir::new(&[("users/0001_initial.toml", SEED)]);
    migrator(&pool, &dir).apply(None).await.unwrap();
    dir.write("users/0002_broken.toml", broken);
    let m = migrator(&pool, &dir);
    let e = m.apply(None).await.unwrap_err().to_string();
    assert!(
        e.contains("0002_broken.toml") && e.contains("stay applied"),
        "{e}"
    );
    // MySQL's DDL committed: the column is there, and the step is recorded part-way.
    assert_eq!(
        count(&pool, "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'users' AND column_name = 'nickname'").await,
        1
    );
    let status = m.status().await.unwrap();
    assert!(
        matches!(
            status[1].status,
            Status::PartlyApplied { done: 1, total: 2 }
        ),
        "{status:?}"
    );
    pool.batch_execute("CREATE TABLE needed (x INTEGER)")
        .await
        .unwrap();
    // Resumes at the INSERT: adding the column again would fail.
    assert_eq!(m.apply(None).await.unwrap().len(), 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM needed").await, 1);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM chakra_migrations").await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mysql_table_lock_times_out_naming_the_open_transaction() {
    let bio = r#"
[migration]
id = "0002_bio"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "bio"
type = "Text"
nullable = true
"#;
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    let dir = Dir::new(&[("users/0001_initial.toml", SEED)]);
    migrator(&pool, &dir).apply(None).await.unwrap();
    dir.write("users/0002_bio.toml", bio);
    // Another session reads users in a transaction it keeps open: its metadata lock on
    // users stays until it ends.
    let mut holder = pool.acquire().await.unwrap();
    holder
        .batch_execute("START TRANSACTION; SELECT count(*) FROM users")
        .await
        .unwrap();
    let mut m = migrator(&pool, &dir);
    m.ddl_lock_timeout = std::time::Duration::from_secs(1);
    let e = m.apply(None).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, chakra::Error::LockTimeout(_)), "{text}");
    assert!(
        text.contains("table \"users\" is held by pid")
            && text.contains("open transaction")
            && text.contains("retryable"),
        "{text}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name = 'bio'").await,
        0
    );
    holder.batch_execute("COMMIT").await.unwrap();
    drop(holder);
    assert_eq!(m.apply(None).await.unwrap().len(), 1);
}
