//! The save and delete hooks of `chakra::model::Hooks` under `#[chakra(hooks)]`, on SQLite
//! and PostgreSQL: `pre_save` → write → `post_save` (`created` for inserts), `pre_delete` →
//! delete → `post_delete`, from `save`, `save_fields`, `delete` and a `Session`'s commit;
//! each runs in the write's transaction (its audit row commits with the write and vanishes
//! when it rolls back), an `Err` from `post_save` rolls the write back and is returned
//! unchanged, one from `pre_save` means no write runs; the bulk paths call no hook. The
//! hooks record what they saw in an audit table, read back afterwards with plain SQL.

mod common;

use chakra::prelude::*;
use chakra::{Dialect, FromRow, Transaction, TransactionOptions};
use common::{ALL3, BOTH};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Model)]
#[chakra(table = "hk_audit")]
pub struct HkAudit {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 80)]
    pub event: String,
}

/// A note whose hooks write an audit row saying whether its row was there when they ran;
/// a title `fail <hook>` makes that hook fail (after writing its audit row).
#[derive(Debug, Clone, Model)]
#[chakra(table = "hk_notes", hooks)]
pub struct HkNote {
    #[chakra(primary_key)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub title: String,
    pub words: i32,
}

impl HkNote {
    async fn record(&self, tx: &mut Transaction, what: &str) -> chakra::Result<()> {
        let there = HkNote::query()
            .filter(HkNote::id().eq(self.id))
            .exists(&mut *tx)
            .await?;
        let mut row = HkAudit {
            id: 0,
            event: format!("{what} {} {there}", self.title),
        };
        row.save(&mut *tx).await?;
        if self.title == format!("fail {what}") {
            return Err(Error::InvalidQuery(format!("hook {what} refused")));
        }
        Ok(())
    }
}

impl Hooks for HkNote {
    async fn pre_save(&self, tx: &mut Transaction) -> chakra::Result<()> {
        self.record(tx, "pre_save").await
    }

    async fn post_save(&self, tx: &mut Transaction, created: bool) -> chakra::Result<()> {
        let what = if created {
            "post_save created"
        } else {
            "post_save"
        };
        self.record(tx, what).await?;
        if self.title == "conflict once" && CONFLICTS.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(Error::ConcurrentUpdate {
                model: "HkNote".into(),
                table: "hk_notes".into(),
                key: self.id.to_string(),
            });
        }
        if self.title == "fail post_save" {
            return Err(Error::InvalidQuery("hook post_save refused".into()));
        }
        Ok(())
    }

    async fn pre_delete(&self, tx: &mut Transaction) -> chakra::Result<()> {
        self.record(tx, "pre_delete").await
    }

    async fn post_delete(&self, tx: &mut Transaction) -> chakra::Result<()> {
        self.record(tx, "post_delete").await
    }
}

/// How many times a `conflict once` note's post_save ran (it fails the first time).
static CONFLICTS: AtomicUsize = AtomicUsize::new(0);

fn note(id: i64, title: &str) -> HkNote {
    HkNote {
        id,
        title: title.into(),
        words: 0,
    }
}

async fn setup(d: Dialect) -> (common::TestDb, Pool) {
    let db = common::TestDb::new(d).await;
    let pool = db.pool().await;
    chakra::schema::create_tables(&pool, &[HkAudit::meta(), HkNote::meta()], false)
        .await
        .unwrap();
    (db, pool)
}

#[derive(Debug, FromRow)]
struct EventRow {
    event: String,
}

#[derive(Debug, FromRow)]
struct NoteRow {
    id: i64,
    title: String,
}

/// The audit rows, in the order written, by plain SQL.
async fn audit(pool: &Pool) -> Vec<String> {
    let rows: Vec<EventRow> = chakra::raw_as("SELECT event FROM hk_audit ORDER BY id")
        .all(pool)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.event).collect()
}

/// The notes' (id, title), by plain SQL.
async fn notes(pool: &Pool) -> Vec<(i64, String)> {
    let rows: Vec<NoteRow> = chakra::raw_as("SELECT id, title FROM hk_notes ORDER BY id")
        .all(pool)
        .await
        .unwrap();
    rows.into_iter().map(|r| (r.id, r.title)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_and_delete_call_the_hooks_in_order_in_one_transaction() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        let mut n = note(1, "first");
        n.save(&pool).await.unwrap();
        n.title = "second".into();
        n.save(&pool).await.unwrap();
        n.title = "third".into();
        n.save_fields(&pool, HkNote::title()).await.unwrap();
        n.delete(&pool).await.unwrap();
        assert_eq!(
            audit(&pool).await,
            [
                "pre_save first false",
                "post_save created first true",
                "pre_save second true",
                "post_save second true",
                "pre_save third true",
                "post_save third true",
                "pre_delete third true",
                "post_delete third false",
            ],
            "{d:?}"
        );
        assert_eq!(notes(&pool).await, [], "{d:?}");

        // The bulk paths call no hook.
        HkNote::insert_many(&pool, &mut [note(5, "bulk")])
            .await
            .unwrap();
        HkNote::query()
            .filter(HkNote::id().eq(5))
            .delete(&pool)
            .await
            .unwrap();
        assert_eq!(audit(&pool).await.len(), 8, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_hook_rolls_the_write_back_and_its_error_is_returned() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        let err = note(1, "fail post_save").save(&pool).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidQuery(m) if m == "hook post_save refused"),
            "{err}"
        );
        assert_eq!(notes(&pool).await, [], "{d:?}");
        assert_eq!(audit(&pool).await, Vec::<String>::new(), "{d:?}");

        let err = note(2, "fail pre_save").save(&pool).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidQuery(m) if m == "hook pre_save refused"),
            "{err}"
        );
        assert_eq!(notes(&pool).await, [], "{d:?}");

        // A delete whose post_delete fails keeps the row.
        let mut kept = note(3, "kept");
        kept.save(&pool).await.unwrap();
        kept.title = "fail post_delete".into();
        kept.save_fields(&pool, HkNote::words()).await.unwrap();
        assert!(kept.delete(&pool).await.is_err());
        assert_eq!(notes(&pool).await, [(3, "kept".to_string())], "{d:?}");
        assert_eq!(
            audit(&pool).await,
            [
                "pre_save kept false",
                "post_save created kept true",
                "pre_save fail post_delete true",
                "post_save fail post_delete true",
            ],
            "{d:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_join_the_callers_transaction() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        // A raw transaction: the hooks' audit rows go with it.
        let mut tx = pool.begin().await.unwrap();
        note(1, "rolled back").save(&mut tx).await.unwrap();
        tx.rollback().await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        note(2, "committed").save(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        // A session's Tx, in a closure that fails the first time: the re-run runs the hooks
        // again and only its rows stay.
        let attempts = AtomicUsize::new(0);
        let session = Session::new(&pool);
        session
            .transaction(|tx| {
                let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    note(3, &format!("attempt {attempt}")).save(&tx).await?;
                    if attempt == 1 {
                        return Err(Error::ConcurrentUpdate {
                            model: "HkNote".into(),
                            table: "hk_notes".into(),
                            key: "3".into(),
                        });
                    }
                    Ok(())
                }
            })
            .await
            .unwrap();
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
        assert_eq!(
            notes(&pool).await,
            [(2, "committed".to_string()), (3, "attempt 2".to_string())],
            "{d:?}"
        );
        assert_eq!(
            audit(&pool).await,
            [
                "pre_save committed false",
                "post_save created committed true",
                "pre_save attempt 2 false",
                "post_save created attempt 2 true",
            ],
            "{d:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_commit_calls_the_hooks() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        let mut old = note(1, "old");
        let gone = note(2, "gone");
        HkNote::insert_many(&pool, &mut [old.clone(), gone.clone()])
            .await
            .unwrap();
        let mut new = note(3, "new");
        old.title = "old changed".into();
        {
            let session = Session::new(&pool);
            session.add(&mut new);
            session.add(&mut old);
            session.delete(&gone);
            session.commit().await.unwrap();
        }
        assert_eq!(
            audit(&pool).await,
            [
                "pre_save new false",
                "pre_save old changed true",
                "pre_delete gone true",
                "post_delete gone false",
                "post_save created new true",
                "post_save old changed true",
            ],
            "{d:?}"
        );
        assert_eq!(
            notes(&pool).await,
            [(1, "old changed".to_string()), (3, "new".to_string())],
            "{d:?}"
        );

        // A failing post_save: nothing of the unit of work stays.
        let mut bad = note(4, "fail post_save");
        let mut other = note(5, "other");
        let session = Session::new(&pool);
        session.add(&mut other);
        session.add(&mut bad);
        assert!(session.commit().await.is_err());
        assert_eq!(notes(&pool).await.len(), 2, "{d:?}");
        assert_eq!(audit(&pool).await.len(), 6, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_hook_error_reruns_a_try_transaction_that_hid_it() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        CONFLICTS.store(0, Ordering::SeqCst);
        let session = Session::new(&pool);
        let attempts = AtomicUsize::new(0);
        // The closure turns Chakra's error into its own: the session still sees that a
        // statement of the attempt (here, the hook) failed with a retryable error.
        let r: Result<(), TransactionError<String>> = session
            .try_transaction(|tx| {
                attempts.fetch_add(1, Ordering::SeqCst);
                async move {
                    note(1, "conflict once")
                        .save(&tx)
                        .await
                        .map_err(|e| format!("mine: {e}"))
                }
            })
            .await;
        r.unwrap();
        assert_eq!(attempts.load(Ordering::SeqCst), 2, "{d:?}");
        assert_eq!(
            notes(&pool).await,
            [(1, "conflict once".to_string())],
            "{d:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracked_rows_flush_calls_the_save_hooks() {
    for d in BOTH {
        let (_db, pool) = setup(d).await;
        HkNote::insert_many(&pool, &mut [note(1, "a"), note(2, "b"), note(3, "c")])
            .await
            .unwrap();
        let session = Session::new(&pool);
        session
            .transaction(|tx| async move {
                // Changed in key order 2, 1: flushed (and hooked) in key order; 3 is read
                // but unchanged, so no hook runs for it.
                let mut b = tx.get::<HkNote>(2).await?.expect("row 2");
                b.title = "b changed".into();
                drop(b);
                let mut a = tx.get_for_update::<HkNote>(1).await?.expect("row 1");
                a.title = "a changed".into();
                drop(a);
                let _c = tx.get::<HkNote>(3).await?.expect("row 3");
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            audit(&pool).await,
            [
                "pre_save a changed true",
                "pre_save b changed true",
                "post_save a changed true",
                "post_save b changed true",
            ],
            "{d:?}"
        );
        assert_eq!(
            notes(&pool).await,
            [
                (1, "a changed".to_string()),
                (2, "b changed".to_string()),
                (3, "c".to_string())
            ],
            "{d:?}"
        );

        // A savepoint's tracked row is hooked when the savepoint ends.
        session
            .transaction(|tx| async move {
                tx.transaction(|inner| async move {
                    let mut c = inner.get::<HkNote>(3).await?.expect("row 3");
                    c.title = "c inner".into();
                    Ok(())
                })
                .await
            })
            .await
            .unwrap();
        assert_eq!(audit(&pool).await.len(), 6, "{d:?}");
        assert_eq!(
            audit(&pool).await[4..],
            ["pre_save c inner true", "post_save c inner true"],
            "{d:?}"
        );

        // A failing hook fails the commit: the row and the audit rows stay as they were.
        for title in ["fail pre_save", "fail post_save"] {
            let err = session
                .transaction(|tx| async move {
                    let mut c = tx.get::<HkNote>(3).await?.expect("row 3");
                    c.title = title.into();
                    Ok(())
                })
                .await
                .unwrap_err();
            let want = format!("hook {} refused", &title[5..]);
            assert!(
                matches!(&err, Error::InvalidQuery(m) if *m == want),
                "{d:?}: {err}"
            );
            assert_eq!(notes(&pool).await[2], (3, "c inner".to_string()), "{d:?}");
            assert_eq!(audit(&pool).await.len(), 6, "{d:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_or_create_calls_the_save_hooks_when_it_inserts() {
    for d in BOTH {
        let (_db, pool) = setup(d).await;
        let (made, created) = HkNote::query()
            .filter(HkNote::id().eq(1))
            .get_or_create(&pool, || note(1, "made"))
            .await
            .unwrap();
        assert!(created && made.title == "made", "{d:?}");
        let (found, created) = HkNote::query()
            .filter(HkNote::id().eq(1))
            .get_or_create(&pool, || note(1, "other"))
            .await
            .unwrap();
        assert!(!created && found.title == "made", "{d:?}");
        assert_eq!(
            audit(&pool).await,
            ["pre_save made false", "post_save created made true"],
            "{d:?}"
        );

        // A new object whose key is taken by a row the query does not match: an INSERT
        // (never an UPDATE of that row, as `save` would do), refused as a unique violation;
        // the hooks' audit rows go with the rolled-back savepoint.
        let err = HkNote::query()
            .filter(HkNote::title().eq("clash"))
            .get_or_create(&pool, || note(1, "clash"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UniqueViolation(_)), "{d:?}: {err}");
        assert_eq!(notes(&pool).await, [(1, "made".to_string())], "{d:?}");
        assert_eq!(audit(&pool).await.len(), 2, "{d:?}");

        // A failing post_save: no row; in a surrounding transaction it goes on.
        let err = HkNote::query()
            .filter(HkNote::id().eq(2))
            .get_or_create(&pool, || note(2, "fail post_save"))
            .await
            .unwrap_err();
        assert!(matches!(&err, Error::InvalidQuery(m) if m == "hook post_save refused"));
        let mut tx = pool.begin().await.unwrap();
        assert!(HkNote::query()
            .filter(HkNote::id().eq(2))
            .get_or_create(&mut tx, || note(2, "fail post_save"))
            .await
            .is_err());
        let (_, created) = HkNote::query()
            .filter(HkNote::id().eq(3))
            .get_or_create(&mut tx, || note(3, "in tx"))
            .await
            .unwrap();
        assert!(created, "{d:?}");
        tx.commit().await.unwrap();
        assert_eq!(
            notes(&pool).await,
            [(1, "made".to_string()), (3, "in tx".to_string())],
            "{d:?}"
        );
        assert_eq!(
            audit(&pool).await[2..],
            ["pre_save in tx false", "post_save created in tx true"],
            "{d:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_or_create_calls_the_save_hooks_in_one_transaction() {
    for d in BOTH {
        let (_db, pool) = setup(d).await;
        let retitle = |n: &mut HkNote| n.title = format!("{} updated", n.id);
        let (made, created) = HkNote::query()
            .filter(HkNote::id().eq(1))
            .update_or_create(&pool, || note(1, "new"), retitle)
            .await
            .unwrap();
        assert!(created && made.title == "1 updated", "{d:?}");
        HkAudit::query().delete(&pool).await.unwrap();
        let (got, created) = HkNote::query()
            .filter(HkNote::id().eq(1))
            .update_or_create(&pool, || note(1, "unused"), |n| n.words = 7)
            .await
            .unwrap();
        assert!(!created && got.words == 7, "{d:?}");
        assert_eq!(
            audit(&pool).await,
            ["pre_save 1 updated true", "post_save 1 updated true"],
            "{d:?}"
        );

        // A failing hook rolls back the update and its audit rows.
        HkAudit::query().delete(&pool).await.unwrap();
        let err = HkNote::query()
            .filter(HkNote::id().eq(1))
            .update_or_create(
                &pool,
                || note(1, "unused"),
                |n| n.title = "fail post_save".into(),
            )
            .await
            .unwrap_err();
        assert!(matches!(&err, Error::InvalidQuery(m) if m == "hook post_save refused"));
        assert_eq!(notes(&pool).await, [(1, "1 updated".to_string())], "{d:?}");
        assert_eq!(audit(&pool).await, Vec::<String>::new(), "{d:?}");

        // In a session's transaction: rolled back with it.
        let session = Session::new(&pool);
        let r: Result<(), Error> = session
            .transaction_with(TransactionOptions::default().attempts(1), |tx| async move {
                HkNote::query()
                    .filter(HkNote::id().eq(2))
                    .update_or_create(&tx, || note(2, "gone"), |_| {})
                    .await?;
                Err(Error::InvalidQuery("caller".into()))
            })
            .await;
        assert!(r.is_err());
        assert_eq!(notes(&pool).await.len(), 1, "{d:?}");
        assert_eq!(audit(&pool).await, Vec::<String>::new(), "{d:?}");
    }
}

/// A `get_or_create` that loses the race to a concurrent insert (PostgreSQL: its INSERT
/// waits for the other transaction, then fails with a unique violation) returns the row the
/// other transaction inserted, its own hooks' audit rows rolled back: with its own
/// transaction (on the pool) and in the caller's (a savepoint; the transaction goes on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_or_create_losing_a_race_returns_the_winners_row() {
    for in_tx in [false, true] {
        let (_db, pool) = setup(Dialect::Postgres).await;
        let mut winner = pool.begin().await.unwrap();
        chakra::raw_execute("INSERT INTO hk_notes (id, title, words) VALUES (1, 'winner', 0)")
            .execute(&mut winner)
            .await
            .unwrap();
        let racer = {
            let pool = pool.clone();
            tokio::spawn(async move {
                let q = HkNote::query().filter(HkNote::id().eq(1));
                if !in_tx {
                    return q.get_or_create(&pool, || note(1, "loser")).await;
                }
                let mut tx = pool.begin().await?;
                let got = q.get_or_create(&mut tx, || note(1, "loser")).await?;
                // The transaction is still usable: its own write commits.
                note(2, "after").save(&mut tx).await?;
                tx.commit().await?;
                Ok(got)
            })
        };
        // Wait until the racer's INSERT waits for the winner's lock.
        let mut waited = 0;
        loop {
            #[derive(Debug, FromRow)]
            struct Waiting {
                n: i64,
            }
            let w: Vec<Waiting> = chakra::raw_as(
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .all(&pool)
            .await
            .unwrap();
            if w[0].n > 0 {
                break;
            }
            waited += 1;
            assert!(waited < 500, "the racer never waited for the winner's lock");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        winner.commit().await.unwrap();
        let (got, created) = racer.await.unwrap().unwrap();
        assert!(!created && got.title == "winner", "in_tx {in_tx}");
        if in_tx {
            assert_eq!(
                notes(&pool).await,
                [(1, "winner".to_string()), (2, "after".to_string())]
            );
            assert_eq!(
                audit(&pool).await,
                ["pre_save after false", "post_save created after true"]
            );
        } else {
            assert_eq!(notes(&pool).await, [(1, "winner".to_string())]);
            assert_eq!(audit(&pool).await, Vec::<String>::new());
        }
    }
}
