//! Transactions with the caller's own error type (`Session::try_transaction`, issue 23): a
//! business refusal after a write rolls everything back, on SQLite and PostgreSQL; an error
//! of the caller's own runs once; a retryable Chakra error inside the closure (converted by
//! `?` into the caller's error) still re-runs it. What was committed is read back with
//! hand-written SQL through rusqlite / tokio-postgres, not through Chakra.

mod common;
mod fixtures;

use chakra::prelude::*;
use chakra::{Dialect, TransactionOptions};
use common::{TestDb, ALL3};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Model)]
#[chakra(table = "products")]
pub struct Product {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
    pub stock: i32,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "order_lines")]
pub struct OrderLine {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub product_id: i64,
    pub quantity: i32,
}

/// The service's own error: a refusal, or the database's.
#[derive(Debug)]
enum OrderError {
    OutOfStock { product: i64, left: i32 },
    Db(chakra::Error),
}

impl From<chakra::Error> for OrderError {
    fn from(e: chakra::Error) -> Self {
        OrderError::Db(e)
    }
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderError::OutOfStock { product, left } => {
                write!(f, "product {product} has {left} left")
            }
            OrderError::Db(e) => write!(f, "database: {e}"),
        }
    }
}

impl std::error::Error for OrderError {}

async fn shop(d: Dialect) -> (TestDb, Pool) {
    let db = TestDb::new(d).await;
    let pool = db.pool().await;
    fixtures::create_tables(&pool, &[Product::meta(), OrderLine::meta()]).await;
    chakra::raw_execute("INSERT INTO products (name, stock) VALUES ('lamp', 2), ('desk', 9)")
        .execute(&pool)
        .await
        .unwrap();
    (db, pool)
}

/// One integer read with hand-written SQL on a connection of its own.
async fn scalar(db: &TestDb, sql: &str) -> i64 {
    match db.dialect {
        Dialect::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://").to_owned();
            let c = rusqlite::Connection::open(path).unwrap();
            c.query_row(sql, [], |r| r.get(0)).unwrap()
        }
        Dialect::Postgres => {
            let (c, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let h = tokio::spawn(conn);
            let v: i64 = c.query_one(sql, &[]).await.unwrap().get(0);
            drop(c);
            let _ = h.await;
            v
        }
        // MySQL's integer cast is SIGNED.
        Dialect::Mysql => {
            common::mysql_scalar(&db.url, &sql.replace("AS BIGINT", "AS SIGNED")).await
        }
    }
}

/// Orders `quantity` of `product`: a line written, then the stock taken, refused (after
/// the write) when too little is left.
async fn order(tx: Tx, product: i64, quantity: i32) -> Result<i64, OrderError> {
    let mut line = OrderLine {
        id: 0,
        product_id: product,
        quantity,
    };
    line.save(&tx).await?;
    let mut p = tx
        .get::<Product>(product)
        .await?
        .ok_or(OrderError::OutOfStock { product, left: 0 })?;
    if p.stock < quantity {
        Err(OrderError::OutOfStock {
            product,
            left: p.stock,
        })?;
    }
    p.stock -= quantity;
    Ok(line.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_after_a_write_commits_nothing() {
    for d in ALL3 {
        let (db, pool) = shop(d).await;
        let session = Session::new(&pool);
        // Pending work of the session is part of the same transaction.
        let mut extra = Product {
            id: 0,
            name: "chair".into(),
            stock: 1,
        };
        session.add(&mut extra);
        let runs = AtomicU32::new(0);
        let e = session
            .try_transaction(|tx| {
                runs.fetch_add(1, Ordering::SeqCst);
                async move {
                    order(tx.clone(), 2, 4).await?; // lands: desk 9 -> 5
                    order(tx, 1, 3).await // refused: lamp has 2
                }
            })
            .await
            .unwrap_err();
        match e {
            TransactionError::Aborted(OrderError::OutOfStock {
                product: 1,
                left: 2,
            }) => {}
            other => panic!("{d:?}: {other:?}"),
        }
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "{d:?}: a refusal is not re-run"
        );
        assert_eq!(
            scalar(&db, "SELECT count(*) FROM order_lines").await,
            0,
            "{d:?}"
        );
        assert_eq!(
            scalar(&db, "SELECT CAST(sum(stock) AS BIGINT) FROM products").await,
            11,
            "{d:?}: the desk's stock is back"
        );
        assert_eq!(
            scalar(&db, "SELECT count(*) FROM products").await,
            2,
            "{d:?}"
        );
        // The session's pending insert is kept; the next commit writes it.
        assert_eq!(session.pending_len(), 1);

        // The same closure within stock commits both lines and the stock.
        let ids = session
            .try_transaction(|tx| async move {
                let a = order(tx.clone(), 2, 4).await?;
                let b = order(tx, 1, 2).await?;
                Ok::<_, OrderError>((a, b))
            })
            .await
            .unwrap();
        // (PostgreSQL's sequences do not roll back: the keys may skip the refused ones.)
        assert!(0 < ids.0 && ids.0 < ids.1, "{d:?}: {ids:?}");
        drop(session);
        assert!(extra.id > 0);
        assert_eq!(scalar(&db, "SELECT count(*) FROM order_lines").await, 2);
        assert_eq!(
            scalar(&db, "SELECT CAST(sum(stock) AS BIGINT) FROM products").await,
            1 + 5,
            "{d:?}: lamp 0, desk 5, chair 1"
        );

        // `?` on the outcome with one error type: `into_inner` converts Chakra's side.
        let out: Result<(), OrderError> = Session::new(&pool)
            .try_transaction(|tx| async move { order(tx, 1, 1).await.map(|_| ()) })
            .await
            .map_err(TransactionError::into_inner);
        assert!(
            matches!(out, Err(OrderError::OutOfStock { left: 0, .. })),
            "{out:?}"
        );
        // An error type without any conversion from Chakra's works too.
        let r: Result<(), TransactionError<&str>> = Session::new(&pool)
            .try_transaction(|_tx| async { Err("no") })
            .await;
        assert!(matches!(r, Err(TransactionError::Aborted("no"))));
    }
}

/// A retryable Chakra error inside the closure (a tracked row changed under a savepoint, so
/// its compare-and-set finds nothing: `ConcurrentUpdate`), turned into the caller's error by
/// `?`, still re-runs the closure; the second attempt commits once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_error_inside_is_rerun() {
    for d in ALL3 {
        let (db, pool) = shop(d).await;
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        let left = Session::new(&pool)
            .try_transaction(move |tx| {
                let attempt = r.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    let inner = tx
                        .try_transaction(|tx| async move {
                            let mut p = tx.get::<Product>(1).await?.unwrap();
                            if attempt == 1 {
                                // Someone else's write between the read and the flush.
                                chakra::raw_execute("UPDATE products SET stock = 7 WHERE id = 1")
                                    .execute(&tx)
                                    .await?;
                            }
                            p.stock -= 1;
                            Ok::<_, OrderError>(p.stock)
                        })
                        .await;
                    // The caller's code converts everything to its own error.
                    let left = inner.map_err(TransactionError::into_inner)?;
                    Ok::<_, OrderError>(left)
                }
            })
            .await
            .unwrap_or_else(|e| panic!("{d:?}: {e}"));
        assert_eq!(runs.load(Ordering::SeqCst), 2, "{d:?}");
        assert_eq!(left, 1, "{d:?}: the re-run read the committed stock");
        assert_eq!(
            scalar(
                &db,
                "SELECT CAST(stock AS BIGINT) FROM products WHERE id = 1"
            )
            .await,
            1
        );

        // With one attempt the converted error comes back, and nothing is written.
        let once = Session::new(&pool)
            .try_transaction_with(TransactionOptions::default().attempts(1), |tx| async move {
                let mut p = tx.get::<Product>(2).await?.unwrap();
                chakra::raw_execute("UPDATE products SET stock = 0 WHERE id = 2")
                    .execute(&tx)
                    .await?;
                p.stock -= 1;
                Ok::<_, OrderError>(())
            })
            .await
            .unwrap_err();
        match once {
            TransactionError::Chakra(e) => {
                assert!(matches!(e, chakra::Error::ConcurrentUpdate { .. }), "{e}")
            }
            other => panic!("{d:?}: {other:?}"),
        }
        assert_eq!(
            scalar(
                &db,
                "SELECT CAST(stock AS BIGINT) FROM products WHERE id = 2"
            )
            .await,
            9
        );
    }
}

/// PostgreSQL: a statement failing on a row another transaction holds (`NOWAIT`: a
/// retryable `LockTimeout`) inside the closure, converted to the caller's error, re-runs
/// the closure once the holder is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_conflict_inside_is_rerun_on_postgres() {
    use chakra::dsl::{LockWait, RowLock};
    let (_db, pool) = shop(Dialect::Postgres).await;
    let mut holder = pool.begin().await.unwrap();
    let mut h = &mut holder;
    Product::query()
        .filter(Product::id().eq(1))
        .for_update()
        .all(&mut h)
        .await
        .unwrap();
    let holder = Arc::new(tokio::sync::Mutex::new(Some(holder)));
    let runs = Arc::new(AtomicU32::new(0));
    let (r, hold) = (runs.clone(), holder.clone());
    let names = Session::new(&pool)
        .try_transaction(move |tx| {
            r.fetch_add(1, Ordering::SeqCst);
            let hold = hold.clone();
            async move {
                let rows = Product::query()
                    .filter(Product::id().eq(1))
                    .lock(RowLock {
                        wait: LockWait::NoWait,
                        ..RowLock::update()
                    })
                    .all(&tx)
                    .await;
                if rows.is_err() {
                    // The holder finishes while this attempt fails.
                    if let Some(t) = hold.lock().await.take() {
                        t.rollback().await?;
                    }
                }
                let rows = rows?;
                Ok::<_, OrderError>(rows.into_iter().map(|p| p.name).collect::<Vec<_>>())
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names, ["lamp"]);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
