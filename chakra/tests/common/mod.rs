//! Test support: a private database per test, dropped afterwards.
//!
//! PostgreSQL is found at `CHAKRA_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); the test command starts a throwaway
//! cluster when none is running. A test that cannot reach it fails: it never skips.
//! MySQL/MariaDB likewise at `CHAKRA_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/mysql`; `scripts/mariadb.sh` makes sure one answers).
#![allow(dead_code)]

pub mod fixtures;
pub mod golden;
pub mod migrations;
pub mod servers;
pub mod trace;

use chakra::{Dialect, Pool};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The admin URL of the PostgreSQL server tests use.
pub fn pg_admin_url() -> String {
    std::env::var("CHAKRA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The admin URL of the MySQL/MariaDB server tests use.
pub fn mysql_admin_url() -> String {
    std::env::var("CHAKRA_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into())
}

/// Runs `sql` on the MySQL test server as its administrator.
pub async fn mysql_admin_exec(sql: String) {
    use mysql_async::prelude::Queryable;
    let url = mysql_admin_url();
    let mut c = mysql_async::Conn::from_url(&url).await.unwrap_or_else(|e| {
        panic!(
            "MySQL/MariaDB is required for this test and is not reachable at {url}: {e}. \
             Run the README's test command, which starts one."
        )
    });
    c.query_drop(sql).await.expect("admin statement");
    let _ = c.disconnect().await;
}

/// One integer read with hand-written SQL on a MySQL connection of the test's own.
pub async fn mysql_scalar(url: &str, sql: &str) -> i64 {
    use mysql_async::prelude::Queryable;
    let mut c = mysql_async::Conn::from_url(url).await.unwrap();
    let v: Option<i64> = c.query_first(sql).await.unwrap();
    let _ = c.disconnect().await;
    v.expect("one row")
}

fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{}_{n}", std::process::id(), nanos)
}

/// A database that exists for one test.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// Backend.
    pub dialect: Dialect,
    pg_name: Option<String>,
    mysql_name: Option<String>,
    sqlite_dir: Option<std::path::PathBuf>,
}

async fn admin_exec(sql: String) {
    let (client, conn) = tokio_postgres::connect(&pg_admin_url(), tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for this test and is not reachable at {}: {e}. \
                 Run the README's test command, which starts one.",
                pg_admin_url()
            )
        });
    let h = tokio::spawn(conn);
    client.batch_execute(&sql).await.expect("admin statement");
    drop(client);
    let _ = h.await;
}

impl TestDb {
    /// A fresh PostgreSQL database.
    pub async fn postgres() -> TestDb {
        let name = unique_name("chakra_t");
        admin_exec(format!("CREATE DATABASE \"{name}\"")).await;
        let mut url = url::Url::parse(&pg_admin_url()).unwrap();
        url.set_path(&format!("/{name}"));
        TestDb {
            url: url.to_string(),
            dialect: Dialect::Postgres,
            pg_name: Some(name),
            mysql_name: None,
            sqlite_dir: None,
        }
    }

    /// A fresh PostgreSQL database reached through PgBouncer in transaction mode: the URL
    /// points at the pooler and carries `pooler=transaction`. (It is created and dropped on
    /// the server directly.)
    pub async fn pgbouncer() -> TestDb {
        let mut db = TestDb::postgres().await;
        let name = db.pg_name.clone().expect("a PostgreSQL database");
        let mut url = url::Url::parse(&pgbouncer_url()).unwrap();
        url.set_path(&format!("/{name}"));
        url.set_query(Some("pooler=transaction"));
        db.url = url.to_string();
        let probe = async {
            let (c, conn) = tokio_postgres::connect(
                &db.url.replace("?pooler=transaction", ""),
                tokio_postgres::NoTls,
            )
            .await?;
            let h = tokio::spawn(conn);
            c.simple_query("SELECT 1").await?;
            drop(c);
            let _ = h.await;
            Ok::<_, tokio_postgres::Error>(())
        };
        if let Err(e) = probe.await {
            panic!(
                "PgBouncer is required for this test and is not reachable at {}: {e}. \
                 Run the README's test command, which starts one.",
                pgbouncer_url()
            );
        }
        db
    }

    /// A fresh MySQL/MariaDB database (utf8mb4; its tables take Chakra's collation when
    /// Chakra creates them).
    pub async fn mysql() -> TestDb {
        let name = unique_name("chakra_t");
        mysql_admin_exec(format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        ))
        .await;
        let mut url = url::Url::parse(&mysql_admin_url()).unwrap();
        url.set_path(&format!("/{name}"));
        TestDb {
            url: url.to_string(),
            dialect: Dialect::Mysql,
            pg_name: None,
            mysql_name: Some(name),
            sqlite_dir: None,
        }
    }

    /// A fresh database on the given target.
    pub async fn on(t: Target) -> TestDb {
        match t {
            Target::Sqlite => TestDb::sqlite().await,
            Target::Postgres => TestDb::postgres().await,
            Target::PgBouncer => TestDb::pgbouncer().await,
            Target::Mysql => TestDb::mysql().await,
        }
    }

    /// A fresh SQLite file.
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name("chakra_sqlite"));
        std::fs::create_dir_all(&dir).unwrap();
        TestDb {
            url: format!("sqlite://{}", dir.join("test.db").display()),
            dialect: Dialect::Sqlite,
            pg_name: None,
            mysql_name: None,
            sqlite_dir: Some(dir),
        }
    }

    /// A fresh database of the given dialect.
    pub async fn new(d: Dialect) -> TestDb {
        match d {
            Dialect::Postgres => TestDb::postgres().await,
            Dialect::Sqlite => TestDb::sqlite().await,
            Dialect::Mysql => TestDb::mysql().await,
        }
    }

    /// A pool on it. On MySQL, `CHAKRA_TEST_MYSQL_FLAVOUR=mysql` runs MySQL's code paths
    /// (no `RETURNING`) against MariaDB (the URL parameter `flavour`).
    pub async fn pool(&self) -> Pool {
        let url = match std::env::var("CHAKRA_TEST_MYSQL_FLAVOUR") {
            Ok(f) if self.dialect == Dialect::Mysql && !f.is_empty() => {
                format!("{}?flavour={f}", self.url)
            }
            _ => self.url.clone(),
        };
        Pool::connect(&url).await.expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Dropped from a plain thread: Drop may run inside or outside a runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(admin_exec(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )));
            })
            .join();
        }
        if let Some(name) = self.mysql_name.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(mysql_admin_exec(format!(
                    "DROP DATABASE IF EXISTS `{name}`"
                )));
            })
            .join();
        }
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Both backends, for tests that run on each.
pub const BOTH: [Dialect; 2] = [Dialect::Sqlite, Dialect::Postgres];

/// The three backends, for tests that pass on MySQL/MariaDB too (test files move onto it
/// as they pass there).
pub const ALL3: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

/// How a test reaches its database: SQLite, PostgreSQL directly, or PostgreSQL through
/// PgBouncer in transaction mode (the pool opened with `pooler=transaction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file.
    Sqlite,
    /// PostgreSQL, direct.
    Postgres,
    /// PostgreSQL behind PgBouncer (`pool_mode = transaction`).
    PgBouncer,
    /// MySQL or MariaDB.
    Mysql,
}

impl Target {
    /// The SQL dialect behind it.
    pub fn dialect(self) -> Dialect {
        match self {
            Target::Sqlite => Dialect::Sqlite,
            Target::Postgres | Target::PgBouncer => Dialect::Postgres,
            Target::Mysql => Dialect::Mysql,
        }
    }
}

impl From<Dialect> for Target {
    fn from(d: Dialect) -> Target {
        match d {
            Dialect::Sqlite => Target::Sqlite,
            Dialect::Postgres => Target::Postgres,
            Dialect::Mysql => Target::Mysql,
        }
    }
}

/// Every target.
pub const TARGETS: [Target; 3] = [Target::Sqlite, Target::Postgres, Target::PgBouncer];

/// Every target and MySQL/MariaDB, for test files that pass there too.
pub const TARGETS_MYSQL: [Target; 4] = [
    Target::Sqlite,
    Target::Postgres,
    Target::PgBouncer,
    Target::Mysql,
];

/// The PostgreSQL targets.
pub const PG_TARGETS: [Target; 2] = [Target::Postgres, Target::PgBouncer];

/// The PgBouncer (transaction mode) in front of the test server: `CHAKRA_TEST_PGBOUNCER_URL`
/// (the test command starts one), default `postgres://postgres@127.0.0.1:6432/postgres`.
pub fn pgbouncer_url() -> String {
    std::env::var("CHAKRA_TEST_PGBOUNCER_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:6432/postgres".into())
}
