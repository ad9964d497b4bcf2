//! SQLite statements run inline on the polling thread and wait for another connection's lock
//! asynchronously: on a single-threaded runtime a writer waiting for the lock does not stop
//! the lock holder from finishing; a lock held past the busy timeout is `LockTimeout`; the
//! durability settings reach every connection; bad values are refused.

mod common;

use chakra::dsl::*;
use chakra::exec::sqlite_setup::{JournalMode, Synchronous};
use chakra::sql::CompiledQuery;
use chakra::{Dialect, Error, Pool, PoolOptions};
use common::TestDb;
use std::time::Duration;

async fn accounts(url: &str, opts: PoolOptions) -> Pool {
    let pool = Pool::connect_with(url, opts).await.unwrap();
    pool.batch_execute(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL); \
         INSERT INTO accounts VALUES (1, 100), (2, 100)",
    )
    .await
    .unwrap();
    pool
}

fn set_balance(id: i64, balance: i64) -> Statement {
    Statement::Update(Update {
        enum_types: Default::default(),
        table: "accounts".into(),
        sets: vec![("balance".into(), Expr::val(balance))],
        filter: Some(Expr::col("accounts", "id", ValueType::I64).eq(Expr::val(id))),
        returning: vec![],
    })
}

fn balance(id: i64) -> Statement {
    Statement::Select(
        Select::from(Source::table("accounts"))
            .column(
                Expr::col("accounts", "balance", ValueType::I64),
                ValueType::I64,
            )
            .filter(Expr::col("accounts", "id", ValueType::I64).eq(Expr::val(id))),
    )
}

/// A raw SQLite statement returning one integer column.
fn raw_int(sql: &str) -> CompiledQuery {
    CompiledQuery {
        dialect: Dialect::Sqlite,
        parts: vec![sql.to_owned()].into(),
        binds: vec![],
        cacheable: false,
        output: vec![ValueType::I64].into(),
    }
}

fn raw_text(sql: &str) -> CompiledQuery {
    CompiledQuery {
        output: vec![ValueType::Text].into(),
        ..raw_int(sql)
    }
}

/// One connection holds the write lock (`BEGIN IMMEDIATE`, a write, then it waits); a write
/// on another connection of the same single-threaded runtime waits for it and succeeds once
/// the first commits. With a blocking busy wait this would deadlock until the timeout.
#[tokio::test(flavor = "current_thread")]
async fn a_waiting_writer_does_not_stop_the_lock_holder_on_one_thread() {
    let db = TestDb::sqlite().await;
    let pool = accounts(
        &db.url,
        PoolOptions {
            max_size: 4,
            statement_timeout: Some(Duration::from_secs(10)),
            ..PoolOptions::default()
        },
    )
    .await;
    let mut holder = pool.begin().await.unwrap();
    holder.execute(&set_balance(1, 1)).await.unwrap();

    let started = std::time::Instant::now();
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.execute(&set_balance(2, 2)).await })
    };
    let other_tx = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut t = pool.begin().await?;
            t.execute(&set_balance(1, 3)).await?;
            t.commit().await
        })
    };
    // The holder keeps the lock across awaits while the others wait on the same thread.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished() && !other_tx.is_finished());
    holder.execute(&set_balance(1, 10)).await.unwrap();
    holder.commit().await.unwrap();

    assert_eq!(waiter.await.unwrap().unwrap(), 1);
    other_tx.await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        pool.fetch(&balance(2)).await.unwrap(),
        vec![vec![Value::I64(2)]]
    );
    assert_eq!(
        pool.fetch(&balance(1)).await.unwrap(),
        vec![vec![Value::I64(3)]]
    );
}

/// A lock held beyond the busy timeout: the waiting write, and the waiting `BEGIN`, fail
/// with `LockTimeout` (retryable), and nothing of them took effect.
#[tokio::test(flavor = "current_thread")]
async fn a_lock_held_beyond_the_busy_timeout_is_a_lock_timeout() {
    let db = TestDb::sqlite().await;
    let pool = accounts(
        &db.url,
        PoolOptions {
            statement_timeout: Some(Duration::from_millis(100)),
            ..PoolOptions::default()
        },
    )
    .await;
    let mut holder = pool.begin().await.unwrap();
    holder.execute(&set_balance(1, 1)).await.unwrap();
    let started = std::time::Instant::now();
    let e = pool.execute(&set_balance(2, 2)).await.unwrap_err();
    assert!(matches!(e, Error::LockTimeout(_)), "{e}");
    assert!(e.retryable());
    assert!(started.elapsed() >= Duration::from_millis(100));
    let e = pool.begin().await.unwrap_err();
    assert!(matches!(e, Error::LockTimeout(_)), "{e}");
    holder.commit().await.unwrap();
    assert_eq!(
        pool.fetch(&balance(2)).await.unwrap(),
        vec![vec![Value::I64(100)]]
    );
    // The connections that timed out work again.
    pool.execute(&set_balance(2, 5)).await.unwrap();
}

/// Reads go on while another connection holds the write lock (WAL).
#[tokio::test(flavor = "current_thread")]
async fn reads_do_not_wait_for_the_writer() {
    let db = TestDb::sqlite().await;
    let pool = accounts(
        &db.url,
        PoolOptions {
            statement_timeout: Some(Duration::from_millis(100)),
            ..PoolOptions::default()
        },
    )
    .await;
    let mut holder = pool.begin().await.unwrap();
    holder.execute(&set_balance(1, 1)).await.unwrap();
    assert_eq!(
        pool.fetch(&balance(1)).await.unwrap(),
        vec![vec![Value::I64(100)]]
    );
    holder.rollback().await.unwrap();
}

async fn pragmas(pool: &Pool) -> (String, i64, i64) {
    let mut c = pool.acquire().await.unwrap();
    let j = c.fetch(&raw_text("PRAGMA journal_mode")).await.unwrap();
    let s = c.fetch(&raw_int("PRAGMA synchronous")).await.unwrap();
    let b = c.fetch(&raw_int("PRAGMA busy_timeout")).await.unwrap();
    let text = |v: &Value| match v {
        Value::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    };
    let int = |v: &Value| match v {
        Value::I64(n) => *n,
        other => panic!("{other:?}"),
    };
    (text(&j[0][0]), int(&s[0][0]), int(&b[0][0]))
}

#[tokio::test]
async fn durability_defaults_to_wal_and_normal() {
    let db = TestDb::sqlite().await;
    let pool = Pool::connect(&db.url).await.unwrap();
    // busy_timeout 0: SQLite never blocks the thread; Chakra waits asynchronously.
    assert_eq!(pragmas(&pool).await, ("wal".into(), 1, 0));
}

#[tokio::test]
async fn durability_url_parameters_take_effect() {
    let db = TestDb::sqlite().await;
    let pool = Pool::connect(&format!("{}?synchronous=FULL&journal_mode=DELETE", db.url))
        .await
        .unwrap();
    assert_eq!(pragmas(&pool).await, ("delete".into(), 2, 0));
    assert_eq!(pool.options().synchronous, Synchronous::Full);
    assert_eq!(pool.options().journal_mode, JournalMode::Delete);
    drop(pool);

    let db = TestDb::sqlite().await;
    let pool = Pool::connect_with(
        &format!("{}?synchronous=extra", db.url),
        PoolOptions {
            synchronous: Synchronous::Off,
            journal_mode: JournalMode::Truncate,
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    // The URL wins over the options; the options' journal mode stays.
    assert_eq!(pragmas(&pool).await, ("truncate".into(), 3, 0));
}

#[tokio::test]
async fn durability_from_chakra_toml() {
    let s = chakra::config::PoolSettings::from_toml(
        "[database]\nurl = \"sqlite://x.db\"\njournal_mode = \"delete\"\nsynchronous = \"full\"\n",
    )
    .unwrap();
    assert_eq!(s.journal_mode, Some(JournalMode::Delete));
    assert_eq!(s.synchronous, Some(Synchronous::Full));
    let opts = PoolOptions::default().with_settings(&s);
    assert_eq!(
        (opts.journal_mode, opts.synchronous),
        (JournalMode::Delete, Synchronous::Full)
    );
}

#[tokio::test]
async fn bad_durability_values_are_config_errors() {
    let db = TestDb::sqlite().await;
    for (q, names) in [
        ("synchronous=sometimes", "synchronous"),
        ("journal_mode=wall", "journal_mode"),
    ] {
        let e = Pool::connect(&format!("{}?{q}", db.url)).await.unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e}");
        assert!(e.to_string().contains(names), "{e}");
    }
    let e = chakra::config::PoolSettings::from_toml("[database]\nsynchronous = \"maybe\"\n")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Config(m) if m.contains("chakra.toml") && m.contains("synchronous")),
        "{e}"
    );
}

/// Scripts run one statement at a time; a script with a transaction in it keeps working,
/// and a trigger body's semicolons do not split it.
#[tokio::test]
async fn scripts_with_transactions_and_triggers_run() {
    let db = TestDb::sqlite().await;
    let pool = accounts(&db.url, PoolOptions::default()).await;
    pool.batch_execute(
        "CREATE TABLE log (n BIGINT); \
         CREATE TRIGGER t AFTER UPDATE ON accounts BEGIN INSERT INTO log VALUES (1); INSERT INTO log VALUES (2); END; \
         BEGIN; UPDATE accounts SET balance = 7 WHERE id = 1; COMMIT;",
    )
    .await
    .unwrap();
    let mut c = pool.acquire().await.unwrap();
    let n = c.fetch(&raw_int("SELECT count(*) FROM log")).await.unwrap();
    assert_eq!(n, vec![vec![Value::I64(2)]]);
}

/// Several processes' worth of connections opening one new file at once: each switches it to
/// WAL, and SQLite answers "database is locked" without waiting to some of them. The setup
/// retries until its busy time has passed, so every connection opens (a Python and a Rust
/// migration applier starting together used to fail with "SQLite setup: database is locked").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_opening_a_new_file_together_all_open() {
    for round in 0..40 {
        let db = TestDb::sqlite().await;
        let url = db.url.clone();
        let opens = (0..8).map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let pool = Pool::connect(&url).await?;
                    pool.fetch_compiled(&raw_int("SELECT 1")).await.map(|_| ())
                })
            })
        });
        for t in opens.collect::<Vec<_>>() {
            let r = t.join().unwrap();
            assert!(r.is_ok(), "round {round}: {r:?}");
        }
        let pool = db.pool().await;
        let mode = pool
            .fetch_compiled(&raw_text("PRAGMA journal_mode"))
            .await
            .unwrap();
        assert_eq!(mode[0][0].as_str(), Some("wal"));
    }
}
