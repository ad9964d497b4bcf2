//! The pool under load, and cancellation: 2,000 concurrent queries over 8 connections, and a
//! query future dropped mid-transaction leaving the pool clean.

mod common;

use chakra::dsl::*;
use chakra::exec::Conn;
use chakra::{Dialect, Pool, PoolOptions};
use common::fixtures::*;
use common::{TestDb, BOTH};
use std::time::Duration;

async fn pool8(db: &TestDb) -> Pool {
    Pool::connect_with(
        &db.url,
        PoolOptions {
            max_size: 8,
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_queries_over_eight_connections() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = pool8(&db).await;
        seed(&pool).await;
        let mut tasks = Vec::with_capacity(2000);
        for i in 0..2000u32 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                let names = ["alice", "albert", "bob", "carol"];
                let name = names[(i % 4) as usize];
                let rows = pool
                    .fetch(&names_where(username().eq(Expr::val(name))).into())
                    .await?;
                assert_eq!(texts(&rows), [name]);
                if i % 10 == 0 {
                    // Some writes in transactions, too.
                    let mut tx = pool.begin().await?;
                    tx.execute(
                        &Insert {
                            enum_types: Default::default(),
                            table: "posts".into(),
                            columns: vec!["author_id".into(), "title".into()],
                            rows: vec![vec![Value::I64(1), Value::Text(format!("p{i}"))]],
                            returning: vec![],
                        }
                        .into(),
                    )
                    .await?;
                    tx.commit().await?;
                }
                Ok::<(), chakra::Error>(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap_or_else(|e| panic!("{d:?}: {e}"));
        }
        let s = pool.status();
        assert!(s.size <= 8, "{d:?}: {s:?}");
        assert_eq!(s.size, s.available, "{d:?}: leaked connections: {s:?}");
        let n = pool
            .fetch(&Statement::Count(
                Select::from(Source::table("posts"))
                    .column(Expr::col("posts", "id", ValueType::I64), ValueType::I64),
            ))
            .await
            .unwrap();
        assert_eq!(n, vec![vec![Value::I64(3 + 200)]], "{d:?}");
    }
}

/// A statement that takes seconds on either backend.
fn slow_sql(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "SELECT pg_sleep(5)",
        Dialect::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) SELECT count(*) FROM c"
        }
        chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
    }
}

/// True when the connection is not inside a transaction.
async fn outside_transaction(conn: &mut Conn) -> bool {
    match conn.dialect() {
        // Inside an explicit transaction now() is the transaction's start, earlier than the
        // statement's own timestamp.
        Dialect::Postgres => {
            tokio::time::sleep(Duration::from_millis(2)).await;
            let q = chakra::compile(
                &Select::from(Source::Subquery {
                    query: Box::new(
                        Select::from(Source::table("users"))
                            .column(uid(), ValueType::I64)
                            .limit(1),
                    ),
                    alias: "one".into(),
                })
                .column(Expr::Bool(true), ValueType::Bool)
                .into(),
                Dialect::Postgres,
            )
            .unwrap();
            conn.fetch(&q).await.unwrap();
            conn.batch_execute("DO $$ BEGIN IF now() <> statement_timestamp() THEN RAISE EXCEPTION 'inside a transaction'; END IF; END $$")
                .await
                .is_ok()
        }
        // SQLite refuses BEGIN inside a transaction.
        Dialect::Sqlite => conn.batch_execute("BEGIN; ROLLBACK").await.is_ok(),
        chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_dropped_mid_transaction_leaves_the_pool_clean() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = pool8(&db).await;
        seed(&pool).await;
        // Warm the pool so several connections exist.
        let conns: Vec<Conn> = futures_util::future::join_all((0..8).map(|_| pool.acquire()))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        drop(conns);
        let before = pool.status();

        let work = {
            let pool = pool.clone();
            async move {
                let mut tx = pool.begin().await?;
                tx.execute(
                    &Insert {
                        enum_types: Default::default(),
                        table: "posts".into(),
                        columns: vec!["author_id".into(), "title".into()],
                        rows: vec![vec![Value::I64(1), "from the dead transaction".into()]],
                        returning: vec![],
                    }
                    .into(),
                )
                .await?;
                tx.batch_execute(slow_sql(d)).await?;
                if d == Dialect::Sqlite {
                    // A SQLite statement runs inline and cannot be dropped while it runs
                    // (docs/sqlite.md): the transaction is dropped while it awaits
                    // something else, still open.
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                tx.commit().await
            }
        };
        let r = tokio::time::timeout(Duration::from_millis(300), work).await;
        assert!(
            r.is_err(),
            "{d:?}: the slow statement should have been cancelled"
        );

        // Every connection handed out afterwards is outside any transaction, and the dead
        // transaction's insert is gone.
        let mut conns = Vec::new();
        for _ in 0..8 {
            conns.push(pool.acquire().await.unwrap());
        }
        for c in &mut conns {
            assert!(
                outside_transaction(c).await,
                "{d:?}: a pooled connection is inside a transaction"
            );
        }
        drop(conns);
        let n = pool
            .fetch(&Statement::Count(
                Select::from(Source::table("posts"))
                    .column(Expr::col("posts", "id", ValueType::I64), ValueType::I64)
                    .filter(
                        Expr::col("posts", "title", ValueType::Text)
                            .eq(Expr::val("from the dead transaction")),
                    ),
            ))
            .await
            .unwrap();
        assert_eq!(n, vec![vec![Value::I64(0)]], "{d:?}");
        let after = pool.status();
        assert_eq!(after.size, after.available, "{d:?}: {before:?} → {after:?}");
    }
}
