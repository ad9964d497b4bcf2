//! A session commit whose pipelined UPDATEs are cancelled mid-flight (its future dropped by
//! a timeout while one UPDATE waits for a row lock): the statements are cancelled on the
//! server, nothing of the commit stays, its connection is closed rather than pooled, and the
//! pool and the lock holder go on. Directly and behind PgBouncer.

mod common;

use chakra::dsl::*;
use chakra::prelude::*;
use common::{TestDb, PG_TARGETS};
use std::time::Duration;

#[derive(Debug, Clone, Model)]
#[chakra(table = "slots")]
pub struct Slot {
    #[chakra(primary_key)]
    pub id: i64,
    pub n: i64,
}

fn lock_row(id: i64) -> Statement {
    Statement::Update(Update {
        enum_types: Default::default(),
        table: "slots".into(),
        sets: vec![("n".into(), Expr::val(-1i64))],
        filter: Some(Expr::col("slots", "id", ValueType::I64).eq(Expr::val(id))),
        returning: vec![],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_pipeline_leaves_nothing_and_the_pool_goes_on() {
    for target in PG_TARGETS {
        let db = TestDb::on(target).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Slot::meta()], false)
            .await
            .unwrap();
        let mut rows: Vec<Slot> = (1..=100).map(|id| Slot { id, n: id }).collect();
        Slot::insert_many(&pool, &mut rows).await.unwrap();

        // Another transaction holds row 50.
        let mut holder = pool.begin().await.unwrap();
        assert_eq!(holder.execute(&lock_row(50)).await.unwrap(), 1);

        // 100 keyed saves in one pipeline: the 50th waits for the lock until the timeout
        // drops the commit.
        let mut changed: Vec<Slot> = (1..=100).map(|id| Slot { id, n: 1000 + id }).collect();
        let session = Session::new(&pool);
        for s in changed.iter_mut() {
            session.add(s);
        }
        let r = tokio::time::timeout(Duration::from_millis(300), session.commit()).await;
        assert!(r.is_err(), "{target:?}: the commit waited on the lock");

        holder.rollback().await.unwrap();
        let stored = Slot::query().order_by(Slot::id()).all(&pool).await.unwrap();
        assert_eq!(stored.len(), 100);
        for s in &stored {
            assert_eq!(
                s.n, s.id,
                "{target:?}: nothing of the cancelled commit stays"
            );
        }

        // The pool goes on, and the rows can be written now.
        let mut again: Vec<Slot> = (1..=100).map(|id| Slot { id, n: 2000 + id }).collect();
        let session = Session::new(&pool);
        for s in again.iter_mut() {
            session.add(s);
        }
        tokio::time::timeout(Duration::from_secs(10), session.commit())
            .await
            .expect("no lock is left behind")
            .unwrap();
        let sum: i64 = Slot::query()
            .all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|s| s.n)
            .sum();
        assert_eq!(
            sum,
            (1..=100).map(|id| 2000 + id).sum::<i64>(),
            "{target:?}"
        );
    }
}
