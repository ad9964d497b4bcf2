//! Each named concurrency error produced by a real failing operation, with its SQLSTATE and
//! the table named; and the pool surviving the server killing its connections.

mod common;

use chakra::dsl::*;
use chakra::{Error, Isolation, Pool, PoolOptions, TxOptions};
use common::{pg_admin_url, TestDb, PG_TARGETS};
use std::time::Duration;

async fn admin() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&pg_admin_url(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL admin connection");
    tokio::spawn(conn);
    client
}

fn db_name(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned()
}

/// Terminates every server connection to the test database; returns how many.
async fn terminate_all(url: &str) -> i64 {
    let rows = admin()
        .await
        .query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db_name(url)],
        )
        .await
        .unwrap();
    rows[0].get::<_, i64>(0)
}

async fn accounts(db: &TestDb, opts: PoolOptions) -> Pool {
    let pool = Pool::connect_with(&db.url, opts).await.unwrap();
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

fn count_accounts() -> Statement {
    Statement::Count(
        Select::from(Source::table("accounts"))
            .column(Expr::col("accounts", "id", ValueType::I64), ValueType::I64),
    )
}

fn check(e: &Error, sqlstate: Option<&str>, retryable: bool) {
    assert_eq!(e.sqlstate(), sqlstate, "{e}");
    assert_eq!(e.retryable(), retryable, "{e}");
    if let Some(code) = sqlstate {
        assert!(e.to_string().contains(code), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlock_is_named_and_retryable() {
    for target in PG_TARGETS {
        println!("{target:?}");
        deadlock_is_named_and_retryable_on(TestDb::on(target).await).await;
    }
}

async fn deadlock_is_named_and_retryable_on(db: TestDb) {
    let pool = accounts(&db, PoolOptions::default()).await;
    let mut t1 = pool.begin().await.unwrap();
    let mut t2 = pool.begin().await.unwrap();
    t1.execute(&set_balance(1, 1)).await.unwrap();
    t2.execute(&set_balance(2, 2)).await.unwrap();
    // Each side ends its transaction as soon as its statement returns, so the survivor is
    // not left waiting on the loser's locks.
    let h1 = tokio::spawn(async move {
        let r = t1.execute(&set_balance(2, 1)).await;
        let _ = t1.rollback().await;
        r
    });
    let h2 = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let r = t2.execute(&set_balance(1, 2)).await;
        let _ = t2.rollback().await;
        r
    });
    let (r1, r2) = (h1.await.unwrap(), h2.await.unwrap());
    let e = match (r1, r2) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("exactly one side should fail: {other:?}"),
    };
    assert!(matches!(e, Error::Deadlock(_)), "{e}");
    check(&e, Some("40P01"), true);
    assert_eq!(e.failure().unwrap().table.as_deref(), Some("accounts"));
    assert!(e.to_string().contains("\"accounts\""), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serialization_failure_is_named_and_retryable() {
    for target in PG_TARGETS {
        println!("{target:?}");
        serialization_failure_is_named_and_retryable_on(TestDb::on(target).await).await;
    }
}

async fn serialization_failure_is_named_and_retryable_on(db: TestDb) {
    let pool = accounts(&db, PoolOptions::default()).await;
    let mut t1 = pool
        .begin_with(TxOptions {
            isolation: Isolation::RepeatableRead,
        })
        .await
        .unwrap();
    // t1's snapshot is taken by its first statement.
    t1.fetch(&count_accounts()).await.unwrap();
    pool.execute(&set_balance(1, 5)).await.unwrap();
    let e = t1.execute(&set_balance(1, 6)).await.unwrap_err();
    assert!(matches!(e, Error::SerializationFailure(_)), "{e}");
    check(&e, Some("40001"), true);
    assert_eq!(e.failure().unwrap().table.as_deref(), Some("accounts"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_is_named_and_retryable() {
    for target in PG_TARGETS {
        println!("{target:?}");
        lock_timeout_is_named_and_retryable_on(TestDb::on(target).await).await;
    }
}

async fn lock_timeout_is_named_and_retryable_on(db: TestDb) {
    let pool = accounts(&db, PoolOptions::default()).await;
    let mut t1 = pool.begin().await.unwrap();
    t1.execute(&set_balance(1, 1)).await.unwrap();
    let mut t2 = pool.begin().await.unwrap();
    t2.batch_execute("SET LOCAL lock_timeout = '50ms'")
        .await
        .unwrap();
    let e = t2.execute(&set_balance(1, 2)).await.unwrap_err();
    assert!(matches!(e, Error::LockTimeout(_)), "{e}");
    check(&e, Some("55P03"), true);
    assert_eq!(e.failure().unwrap().table.as_deref(), Some("accounts"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_from_the_url_is_named_and_not_retryable() {
    for target in PG_TARGETS {
        println!("{target:?}");
        statement_timeout_from_the_url_is_named_and_not_retryable_on(TestDb::on(target).await)
            .await;
    }
}

async fn statement_timeout_from_the_url_is_named_and_not_retryable_on(db: TestDb) {
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}statement_timeout=100ms", db.url);
    let pool = Pool::connect(&url).await.unwrap();
    assert_eq!(
        pool.options().statement_timeout,
        Some(Duration::from_millis(100))
    );
    pool.batch_execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let e = pool
        .batch_execute("SELECT pg_sleep(5) FROM \"accounts\" UNION ALL SELECT pg_sleep(5)")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::StatementTimeout(_)), "{e}");
    check(&e, Some("57014"), false);
    assert_eq!(e.failure().unwrap().table.as_deref(), Some("accounts"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_busy_is_a_lock_timeout() {
    let db = TestDb::sqlite().await;
    let pool = accounts(
        &db,
        PoolOptions {
            statement_timeout: Some(Duration::from_millis(50)),
            ..PoolOptions::default()
        },
    )
    .await;
    let mut t1 = pool.begin().await.unwrap();
    t1.execute(&set_balance(1, 1)).await.unwrap();
    let e = pool.begin().await.unwrap_err();
    assert!(matches!(e, Error::LockTimeout(_)), "{e}");
    check(&e, None, true);
    t1.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_wait_that_times_out_names_the_pool_size() {
    for d in common::ALL3 {
        let db = TestDb::new(d).await;
        let pool = Pool::connect_with(
            &db.url,
            PoolOptions {
                max_size: 1,
                wait_timeout: Duration::from_millis(50),
                ..PoolOptions::default()
            },
        )
        .await
        .unwrap();
        let held = pool.acquire().await.unwrap();
        let e = pool.batch_execute("SELECT 1").await.unwrap_err();
        match &e {
            Error::ConnectionTimeout { pool_size, .. } => assert_eq!(*pool_size, 1, "{d:?}"),
            other => panic!("{d:?}: {other}"),
        }
        assert!(e.to_string().contains("max_size 1"), "{e}");
        assert!(!e.retryable());
        drop(held);
        pool.batch_execute("SELECT 1").await.unwrap();
    }
}

/// The server kills every pooled connection: queries outside a transaction go on, on fresh
/// connections; inside a transaction the loss is `ConnectionLost`, and the next transaction
/// works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_survives_the_server_killing_its_connections() {
    for target in PG_TARGETS {
        println!("{target:?}");
        the_pool_survives_the_server_killing_its_connections_on(TestDb::on(target).await).await;
    }
}

async fn the_pool_survives_the_server_killing_its_connections_on(db: TestDb) {
    let pool = accounts(
        &db,
        PoolOptions {
            max_size: 4,
            ..PoolOptions::default()
        },
    )
    .await;
    for round in 0..3 {
        // Open every pooled connection, then have the server kill them all while idle.
        let conns: Vec<_> = futures_util::future::join_all((0..4).map(|_| pool.acquire())).await;
        drop(conns);
        assert!(terminate_all(&db.url).await >= 1, "round {round}");
        for i in 0..10 {
            let rows = pool.fetch(&count_accounts()).await;
            assert_eq!(
                rows.unwrap_or_else(|e| panic!("round {round} query {i}: {e}")),
                vec![vec![Value::I64(2)]]
            );
        }
        // A write outside a transaction after the kill runs too.
        terminate_all(&db.url).await;
        pool.execute(&set_balance(2, round)).await.unwrap();

        let mut t = pool.begin().await.unwrap();
        t.execute(&set_balance(1, 1000)).await.unwrap();
        terminate_all(&db.url).await;
        let e = t.execute(&set_balance(1, 2000)).await.unwrap_err();
        assert!(matches!(e, Error::ConnectionLost(_)), "round {round}: {e}");
        assert!(e.retryable());
        let _ = t.rollback().await;
        let mut t = pool.begin().await.unwrap();
        t.execute(&set_balance(1, 7)).await.unwrap();
        t.commit().await.unwrap();
        let rows = pool
            .fetch(&Statement::Select(
                Select::from(Source::table("accounts"))
                    .column(
                        Expr::col("accounts", "balance", ValueType::I64),
                        ValueType::I64,
                    )
                    .filter(Expr::col("accounts", "id", ValueType::I64).eq(Expr::val(1i64))),
            ))
            .await
            .unwrap();
        assert_eq!(
            rows,
            vec![vec![Value::I64(7)]],
            "round {round}: the lost transaction wrote nothing"
        );
    }
    let s = pool.status();
    assert_eq!(s.size, s.available, "{s:?}");
}

/// Seconds until no statement containing `marker` runs on the server (polled; `None` if it
/// still runs after 10 s).
async fn gone_after(marker: &str) -> Option<f64> {
    let admin = admin().await;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        let rows = admin
            .query(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active' \
                 AND pid <> pg_backend_pid()",
                &[&format!("%{marker}%")],
            )
            .await
            .unwrap();
        if rows[0].get::<_, i64>(0) == 0 {
            return Some(started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// A dropped statement future (a timeout here) sends PostgreSQL a cancel request: the
/// 30-second query stops on the server, outside and inside a transaction, and the pool goes
/// on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_query_is_cancelled_on_the_server() {
    for target in PG_TARGETS {
        println!("{target:?}");
        a_dropped_query_is_cancelled_on_the_server_on(TestDb::on(target).await).await;
    }
}

async fn a_dropped_query_is_cancelled_on_the_server_on(db: TestDb) {
    let pool = accounts(&db, PoolOptions::default()).await;
    let tag = db_name(&db.url);
    // Outside a transaction.
    let marker = format!("chakra_cancel_plain_{tag}");
    let sql = format!("SELECT pg_sleep(30) /* {marker} */");
    let r = tokio::time::timeout(Duration::from_millis(300), pool.batch_execute(&sql)).await;
    assert!(r.is_err(), "the sleep should have been cut short");
    let t = gone_after(&marker).await;
    assert!(
        t.is_some(),
        "the cancelled pg_sleep(30) still runs on the server"
    );
    println!(
        "plain statement gone from pg_stat_activity after {:.3} s",
        t.unwrap()
    );

    // Inside a transaction.
    let marker = format!("chakra_cancel_tx_{tag}");
    let sql = format!("SELECT pg_sleep(30) /* {marker} */");
    let work = async {
        let mut t = pool.begin().await?;
        t.execute(&set_balance(1, 55)).await?;
        t.batch_execute(&sql).await?;
        t.commit().await
    };
    assert!(tokio::time::timeout(Duration::from_millis(300), work)
        .await
        .is_err());
    let t = gone_after(&marker).await;
    assert!(
        t.is_some(),
        "the cancelled pg_sleep(30) still runs on the server"
    );
    println!("statement in a transaction gone after {:.3} s", t.unwrap());

    // Nothing of the transaction stayed; the pool works and holds no dropped connection.
    let rows = pool
        .fetch(&Statement::Select(
            Select::from(Source::table("accounts"))
                .column(
                    Expr::col("accounts", "balance", ValueType::I64),
                    ValueType::I64,
                )
                .filter(Expr::col("accounts", "id", ValueType::I64).eq(Expr::val(1i64))),
        ))
        .await
        .unwrap();
    assert_eq!(rows, vec![vec![Value::I64(100)]]);
    let s = pool.status();
    assert_eq!(s.size, s.available, "{s:?}");
}
