//! `Session` (unit of work) and `transaction` closures beyond the seed's examples: order of
//! writes, deletes, failed commits, nested transactions as savepoints, queries inside a
//! transaction, tracked rows.

mod common;
mod fixtures;

use chakra::prelude::*;
use common::TARGETS_MYSQL;
use fixtures::{seeded, user, Post, User};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_writes_in_order_and_writes_back() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let mut old = user("old");
        old.save(&pool).await.unwrap();

        let session = Session::new(&pool);
        let mut a = user("a");
        let mut b = user("b");
        old.balance = 9;
        session.add(&mut a);
        session.add(&mut old);
        session.add(&mut b);
        session.delete(&User {
            id: 1,
            ..user("old")
        });
        // The delete of `old` comes after its update: the row is gone at the end.
        session.commit().await.unwrap();
        assert_eq!((a.id, b.id), (2, 3), "{d:?}: inserted in add order");
        let names: Vec<String> = User::query()
            .order_by(User::id())
            .all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["a", "b"], "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_commit_writes_nothing_and_assigns_no_ids() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let session = Session::new(&pool);
        let mut a = user("same");
        let mut b = user("same");
        session.add(&mut a);
        session.add(&mut b);
        let err = session.commit().await.unwrap_err();
        assert!(matches!(err, Error::UniqueViolation(_)), "{d:?}: {err}");
        assert_eq!((a.id, b.id), (0, 0), "{d:?}: no id written back");
        assert_eq!(User::query().count(&pool).await.unwrap(), 0, "{d:?}");
        assert_eq!(pool.status().size, pool.status().available);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_writes_pending_work_and_returns_a_value() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let session = Session::new(&pool);
        let mut a = user("a");
        session.add(&mut a);
        let seen = session
            .transaction(|tx| async move {
                // The session's pending insert is visible inside the transaction.
                let n = User::query().count(&tx).await?;
                let mut p = Post {
                    id: 0,
                    author_id: 1,
                    title: "t".into(),
                    author: Default::default(),
                };
                p.save(&tx).await?;
                Ok((n, p.id))
            })
            .await
            .unwrap();
        assert_eq!(seen, (1, 1), "{d:?}");
        drop(session);
        assert_eq!(a.id, 1);
        assert_eq!(Post::query().count(&pool).await.unwrap(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_transactions_are_savepoints() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let mut users = vec![user("a"), user("b")];
        User::insert_many(&pool, &mut users).await.unwrap();
        let session = Session::new(&pool);
        session
            .transaction(|tx| async move {
                let mut a = tx.get::<User>(1).await?.unwrap();
                a.balance = 10;
                drop(a);
                // Inner failure: its work is undone, the outer goes on.
                let inner: chakra::Result<()> = tx
                    .transaction(|tx| async move {
                        assert_eq!(tx.depth(), 1);
                        let mut b = tx.get::<User>(2).await?.unwrap();
                        b.balance = 99;
                        drop(b);
                        User::query()
                            .filter(User::id().eq(1))
                            .update()
                            .set(User::email(), "lost@example.com")
                            .execute(&tx)
                            .await?;
                        Err(Error::InvalidQuery("inner fails".into()))
                    })
                    .await;
                assert!(inner.is_err());
                assert_eq!(tx.depth(), 0);
                // Inner success: kept.
                tx.transaction(|tx| async move {
                    let mut b = tx.get::<User>(2).await?.unwrap();
                    b.balance = 20;
                    Ok(())
                })
                .await?;
                Ok(())
            })
            .await
            .unwrap();
        let a = User::get(&pool, 1).await.unwrap();
        let b = User::get(&pool, 2).await.unwrap();
        assert_eq!((a.balance, b.balance), (10, 20), "{d:?}");
        assert_eq!(
            a.email, "a@example.com",
            "{d:?}: the failed savepoint's write is undone"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracked_rows_write_only_changed_fields() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let mut users = vec![user("a")];
        User::insert_many(&pool, &mut users).await.unwrap();
        let session = Session::new(&pool);
        session
            .transaction(|tx| async move {
                let mut a = tx.get::<User>(1).await?.unwrap();
                assert!(a.changes().is_empty());
                a.balance += 5;
                assert_eq!(a.changes(), vec![(5, Value::I64(5))]);
                // Someone else's write to another field is not overwritten.
                User::query()
                    .update()
                    .set(User::email(), "other@example.com")
                    .execute(&tx)
                    .await?;
                assert!(tx.get::<User>(2).await?.is_none());
                // A row from a query, tracked explicitly.
                let loaded = User::query().one(&tx).await?;
                let mut t = tx.track(loaded);
                t.is_active = false;
                let plain: User = t.into_inner();
                assert!(!plain.is_active);
                Ok(())
            })
            .await
            .unwrap();
        let a = User::get(&pool, 1).await.unwrap();
        assert_eq!(
            (a.balance, a.email.as_str(), a.is_active),
            (5, "other@example.com", false),
            "{d:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_transactions_are_executors_too() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let mut t = pool.begin().await.unwrap();
        let mut u = user("raw");
        u.save(&mut t).await.unwrap();
        assert_eq!(User::get(&mut t, u.id).await.unwrap().username, "raw");
        t.rollback().await.unwrap();
        assert_eq!(User::query().count(&pool).await.unwrap(), 0, "{d:?}");
    }
}
