//! Runs the documentation's Rust code blocks, so the docs cannot rot.
//!
//! `build.rs` reads every page of `docs/` and writes, for each page with Rust blocks, one
//! async function holding the page's blocks in order (one scope: a later block uses what an
//! earlier one defined, as a reader would) and one test that runs it on a fresh SQLite file,
//! a fresh PostgreSQL database and a fresh MySQL/MariaDB database, each holding the
//! [`models`] and [`sample_data`]. A block that cannot run on MySQL/MariaDB says so on the
//! line before it, with the reason: `<!-- docs-check: not on mysql: why -->` (hidden on the
//! site); the MySQL run leaves it out (a second function, compiled when a page has such a
//! block).
//! Lines starting with `# ` inside a Rust block are part of the example as run but hidden
//! on the site (rustdoc's convention; `docs-check/hooks.py` strips them for mkdocs).
//!
//! In a block, `pool` is a [`chakra::Pool`] on the page's database and `database_url` its
//! URL. The Python blocks run the same way (`python-ext/tests/test_docs.py`).

pub mod models;

use chakra::prelude::*;
use chakra::Pool;
use futures_util::FutureExt;
use models::*;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a page's examples use without importing it.
pub mod prelude {
    pub use crate::models::*;
    pub use bigdecimal::BigDecimal;
    pub use chakra::prelude::*;
    pub use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    pub use serde_json::json;
}

/// Any error an example can end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The PostgreSQL server the test command runs (`CHAKRA_TEST_PG_URL`).
pub fn pg_admin_url() -> String {
    std::env::var("CHAKRA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The MySQL/MariaDB server the test command runs (`CHAKRA_TEST_MYSQL_URL`).
pub fn mysql_admin_url() -> String {
    std::env::var("CHAKRA_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into())
}

/// Runs an admin statement on the MySQL/MariaDB server.
async fn mysql_admin_exec(sql: String) {
    let pool = Pool::connect(&mysql_admin_url()).await.unwrap_or_else(|e| {
        panic!(
            "MySQL/MariaDB is required and not reachable at {}: {e}; \
             the README's test command starts one",
            mysql_admin_url()
        )
    });
    pool.batch_execute(&sql).await.expect("admin statement");
}

/// The URL `admin` with its database replaced by `name` (query parameters kept).
fn with_database(admin: &str, name: &str) -> String {
    let (url, query) = admin
        .split_once('?')
        .map_or((admin, None), |(u, q)| (u, Some(q)));
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}", std::process::id())
}

async fn admin_exec(sql: String) {
    let (client, conn) = tokio_postgres::connect(&pg_admin_url(), tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required and not reachable at {}: {e}; \
                 the README's test command starts one",
                pg_admin_url()
            )
        });
    let h = tokio::spawn(conn);
    client.batch_execute(&sql).await.expect("admin statement");
    drop(client);
    let _ = h.await;
}

/// A database made for one page's run; dropped (PostgreSQL, MySQL) or deleted (SQLite)
/// after it.
pub struct PageDb {
    /// Its URL.
    pub url: String,
    pg_name: Option<String>,
    mysql_name: Option<String>,
    dir: Option<std::path::PathBuf>,
}

impl PageDb {
    async fn new(backend: &str) -> PageDb {
        if backend == "sqlite" {
            let dir = std::env::temp_dir().join(unique_name("chakra_docs"));
            std::fs::create_dir_all(&dir).unwrap();
            return PageDb {
                url: format!("sqlite://{}", dir.join("docs.db").display()),
                pg_name: None,
                mysql_name: None,
                dir: Some(dir),
            };
        }
        if backend == "mysql" {
            let name = unique_name("chakra_docs");
            mysql_admin_exec(format!("CREATE DATABASE \"{name}\" CHARACTER SET utf8mb4")).await;
            return PageDb {
                url: with_database(&mysql_admin_url(), &name),
                pg_name: None,
                mysql_name: Some(name),
                dir: None,
            };
        }
        let name = unique_name("chakra_docs");
        admin_exec(format!("CREATE DATABASE \"{name}\"")).await;
        let admin = pg_admin_url();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        PageDb {
            url: format!("{base}/{name}"),
            pg_name: Some(name),
            mysql_name: None,
            dir: None,
        }
    }

    async fn drop_now(mut self) {
        if let Some(name) = self.pg_name.take() {
            admin_exec(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        }
        if let Some(name) = self.mysql_name.take() {
            mysql_admin_exec(format!("DROP DATABASE IF EXISTS \"{name}\"")).await;
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2026, 11, 1, h, m, 0).unwrap()
}

fn user(name: &str, balance: i64, active: bool) -> User {
    User {
        username: name.into(),
        email: format!("{name}@example.com"),
        balance,
        is_active: active,
        ..Default::default()
    }
}

/// The tables of [`models`] and the rows every page starts with, the same as the Python
/// side's (`python-ext/tests/docs_models.py`):
/// - users alice (balance 500), bob (100), anna (inactive), arthur: ids 1 to 4;
/// - alice's profile; posts "Hello" and "Second post" by alice, "Bob's post" by bob,
///   edited by alice; tags rust and python, both on "Hello";
/// - accounts de 12.50, de 7.00, fr 1500.00, fr 3.25 (closed);
/// - things apple, fig, kiwi with JSON and tags; readings of sensors s1 (two) and s2;
///   member ann@example.com.
pub async fn sample_data(pool: &Pool) -> chakra::Result<()> {
    chakra::schema::create_tables(
        pool,
        &[
            User::meta(),
            Profile::meta(),
            Post::meta(),
            Tag::meta(),
            Account::meta(),
            Thing::meta(),
            Reading::meta(),
            Member::meta(),
        ],
        false,
    )
    .await?;
    let mut users = vec![
        user("alice", 500, true),
        user("bob", 100, true),
        user("anna", 0, false),
        user("arthur", 0, true),
    ];
    User::insert_many(pool, &mut users).await?;
    let mut profile = Profile {
        user_id: users[0].id,
        bio: "Rustacean".into(),
        ..Default::default()
    };
    profile.save(pool).await?;
    let post = |author: i64, editor: Option<i64>, title: &str| Post {
        author_id: author,
        editor_id: editor,
        title: title.into(),
        ..Default::default()
    };
    let mut posts = vec![
        post(users[0].id, None, "Hello"),
        post(users[0].id, None, "Second post"),
        post(users[1].id, Some(users[0].id), "Bob's post"),
    ];
    Post::insert_many(pool, &mut posts).await?;
    let mut tags = vec![
        Tag {
            name: "rust".into(),
            ..Default::default()
        },
        Tag {
            name: "python".into(),
            ..Default::default()
        },
    ];
    Tag::insert_many(pool, &mut tags).await?;
    for t in &tags {
        chakra::raw_execute("INSERT INTO post_tags (post_id, tag_id) VALUES ($1, $2)")
            .bind(posts[0].id)
            .bind(t.id)
            .execute(pool)
            .await?;
    }
    let account = |country: &str, balance: &str, active: bool, opened| Account {
        country: country.into(),
        balance: balance.parse().unwrap(),
        active,
        opened,
        ..Default::default()
    };
    let mut accounts = vec![
        account("de", "12.50", true, day(2024, 1, 5)),
        account("de", "7.00", true, day(2024, 3, 1)),
        account("fr", "1500.00", true, day(2024, 2, 10)),
        account("fr", "3.25", false, day(2023, 12, 24)),
    ];
    Account::insert_many(pool, &mut accounts).await?;
    // MySQL/MariaDB has no array columns (refused by name, docs/mysql.md): no things there,
    // whose tags are an array; the blocks using them are marked `not on mysql`.
    if pool.dialect() != chakra::Dialect::Mysql {
        sample_things(pool).await?;
    }
    let reading = |sensor: &str, taken_at, value| Reading {
        sensor: sensor.into(),
        taken_at,
        value,
        ..Default::default()
    };
    let mut readings = vec![
        reading("s1", at(10, 0), 20.5),
        reading("s1", at(11, 0), 21.0),
        reading("s2", at(10, 30), 18.25),
    ];
    Reading::insert_many(pool, &mut readings).await?;
    let mut member = Member {
        email: "ann@example.com".into(),
        name: "Ann".into(),
        visits: 1,
        ..Default::default()
    };
    member.save(pool).await?;
    Ok(())
}

/// The things apple, fig and kiwi, with JSON and tags.
async fn sample_things(pool: &Pool) -> chakra::Result<()> {
    let thing = |name: &str, nick: Option<&str>, n, data, tags: &[&str]| Thing {
        name: name.into(),
        nick: nick.map(Into::into),
        n,
        data,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    let mut things = vec![
        thing(
            "apple",
            None,
            Some(12),
            serde_json::json!({"plan": "pro", "n": 1, "a": {"b": 3}, "tags": ["x", "y"]}),
            &["a", "b"],
        ),
        thing(
            "fig",
            Some("f"),
            Some(3),
            serde_json::json!({"plan": "free", "nul": null}),
            &["a"],
        ),
        thing("kiwi", None, Some(10), serde_json::json!({}), &[]),
    ];
    Thing::insert_many(pool, &mut things).await?;
    Ok(())
}

/// Runs one page's examples (`run(pool, database_url)`) on a fresh SQLite file and on a
/// fresh PostgreSQL database, and `run_mysql` (the page without the blocks marked `<!--
/// docs-check: not on mysql: why -->`) on a fresh MySQL/MariaDB database, each with the
/// sample data; panics naming the page and the backend when an example fails. Each
/// database is dropped after its run, also when the run fails or panics.
pub fn run_page<F, Fut, G, GFut>(page: &str, run: F, run_mysql: G)
where
    F: Fn(Pool, String) -> Fut,
    Fut: Future<Output = Result<(), BoxError>>,
    G: Fn(Pool, String) -> GFut,
    GFut: Future<Output = Result<(), BoxError>>,
{
    // Examples name files relative to the repository (`migrations/`, `target/`).
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in ["sqlite", "postgres", "mysql"] {
        rt.block_on(async {
            let db = PageDb::new(backend).await;
            // Whatever the page does (an example that panics, sample data that fails), its
            // database is dropped before the failure is reported: a failing page leaves none
            // behind.
            let out = AssertUnwindSafe(async {
                let pool = Pool::connect(&db.url).await.expect("connect");
                sample_data(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("sample data on {backend}: {e}"));
                if backend == "mysql" {
                    run_mysql(pool.clone(), db.url.clone()).await
                } else {
                    run(pool.clone(), db.url.clone()).await
                }
            })
            .catch_unwind()
            .await;
            db.drop_now().await;
            match out {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("docs/{page} on {backend}: an example failed: {e}"),
                Err(panic) => {
                    eprintln!("docs/{page} on {backend}: an example panicked");
                    std::panic::resume_unwind(panic)
                }
            }
        });
    }
}
