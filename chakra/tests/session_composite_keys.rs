//! Sessions over a model with a composite primary key whose first field is also a foreign
//! key (`(order_id, line)`, `order_id` referencing `sck_orders`): `Tx::get` takes the whole
//! key, a tracked row's compare-and-set UPDATE names the row by every key field (a row
//! sharing the first key value is never touched), keyed saves run together (pipelined on
//! PostgreSQL), deletes go by the whole key, a child's key field is filled from its parent
//! added to the same session, and a key change is refused by name. Two sessions writing
//! one row conflict with the same named `ConcurrentUpdate` as a single-key model, and the
//! re-run locks the row by its whole key. Checked with hand-written SQL on SQLite,
//! PostgreSQL and MySQL/MariaDB.

mod common;

use chakra::prelude::*;
use chakra::{Dialect, Session, TransactionOptions};
use common::ALL3;

#[derive(Debug, Clone, Model)]
#[chakra(table = "sck_orders")]
pub struct SckOrder {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub label: String,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "sck_lines")]
pub struct SckLine {
    #[chakra(primary_key)]
    pub order_id: i64,
    #[chakra(primary_key)]
    pub line: i32,
    pub qty: i32,
    #[chakra(relation = ForeignKey, foreign_key = "order_id", on_delete = Cascade)]
    pub order: Related<SckOrder>,
}

#[derive(Debug, PartialEq, chakra::FromRow)]
struct LineRow {
    order_id: i64,
    line: i32,
    qty: i32,
}

/// Every line as (order, line, qty), read with hand-written SQL.
async fn lines(pool: &Pool) -> Vec<(i64, i32, i32)> {
    chakra::raw_as::<LineRow>("SELECT order_id, line, qty FROM sck_lines ORDER BY order_id, line")
        .all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.order_id, r.line, r.qty))
        .collect()
}

async fn setup(d: Dialect) -> (common::TestDb, Pool) {
    let db = common::TestDb::new(d).await;
    let pool = db.pool().await;
    chakra::schema::create_tables(&pool, &[SckOrder::meta(), SckLine::meta()], false)
        .await
        .unwrap();
    (db, pool)
}

fn line(order_id: i64, line: i32, qty: i32) -> SckLine {
    SckLine {
        order_id,
        line,
        qty,
        order: Related::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_writes_composite_key_rows_by_their_whole_key() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        // New parent, children keyed by it (their first key field filled at commit), and
        // five keyed rows of another order: one keyed-save run (pipelined on PostgreSQL).
        let mut first = SckOrder {
            id: 0,
            label: "first".into(),
        };
        let mut second = SckOrder {
            id: 0,
            label: "second".into(),
        };
        let mut l1 = line(0, 1, 10);
        let mut l2 = line(0, 2, 20);
        {
            let session = Session::new(&pool);
            let a = session.add(&mut first);
            session.add(&mut second);
            session.add_child(&mut l1, SckLine::order_id(), &a).unwrap();
            session.add_child(&mut l2, SckLine::order_id(), &a).unwrap();
            session.commit().await.unwrap();
        }
        let (o1, o2) = (first.id, second.id);
        assert!(o1 > 0 && o2 > 0 && o1 != o2, "{d:?}");
        assert_eq!((l1.order_id, l2.order_id), (o1, o1), "{d:?}");
        let mut batch: Vec<SckLine> = (1..=5).map(|n| line(o2, n, n * 100)).collect();
        {
            let session = Session::new(&pool);
            for l in batch.iter_mut() {
                session.add(l);
            }
            session.commit().await.unwrap();
        }
        let mut want = vec![(o1, 1, 10), (o1, 2, 20)];
        want.extend((1..=5).map(|n| (o2, n, n * 100)));
        assert_eq!(lines(&pool).await, want, "{d:?}");

        // A tracked row: its change reaches only its own row, not (o1, 1) nor (o2, 2).
        let session = Session::new(&pool);
        session
            .transaction(|tx| async move {
                let mut l = tx.get::<SckLine>((o1, 2)).await?.expect("row (o1, 2)");
                assert_eq!((l.order_id, l.line, l.qty), (o1, 2, 20));
                l.qty = 21;
                let mut m = tx.get::<SckLine>((o2, 1)).await?.expect("row (o2, 1)");
                m.qty = 101;
                assert!(tx.get::<SckLine>((o1, 9)).await?.is_none());
                Ok(())
            })
            .await
            .unwrap();
        want[1].2 = 21;
        want[2].2 = 101;
        assert_eq!(lines(&pool).await, want, "{d:?}");

        // Deletes by the whole key: (o2, 3) goes, (o1, 3)... does not exist, (o2, 4) stays.
        let gone = line(o2, 3, 300);
        {
            let session = Session::new(&pool);
            session.delete(&gone);
            session.commit().await.unwrap();
        }
        want.retain(|r| (r.0, r.1) != (o2, 3));
        assert_eq!(lines(&pool).await, want, "{d:?}");
        let missing = line(o1, 3, 0);
        let e = {
            let session = Session::new(&pool);
            session.delete(&missing);
            session.commit().await.unwrap_err()
        };
        assert!(
            matches!(&e, chakra::Error::NotFound { model, detail: Some(k) }
                if model == "SckLine" && k.contains(&format!("({o1}, 3)"))),
            "{d:?}: {e}"
        );

        // A key change of a tracked row is refused by name; nothing is written.
        let e = session
            .transaction(|tx| async move {
                let mut l = tx.get::<SckLine>((o1, 1)).await?.expect("row (o1, 1)");
                l.line = 7;
                l.qty = 11;
                Ok(())
            })
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("SckLine.line") && text.contains("(order_id, line)"),
            "{d:?}: {text}"
        );
        assert_eq!(lines(&pool).await, want, "{d:?}");

        // The foreign key in the key is enforced: a line of no order is refused.
        let mut orphan = line(o2 + 1000, 1, 1);
        let e = {
            let session = Session::new(&pool);
            session.add(&mut orphan);
            session.commit().await.unwrap_err()
        };
        assert!(
            matches!(e, chakra::Error::ForeignKeyViolation(_)),
            "{d:?}: {e}"
        );
        assert_eq!(lines(&pool).await, want, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_conflict_by_name_and_the_rerun_locks_the_whole_key() {
    // SQLite serialises writers: the conflict is PostgreSQL's and MySQL's.
    for d in [Dialect::Postgres, Dialect::Mysql] {
        let (_db, pool) = setup(d).await;
        let mut o = SckOrder {
            id: 0,
            label: "o".into(),
        };
        o.save(&pool).await.unwrap();
        let oid = o.id;
        for n in [1, 2] {
            line(oid, n, 5).save(&pool).await.unwrap();
        }
        let other = pool.clone();
        let session = Session::new(&pool);
        let e = session
            .transaction_with(TransactionOptions::default().attempts(1), |tx| {
                let other = other.clone();
                async move {
                    let mut l = tx.get::<SckLine>((oid, 2)).await?.unwrap();
                    // Another writer changes the row in between (hand-written SQL).
                    chakra::raw_execute(format!(
                        "UPDATE sck_lines SET qty = 7 WHERE order_id = {oid} AND line = 2"
                    ))
                    .execute(&other)
                    .await?;
                    l.qty += 1;
                    Ok(())
                }
            })
            .await
            .unwrap_err();
        assert!(e.retryable(), "{d:?}: {e}");
        match &e {
            chakra::Error::ConcurrentUpdate { model, table, key } => assert_eq!(
                (model.as_str(), table.as_str(), key.as_str()),
                ("SckLine", "sck_lines", format!("({oid}, 2)").as_str()),
                "{d:?}"
            ),
            other => panic!("{d:?}: {other}"),
        }
        assert_eq!(
            lines(&pool).await,
            vec![(oid, 1, 5), (oid, 2, 7)],
            "{d:?}: the other writer's value stays"
        );

        // With re-runs: the first attempt conflicts, the second locks (oid, 2) by its whole
        // key before reading it and adds to the other writer's value.
        let attempt = std::sync::atomic::AtomicU32::new(0);
        let attempt = &attempt;
        session
            .transaction(|tx| {
                let other = other.clone();
                async move {
                    let n = attempt.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let mut l = tx.get::<SckLine>((oid, 2)).await?.unwrap();
                    if n == 0 {
                        chakra::raw_execute(format!(
                            "UPDATE sck_lines SET qty = 9 WHERE order_id = {oid} AND line = 2"
                        ))
                        .execute(&other)
                        .await?;
                    }
                    l.qty += 1;
                    Ok(())
                }
            })
            .await
            .unwrap();
        assert_eq!(
            attempt.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "{d:?}"
        );
        assert_eq!(lines(&pool).await, vec![(oid, 1, 5), (oid, 2, 10)], "{d:?}");
    }
}
