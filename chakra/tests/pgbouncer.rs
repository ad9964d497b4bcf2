//! PostgreSQL behind PgBouncer in transaction mode (`pooler=transaction`): many statement
//! shapes from many tasks run correctly; what needs a session (migrations) is refused with a
//! named error; a direct pool whose cached statement vanished says what to do. The
//! concurrency, cancellation and error tests run through PgBouncer too
//! (`concurrency.rs`, `concurrency_errors.rs`), as do the seed examples, the model API and
//! sessions.

mod common;

use chakra::prelude::*;
use chakra::{Pool, PoolOptions, Pooler};
use common::{Target, TestDb};
use std::time::Duration;

/// A small model with a few columns to filter on.
#[derive(Debug, Clone, Model)]
#[chakra(table = "items")]
pub struct Item {
    #[chakra(primary_key)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
    pub n: i64,
}

async fn items(db: &TestDb, max_size: usize) -> Pool {
    let pool = Pool::connect_with(
        &db.url,
        PoolOptions {
            max_size,
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    chakra::schema::create_tables(&pool, &[Item::meta()], false)
        .await
        .unwrap();
    let mut rows: Vec<Item> = (1..=100)
        .map(|i| Item {
            id: i,
            name: format!("item{i:03}"),
            n: i % 10,
        })
        .collect();
    Item::insert_many(&pool, &mut rows).await.unwrap();
    pool
}

/// 400 tasks over 8 connections, five statement shapes (reads and writes): every one runs on
/// whatever server session PgBouncer gives it, and every answer is right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_shapes_from_many_tasks_through_the_pooler() {
    let db = TestDb::on(Target::PgBouncer).await;
    let pool = items(&db, 8).await;
    assert_eq!(pool.options().pooler, Pooler::Transaction);
    let tasks: Vec<_> = (0..400i64)
        .map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let k = i % 100 + 1;
                match i % 5 {
                    0 => {
                        let it = Item::get(&pool, k).await?;
                        assert_eq!(it.name, format!("item{k:03}"));
                    }
                    1 => {
                        let c = Item::query()
                            .filter(Item::n().eq(k % 10))
                            .count(&pool)
                            .await?;
                        assert_eq!(c, 10);
                    }
                    2 => {
                        let ids = vec![k, (k % 100) + 1];
                        let rows = Item::query()
                            .filter(Item::id().is_in(ids))
                            .all(&pool)
                            .await?;
                        assert_eq!(rows.len(), 2);
                    }
                    3 => {
                        let rows = Item::query()
                            .filter(Item::name().starts_with("item00"))
                            .order_by(Item::id())
                            .all(&pool)
                            .await?;
                        assert_eq!(rows.len(), 9);
                    }
                    _ => {
                        Item::query()
                            .filter(Item::id().eq(k))
                            .update()
                            .set(Item::name(), format!("item{k:03}"))
                            .execute(&pool)
                            .await?;
                    }
                }
                Ok::<_, chakra::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = pool.status();
    assert!(s.size <= 8, "{s:?}");
}

/// Sessions whose keyed saves are pipelined (all UPDATEs sent before the first answer), 40
/// at once over 4 connections through the pooler: every save lands, rows missing from the
/// table are inserted, and each session's rows hold what it wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_session_saves_through_the_pooler() {
    let db = TestDb::on(Target::PgBouncer).await;
    let pool = items(&db, 4).await;
    let tasks: Vec<_> = (0..40i64)
        .map(|t| {
            let pool = pool.clone();
            tokio::spawn(async move {
                // Task t owns keys t*10+1..=t*10+10 (keys above 100 are not in the table).
                let mut rows: Vec<Item> = (1..=10)
                    .map(|j| Item {
                        id: t * 10 + j,
                        name: format!("task{t}-{j}"),
                        n: t,
                    })
                    .collect();
                let session = Session::new(&pool);
                for r in rows.iter_mut() {
                    session.add(r);
                }
                session.commit().await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let all = Item::query().order_by(Item::id()).all(&pool).await.unwrap();
    assert_eq!(all.len(), 400);
    for it in all {
        let (t, j) = ((it.id - 1) / 10, (it.id - 1) % 10 + 1);
        assert_eq!((it.name, it.n), (format!("task{t}-{j}"), t));
    }
}

/// A statement timeout behind the pooler is the transaction's own (`SET LOCAL`): it cuts a
/// slow statement short and leaks into no other client's server session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_is_per_transaction_behind_the_pooler() {
    let db = TestDb::on(Target::PgBouncer).await;
    let timed = Pool::connect_with(
        &db.url,
        PoolOptions {
            statement_timeout: Some(Duration::from_millis(100)),
            max_size: 2,
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    let mut tx = timed.begin().await.unwrap();
    let e = tx.batch_execute("SELECT pg_sleep(2)").await.unwrap_err();
    assert!(matches!(e, chakra::Error::StatementTimeout(_)), "{e}");
    drop(tx);
    // Another pool through the same pooler, without a timeout, sees the server's default.
    let plain = items(&db, 2).await;
    for _ in 0..5 {
        let rows = plain
            .fetch_compiled(&chakra::migrate::history::raw(
                chakra::Dialect::Postgres,
                &["SELECT current_setting('statement_timeout')"],
                vec![],
                vec![chakra::dsl::ValueType::Text],
            ))
            .await
            .unwrap();
        assert_eq!(rows[0][0], chakra::dsl::Value::Text("0".into()));
    }
}

/// Migrations take a session advisory lock, which a transaction pooler cannot give: they
/// are refused before anything runs, naming the pooler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_refused_behind_the_pooler() {
    let db = TestDb::on(Target::PgBouncer).await;
    let pool = Pool::connect(&db.url).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let m = chakra::migrate::apply::Migrator::from_dir(pool.clone(), &dir).unwrap();
    let e = m.apply(None).await.unwrap_err();
    assert!(matches!(e, chakra::Error::Migration(_)), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("pooler") && text.contains("directly"),
        "{text}"
    );
    assert!(m.status().await.is_err());
    // Nothing was created.
    let rows = pool
        .fetch_compiled(&chakra::migrate::history::raw(
            chakra::Dialect::Postgres,
            &["SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"],
            vec![],
            vec![chakra::dsl::ValueType::I64],
        ))
        .await
        .unwrap();
    assert_eq!(rows[0][0], chakra::dsl::Value::I64(0));
}

/// The pooler setting is read from the URL (and kept from the driver); a bad value is a
/// clear configuration error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pooler_setting_comes_from_the_url() {
    let db = TestDb::postgres().await;
    let direct = Pool::connect(&db.url).await.unwrap();
    assert_eq!(direct.options().pooler, Pooler::None);
    let e = Pool::connect(&format!("{}?pooler=sometimes", db.url))
        .await
        .unwrap_err();
    assert!(matches!(e, chakra::Error::Config(_)), "{e}");
    assert!(e.to_string().contains("pooler"), "{e}");
    assert!(e.to_string().contains("transaction"), "{e}");
    // A direct server accepts pooler mode too (each statement in its own transaction).
    let pooled = Pool::connect(&format!("{}?pooler=transaction", db.url))
        .await
        .unwrap();
    assert_eq!(pooled.options().pooler, Pooler::Transaction);
    pooled
        .batch_execute("CREATE TABLE t (id INT)")
        .await
        .unwrap();
}

/// A cached prepared statement that vanished from the server session (what a transaction
/// pooler does to a pool not told about it; here `DEALLOCATE ALL` on a direct connection)
/// fails with a message that says to set `pooler=transaction`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_prepared_statement_names_the_pooler_setting() {
    let db = TestDb::postgres().await;
    let pool = items(&db, 1).await;
    assert_eq!(Item::query().count(&pool).await.unwrap(), 100);
    pool.batch_execute("DEALLOCATE ALL").await.unwrap();
    let e = Item::query().count(&pool).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("does not exist"), "{text}");
    assert!(text.contains("pooler=transaction"), "{text}");
}
