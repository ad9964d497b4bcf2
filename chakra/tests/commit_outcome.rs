//! A commit whose future is dropped once COMMIT was sent (a timeout, a cancelled task) is not
//! a rollback: the COMMIT runs to its end on a task of its own and its outcome is the
//! database's (issue 19, item 3). PostgreSQL (directly and through PgBouncer); on SQLite a
//! COMMIT runs inline and cannot be dropped half-way.

mod common;

use chakra::prelude::*;
use chakra::PoolOptions;
use common::{TestDb, PG_TARGETS};
use std::time::{Duration, Instant};

/// A row whose insert makes COMMIT slow (a deferred trigger sleeps at commit time).
#[derive(Debug, Clone, Model)]
#[chakra(table = "slow_commits")]
pub struct SlowCommit {
    #[chakra(primary_key)]
    pub id: i64,
}

/// The ids the table holds, in order.
async fn ids(pool: &Pool) -> Vec<i64> {
    SlowCommit::query()
        .order_by(SlowCommit::id())
        .all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Waits until `want` is what the table holds (the abandoned COMMIT finishing), at most 5 s.
async fn settle(pool: &Pool, want: &[i64]) -> Vec<i64> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let now = ids(pool).await;
        if now == want || Instant::now() > until {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_dropped_after_it_was_sent_still_commits() {
    for d in PG_TARGETS {
        let db = TestDb::on(d).await;
        let pool = Pool::connect_with(
            &db.url,
            PoolOptions {
                max_size: 4,
                ..PoolOptions::default()
            },
        )
        .await
        .unwrap();
        chakra::schema::create_tables(&pool, &[SlowCommit::meta()], false)
            .await
            .unwrap();
        for sql in [
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS \
             'BEGIN PERFORM pg_sleep(0.6); RETURN NULL; END'",
            "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON slow_commits \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()",
        ] {
            chakra::raw_execute(sql).execute(&pool).await.unwrap();
        }

        // A raw transaction: its commit future is dropped 150 ms into a 600 ms COMMIT.
        let mut t = pool.begin().await.unwrap();
        SlowCommit::insert_many(&mut t, &mut [SlowCommit { id: 1 }])
            .await
            .unwrap();
        let started = Instant::now();
        let r = tokio::time::timeout(Duration::from_millis(150), t.commit()).await;
        assert!(r.is_err(), "{d:?}: the commit was to be abandoned");
        assert!(started.elapsed() < Duration::from_millis(500), "{d:?}");
        assert_eq!(
            settle(&pool, &[1]).await,
            vec![1],
            "{d:?}: the COMMIT finished"
        );

        // The same through Session::transaction (its commit).
        let session = Session::new(&pool);
        let r = tokio::time::timeout(
            Duration::from_millis(150),
            session.transaction(|tx| async move {
                let mut row = [SlowCommit { id: 2 }];
                SlowCommit::insert_many(&tx, &mut row).await?;
                Ok(())
            }),
        )
        .await;
        assert!(r.is_err(), "{d:?}: the transaction was to be abandoned");
        assert_eq!(settle(&pool, &[1, 2]).await, vec![1, 2], "{d:?}");

        // No innocent statement pays for it: 50 statements after, all fine.
        for _ in 0..50 {
            assert_eq!(ids(&pool).await, vec![1, 2], "{d:?}");
        }
        // And a commit that is waited for reports its outcome as before.
        let mut t = pool.begin().await.unwrap();
        SlowCommit::insert_many(&mut t, &mut [SlowCommit { id: 3 }])
            .await
            .unwrap();
        t.commit().await.unwrap();
        assert_eq!(ids(&pool).await, vec![1, 2, 3], "{d:?}");
    }
}
