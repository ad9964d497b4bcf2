//! Type changes are checked against the data before they run (issue 26, problem 2): a
//! narrowing or conversion that would change or fail on existing values is refused with the
//! row count and an example value, on both backends, unless the AlterField says lossy = true.

mod common;

use chakra::dsl::ValueType;
use chakra::migrate::{Migrator, RollbackTarget};
use chakra::Pool;
use common::migrations::{migration_dir, SEED};
use common::{TestDb, BOTH};
use std::path::{Path, PathBuf};

fn alter(id: &str, dep: &str, field: &str, lossy: bool) -> String {
    format!(
        "[migration]\nid = \"{id}\"\napp = \"users\"\ndependencies = [[\"users\", \"{dep}\"]]\n\n\
         [[operations]]\ntype = \"AlterField\"\ntable = \"users\"\n{}[operations.field]\n{field}\n",
        if lossy { "lossy = true\n" } else { "" }
    )
}

fn add_note() -> String {
    "[migration]\nid = \"0002_note\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\n\
     [[operations]]\ntype = \"AddField\"\ntable = \"users\"\n[operations.field]\nname = \"note\"\ntype = \"Text\"\nnullable = true\n"
        .to_owned()
}

fn dir() -> PathBuf {
    migration_dir(
        "type_checks",
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_note.toml", &add_note()),
        ],
    )
}

fn put(dir: &Path, id: &str, text: &str) {
    std::fs::write(dir.join(format!("users/{id}.toml")), text).unwrap();
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

async fn applied(pool: &Pool) -> usize {
    texts(pool, "SELECT id FROM chakra_migrations").await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowing_string_is_refused_with_count_and_example() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        pool.batch_execute("INSERT INTO users (username) VALUES ('alice'), ('bo'), ('carol')")
            .await
            .unwrap();
        let short = "name = \"username\"\ntype = \"String\"\nmax_length = 3\nunique = true";
        put(
            &dir,
            "0003_short",
            &alter("0003_short", "0002_note", short, false),
        );
        let e = Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("users.username: changing String(50) to String(3) would change or fail on 2 row(s), for example \"")
                && (e.contains("\"alice\"") || e.contains("\"carol\""))
                && e.contains("0003_short.toml"),
            "{d:?}: {e}"
        );
        assert_eq!(
            texts(&pool, "SELECT username FROM users ORDER BY username").await,
            ["alice", "bo", "carol"],
            "{d:?}: nothing changed"
        );
        assert_eq!(applied(&pool).await, 2);
        // Widening is never refused, and rolling it back is checked too.
        let long = "name = \"username\"\ntype = \"String\"\nmax_length = 120\nunique = true";
        put(
            &dir,
            "0003_short",
            &alter("0003_short", "0002_note", long, false),
        );
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        assert_eq!(m.apply(None).await.unwrap().len(), 1, "{d:?}");
        pool.batch_execute(&format!(
            "INSERT INTO users (username) VALUES ('{}')",
            "x".repeat(80)
        ))
        .await
        .unwrap();
        let e = m
            .rollback(&RollbackTarget::Steps(1))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("changing String(120) back to String(50) would change or fail on 1 row(s)"),
            "{d:?}: {e}"
        );
        assert_eq!(applied(&pool).await, 3);
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_to_integer_is_checked_and_lossy_runs_anyway() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        pool.batch_execute(
            "INSERT INTO users (username, note) VALUES ('a', '42'), ('b', 'a@x'), ('c', NULL), ('d', ' 7 ')",
        )
        .await
        .unwrap();
        let to_int = "name = \"note\"\ntype = \"Integer\"\nnullable = true";
        put(
            &dir,
            "0003_int",
            &alter("0003_int", "0002_note", to_int, false),
        );
        let e = Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("users.note: changing Text to Integer would change or fail on 1 row(s), for example \"a@x\""),
            "{d:?}: {e}"
        );
        assert_eq!(applied(&pool).await, 2);
        // Fixed in the data: it applies and every value reads back as a number.
        pool.batch_execute("UPDATE users SET note = '-3' WHERE username = 'b'")
            .await
            .unwrap();
        Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        let q = chakra::migrate::history::raw(
            d,
            &["SELECT sum(note) FROM users"],
            vec![],
            vec![ValueType::I64],
        );
        assert_eq!(
            pool.fetch_compiled(&q).await.unwrap()[0][0].as_i64(),
            Some(46)
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lossy_true_skips_the_check_and_lint_reports_it() {
    let db = TestDb::postgres().await;
    let pool = db.pool().await;
    let dir = dir();
    Migrator::from_dir(pool.clone(), &dir)
        .unwrap()
        .apply(None)
        .await
        .unwrap();
    pool.batch_execute("INSERT INTO users (username) VALUES ('alice')")
        .await
        .unwrap();
    let short = "name = \"username\"\ntype = \"String\"\nmax_length = 3\nunique = true";
    put(
        &dir,
        "0003_short",
        &alter("0003_short", "0002_note", short, true),
    );
    Migrator::from_dir(pool.clone(), &dir)
        .unwrap()
        .apply(None)
        .await
        .unwrap();
    assert_eq!(texts(&pool, "SELECT username FROM users").await, ["ali"]);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args(["migrate", "lint", "users/0003_short", "--dir"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("DT102") && out.contains("lossy = true"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn using_says_how_values_convert_on_both_backends() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        pool.batch_execute(
            "INSERT INTO users (username, note) VALUES ('a', '1,000'), ('b', '25'), ('c', NULL)",
        )
        .await
        .unwrap();
        let to_int = "name = \"note\"\ntype = \"Integer\"\nnullable = true";
        put(
            &dir,
            "0003_int",
            &alter("0003_int", "0002_note", to_int, false),
        );
        let e = Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("for example \"1,000\""), "{d:?}: {e}");
        let with_using = alter("0003_int", "0002_note", to_int, false).replace(
            "[operations.field]",
            "using = \"CAST(replace(note, ',', '') AS INTEGER)\"\n[operations.field]",
        );
        put(&dir, "0003_int", &with_using);
        Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        let q = chakra::migrate::history::raw(
            d,
            &["SELECT sum(note) FROM users"],
            vec![],
            vec![ValueType::I64],
        );
        assert_eq!(
            pool.fetch_compiled(&q).await.unwrap()[0][0].as_i64(),
            Some(1025),
            "{d:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
    // What a using gives is checked against the new type: text that is not an integer is
    // refused (SQLite would keep it in the INTEGER column), named, on both backends.
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        m.apply(None).await.unwrap();
        pool.batch_execute(
            "INSERT INTO users (username, note) VALUES ('a', ' 12 '), ('b', 'n/a'), ('c', NULL)",
        )
        .await
        .unwrap();
        let to_int = "name = \"note\"\ntype = \"Integer\"\nnullable = true";
        let with_using = |u: &str| {
            alter("0003_int", "0002_note", to_int, false).replace(
                "[operations.field]",
                &format!("using = \"{u}\"\n[operations.field]"),
            )
        };
        put(&dir, "0003_int", &with_using("trim(note)"));
        let e = Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("using trim(note) would change or fail on 1 row(s), for example \"n/a\""),
            "{d:?}: {e}"
        );
        assert_eq!(applied(&pool).await, 2, "{d:?}: nothing of it ran");
        // An explicit conversion is the migration's own decision.
        put(
            &dir,
            "0003_int",
            &with_using(
                "CASE WHEN trim(note) = 'n/a' THEN NULL ELSE CAST(trim(note) AS INTEGER) END",
            ),
        );
        Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        assert_eq!(
            texts(
                &pool,
                "SELECT CAST(note AS TEXT) FROM users WHERE note IS NOT NULL"
            )
            .await,
            ["12"],
            "{d:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
    // A using that is not one expression is refused when the file is read.
    let bad = alter(
        "0003_int",
        "0002_note",
        "name = \"note\"\ntype = \"Integer\"",
        false,
    )
    .replace(
        "[operations.field]",
        "using = \"1); DROP TABLE users; --\"\n[operations.field]",
    );
    let e = chakra::migrate::parse_migration(&bad, "users/0003_int.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("using is not one SQL expression"), "{e}");
}
