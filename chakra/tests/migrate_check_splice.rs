//! A raw-SQL check constraint cannot splice statements into the DDL (issue 26, problem 8):
//! the file is refused with file:line before anything runs, on both backends, and `lint`
//! flags raw-SQL checks as not portable.

mod common;

use chakra::dsl::ValueType;
use chakra::migrate::Migrator;
use common::migrations::{migration_dir, SEED};
use common::{TestDb, BOTH};
use std::path::PathBuf;
use std::process::Command;

fn constraint(check: &str) -> String {
    format!(
        "[migration]\nid = \"0002_check\"\napp = \"users\"\ndependencies = [[\"users\", \"0001_initial\"]]\n\n\
         [[operations]]\ntype = \"AddConstraint\"\ntable = \"users\"\nname = \"users_ok\"\nkind = \"check\"\n\
         check = {check:?}\n"
    )
}

fn dir(tag: &str, second: &str) -> PathBuf {
    migration_dir(
        &format!("check_splice_{tag}"),
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_check.toml", second),
        ],
    )
}

async fn users_rows(pool: &chakra::Pool) -> i64 {
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &["SELECT count(*) FROM users"],
        vec![],
        vec![ValueType::I64],
    );
    pool.fetch_compiled(&q).await.unwrap()[0][0]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_that_ends_the_statement_is_refused_with_file_and_line() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let good = dir("seed", &constraint("id > 0"));
        Migrator::from_dir(pool.clone(), &good)
            .unwrap()
            .apply(Some("users/0001_initial"))
            .await
            .unwrap();
        pool.batch_execute("INSERT INTO users (username) VALUES ('alice')")
            .await
            .unwrap();
        for evil in [
            "1=1); DROP TABLE users; --",
            "1=1; DROP TABLE users",
            "1=1) /* x */",
        ] {
            let bad = dir("evil", &constraint(evil));
            let e = match Migrator::from_dir(pool.clone(), &bad) {
                Ok(m) => m.apply(None).await.unwrap_err().to_string(),
                Err(e) => e.to_string(),
            };
            assert!(
                e.contains("0002_check.toml:11:")
                    && e.contains("check of constraint \"users_ok\" is not one SQL expression"),
                "{d:?} {evil}: {e}"
            );
            // The CLI's sql refuses the same way, exit 1.
            let o = Command::new(env!("CARGO_BIN_EXE_chakra"))
                .args(["migrate", "sql", "--database-url", &db.url, "--dir"])
                .arg(&bad)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1));
            assert!(String::from_utf8_lossy(&o.stderr).contains("0002_check.toml:11:"));
            assert_eq!(
                users_rows(&pool).await,
                1,
                "{d:?}: the table and its row are there"
            );
            let _ = std::fs::remove_dir_all(bad);
        }
        // A real check still applies, and is enforced.
        Migrator::from_dir(pool.clone(), &good)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        assert!(pool
            .batch_execute("INSERT INTO users (id, username) VALUES (-5, 'neg')")
            .await
            .is_err());
        let _ = std::fs::remove_dir_all(good);
    }
}

#[test]
fn lint_flags_raw_sql_checks_as_not_portable() {
    let d = dir("lint", &constraint("id > 0"));
    let o = Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args(["migrate", "lint", "--dir"])
        .arg(&d)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("0002_check.toml: PT101 AddConstraint users.users_ok: check users_ok on users is raw SQL (id > 0)"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(d);
}
