//! Concurrency safety (issue 9): 200 concurrent seed-style transfers over 10 accounts never
//! lose or make money; conflicts are named and retryable; the retrying `transaction` lands
//! every transfer; two sessions writing the same rows in opposite order do not deadlock.

mod common;

use chakra::prelude::*;
use chakra::{Dialect, PoolOptions, TransactionOptions};
use common::{Target, TestDb, PG_TARGETS, TARGETS_MYSQL};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// An account as in the seed's transfer (a user with a balance).
#[derive(Debug, Clone, Model)]
#[chakra(table = "accounts")]
pub struct Account {
    #[chakra(primary_key)]
    pub id: i64,
    #[chakra(max_length = 50)]
    pub owner: String,
    pub balance: i64,
}

/// The same with a version column: other fields are not compared.
#[derive(Debug, Clone, Model)]
#[chakra(table = "vaccounts")]
pub struct VAccount {
    #[chakra(primary_key)]
    pub id: i64,
    pub balance: i64,
    #[chakra(unchecked)]
    pub note: String,
    #[chakra(version)]
    pub version: i32,
}

const ACCOUNTS: i64 = 10;
const TRANSFERS: usize = 200;
const START: i64 = 1_000;

async fn accounts(d: Target) -> (TestDb, Pool) {
    let db = TestDb::on(d).await;
    let pool = Pool::connect_with(
        &db.url,
        PoolOptions {
            max_size: 10,
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    chakra::schema::create_tables(&pool, &[Account::meta(), VAccount::meta()], false)
        .await
        .unwrap();
    let mut rows: Vec<Account> = (1..=ACCOUNTS)
        .map(|id| Account {
            id,
            owner: format!("owner{id}"),
            balance: START,
        })
        .collect();
    Account::insert_many(&pool, &mut rows).await.unwrap();
    (db, pool)
}

/// Transfer `i`: from, to, amount (deterministic, from and to differ).
fn plan(i: usize) -> (i64, i64, i64) {
    let x = (i as i64).wrapping_mul(7919) + 13;
    let from = x % ACCOUNTS + 1;
    let to = (from + 1 + (x / 10) % (ACCOUNTS - 1)) % ACCOUNTS + 1;
    let to = if to == from { to % ACCOUNTS + 1 } else { to };
    (from, to, 1 + x % 50)
}

/// The seed's transfer, as written there.
async fn transfer(
    session: &Session<'_>,
    opts: TransactionOptions,
    (from, to, amount): (i64, i64, i64),
    runs: &AtomicU32,
) -> chakra::Result<()> {
    session
        .transaction_with(opts, |tx| async move {
            runs.fetch_add(1, Ordering::Relaxed);
            let mut a = tx.get::<Account>(from).await?.unwrap();
            let mut b = tx.get::<Account>(to).await?.unwrap();
            a.balance -= amount;
            b.balance += amount;
            Ok(())
        })
        .await
}

async fn balances(pool: &Pool) -> Vec<i64> {
    Account::query()
        .order_by(Account::id())
        .all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.balance)
        .collect()
}

fn ledger(landed: &[usize]) -> Vec<i64> {
    let mut b = vec![START; ACCOUNTS as usize];
    for &i in landed {
        let (from, to, amount) = plan(i);
        b[(from - 1) as usize] -= amount;
        b[(to - 1) as usize] += amount;
    }
    b
}

/// Runs the 200 transfers at once; returns the indices that landed, the errors, and how
/// many times closures ran.
async fn run_all(pool: &Pool, opts: TransactionOptions) -> (Vec<usize>, Vec<chakra::Error>, u32) {
    let runs = Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..TRANSFERS)
        .map(|i| {
            let pool = pool.clone();
            let runs = runs.clone();
            tokio::spawn(async move {
                let session = Session::new(&pool);
                (i, transfer(&session, opts, plan(i), &runs).await)
            })
        })
        .collect();
    let mut landed = Vec::new();
    let mut errors = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (i, Ok(())) => landed.push(i),
            (_, Err(e)) => errors.push(e),
        }
    }
    (landed, errors, runs.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_transfers_without_retry_lose_nothing() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = accounts(d).await;
        let mut all_landed = Vec::new();
        for round in 0..5 {
            let (landed, errors, _) =
                run_all(&pool, TransactionOptions::default().attempts(1)).await;
            for e in &errors {
                assert!(e.retryable(), "{d:?} round {round}: {e}");
                assert!(
                    !matches!(e, chakra::Error::Deadlock(_)),
                    "{d:?} round {round}: flushes in key order cannot deadlock: {e}"
                );
            }
            assert_eq!(landed.len() + errors.len(), TRANSFERS);
            all_landed.extend(landed.iter().copied());
            assert_eq!(
                balances(&pool).await,
                ledger(&all_landed),
                "{d:?} round {round}: balances are the ledger of the {} transfers that landed ({} failed)",
                landed.len(),
                errors.len()
            );
            println!(
                "{d:?} round {round}: {} landed, {} failed with a retryable error",
                landed.len(),
                errors.len()
            );
        }
        let total: i64 = balances(&pool).await.iter().sum();
        assert_eq!(total, START * ACCOUNTS, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_transfers_through_the_retrying_transaction_all_land() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = accounts(d).await;
        let opts = TransactionOptions::default().attempts(50);
        for round in 1..=5 {
            let (landed, errors, runs) = run_all(&pool, opts).await;
            assert!(errors.is_empty(), "{d:?} round {round}: {:?}", errors);
            assert_eq!(landed.len(), TRANSFERS);
            let all: Vec<usize> = (0..round).flat_map(|_| 0..TRANSFERS).collect();
            assert_eq!(balances(&pool).await, ledger(&all), "{d:?} round {round}");
            println!(
                "{d:?} round {round}: 200 landed after {} re-runs",
                runs as usize - TRANSFERS
            );
        }
    }
}

/// The default (3 attempts) re-runs a transfer that lost a race.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_transaction_reruns_a_conflict() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = accounts(d).await;
        let session = Session::new(&pool);
        let runs = AtomicU32::new(0);
        let other = pool.clone();
        session
            .transaction(|tx| {
                let other = other.clone();
                let runs = &runs;
                async move {
                    let n = runs.fetch_add(1, Ordering::Relaxed);
                    let mut a = tx.get::<Account>(1).await?.unwrap();
                    if n == 0 && tx.dialect() == Dialect::Postgres {
                        // Someone else moves money from account 1 after we read it.
                        Account::query()
                            .filter(Account::id().eq(1))
                            .update()
                            .set(Account::balance(), 1)
                            .execute(&other)
                            .await?;
                    }
                    a.balance -= 100;
                    Ok(())
                }
            })
            .await
            .unwrap();
        let expect_runs = if d.dialect() == Dialect::Postgres {
            2
        } else {
            1
        };
        assert_eq!(runs.load(Ordering::Relaxed), expect_runs, "{d:?}");
        let expect = if d.dialect() == Dialect::Postgres {
            -99
        } else {
            900
        };
        assert_eq!(balances(&pool).await[0], expect, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_update_is_a_named_concurrent_update() {
    // Without the retry: the conflict is reported, naming the model and key, and nothing
    // is written.
    for d in PG_TARGETS {
        let (_db, pool) = accounts(d).await;
        let session = Session::new(&pool);
        let other = pool.clone();
        let e = session
            .transaction_with(TransactionOptions::default().attempts(1), |tx| {
                let other = other.clone();
                async move {
                    let mut a = tx.get::<Account>(3).await?.unwrap();
                    Account::query()
                        .filter(Account::id().eq(3))
                        .update()
                        .set(Account::balance(), 7)
                        .execute(&other)
                        .await?;
                    a.balance += 1;
                    Ok(())
                }
            })
            .await
            .unwrap_err();
        assert!(e.retryable(), "{e}");
        match &e {
            chakra::Error::ConcurrentUpdate { model, table, key } => {
                assert_eq!(
                    (model.as_str(), table.as_str(), key.as_str()),
                    ("Account", "accounts", "3")
                );
            }
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains("Account"), "{e}");
        assert_eq!(
            balances(&pool).await[2],
            7,
            "{d:?}: the other writer's value stays"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_column_guards_the_row() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = accounts(d).await;
        let mut v = vec![VAccount {
            id: 1,
            balance: 10,
            note: "n".into(),
            version: 0,
        }];
        VAccount::insert_many(&pool, &mut v).await.unwrap();
        let session = Session::new(&pool);
        let seen = session
            .transaction(|tx| async move {
                let mut a = tx.get::<VAccount>(1).await?.unwrap();
                a.balance += 5;
                let a = a.into_inner();
                Ok(a.version)
            })
            .await
            .unwrap();
        assert_eq!(seen, 1, "{d:?}: the object holds the new version");
        let row = VAccount::get(&pool, 1).await.unwrap();
        assert_eq!((row.balance, row.version), (15, 1), "{d:?}");

        // A concurrent change bumps the version: the stale write is refused.
        if d.dialect() == Dialect::Postgres {
            let other = pool.clone();
            let e = session
                .transaction_with(TransactionOptions::default().attempts(1), |tx| {
                    let other = other.clone();
                    async move {
                        let mut a = tx.get::<VAccount>(1).await?.unwrap();
                        VAccount::query()
                            .filter(VAccount::id().eq(1))
                            .update()
                            .set(VAccount::version(), 5)
                            .execute(&other)
                            .await?;
                        a.note = "mine".into();
                        Ok(())
                    }
                })
                .await
                .unwrap_err();
            assert!(
                matches!(e, chakra::Error::ConcurrentUpdate { .. }),
                "{d:?}: {e}"
            );
        }
    }
}

/// Two sessions write the same two rows, in opposite code order, at the same moment: the
/// flush writes them in key order, so one waits for the other instead of deadlocking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opposite_order_writers_do_not_deadlock() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = accounts(d).await;
        for round in 0..5 {
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let mut tasks = Vec::new();
            for (first, second) in [(1i64, 2i64), (2, 1)] {
                let pool = pool.clone();
                let barrier = barrier.clone();
                tasks.push(tokio::spawn(async move {
                    let session = Session::new(&pool);
                    session
                        .transaction_with(TransactionOptions::default().attempts(1), |tx| {
                            let barrier = barrier.clone();
                            async move {
                                let mut a = tx.get::<Account>(first).await?.unwrap();
                                a.balance -= 1;
                                drop(a);
                                let mut b = tx.get::<Account>(second).await?.unwrap();
                                b.balance += 1;
                                drop(b);
                                // Both have read before either writes (on SQLite the second
                                // waits at BEGIN, so do not wait for it forever).
                                let _ = tokio::time::timeout(
                                    Duration::from_millis(300),
                                    barrier.wait(),
                                )
                                .await;
                                Ok(())
                            }
                        })
                        .await
                }));
            }
            for t in tasks {
                if let Err(e) = t.await.unwrap() {
                    assert!(
                        matches!(e, chakra::Error::ConcurrentUpdate { .. }),
                        "{d:?} round {round}: {e}"
                    );
                }
            }
            let total: i64 = balances(&pool).await.iter().sum();
            assert_eq!(total, START * ACCOUNTS, "{d:?}");
        }
    }
}

/// Pessimistic locking: `get_for_update` makes a second transaction wait for the first, so
/// neither conflicts; `NOWAIT` fails at once with a retryable `LockTimeout`; SQLite runs
/// the plain SELECT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_for_update_locks_rows() {
    use chakra::dsl::{LockWait, RowLock};
    let q = Account::query()
        .filter(Account::id().eq(1))
        .for_update()
        .to_statement();
    let pg = chakra::compile(&q, Dialect::Postgres).unwrap().sql();
    assert!(pg.ends_with(" FOR UPDATE"), "{pg}");
    let lite = chakra::compile(&q, Dialect::Sqlite).unwrap().sql();
    assert!(!lite.contains("FOR UPDATE"), "{lite}");
    let nowait = Account::query()
        .lock(RowLock {
            wait: LockWait::SkipLocked,
            of: vec!["accounts".into()],
            ..RowLock::update()
        })
        .to_statement();
    let sql = chakra::compile(&nowait, Dialect::Postgres).unwrap().sql();
    assert!(
        sql.ends_with(r#" FOR UPDATE OF "accounts" SKIP LOCKED"#),
        "{sql}"
    );

    for d in TARGETS_MYSQL {
        let (_db, pool) = accounts(d).await;
        // 20 concurrent increments through locking reads: none conflicts, none is lost.
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    Session::new(&pool)
                        .transaction_with(
                            TransactionOptions::default().attempts(1),
                            |tx| async move {
                                let mut a = tx.get_for_update::<Account>(1).await?.unwrap();
                                a.balance += 1;
                                Ok(())
                            },
                        )
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap_or_else(|e| panic!("{d:?}: {e}"));
        }
        assert_eq!(balances(&pool).await[0], START + 20, "{d:?}");
    }

    for d in PG_TARGETS {
        let (_db, pool) = accounts(d).await;
        let mut holder = pool.begin().await.unwrap();
        let mut h = &mut holder;
        Account::query()
            .filter(Account::id().eq(2))
            .for_update()
            .all(&mut h)
            .await
            .unwrap();
        let e = Session::new(&pool)
            .transaction_with(TransactionOptions::default().attempts(1), |tx| async move {
                Account::query()
                    .filter(Account::id().eq(2))
                    .lock(RowLock {
                        wait: LockWait::NoWait,
                        ..RowLock::update()
                    })
                    .all(&tx)
                    .await
            })
            .await
            .unwrap_err();
        assert!(matches!(e, chakra::Error::LockTimeout(_)), "{e}");
        assert_eq!(e.sqlstate(), Some("55P03"));
        assert!(e.retryable(), "{d:?}");
        holder.rollback().await.unwrap();
    }
}

/// The default retrying transaction (3 attempts): 200 concurrent transfers all land, 5 rounds
/// in a row, with no deadlock (a re-run locks the rows its failed attempt read, in primary-key
/// order), and the balances are the ledger. Prints the re-runs and the time of a round
/// against the same 200 transfers run one after another (the uncontended path).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_transfers_with_the_default_three_attempts() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = accounts(d).await;
        for round in 1..=5 {
            let started = std::time::Instant::now();
            let (landed, errors, runs) = run_all(&pool, TransactionOptions::default()).await;
            let took = started.elapsed();
            assert!(
                errors.is_empty(),
                "{d:?} round {round}: {} of 200 failed, first: {}",
                errors.len(),
                errors[0]
            );
            assert_eq!(landed.len(), TRANSFERS, "{d:?} round {round}");
            let all: Vec<usize> = (0..round).flat_map(|_| 0..TRANSFERS).collect();
            assert_eq!(balances(&pool).await, ledger(&all), "{d:?} round {round}");
            println!(
                "{d:?} round {round}: default 3 attempts: 200 of 200 landed, {} re-runs, {took:?}",
                runs as usize - TRANSFERS
            );
        }
        // The uncontended path: the same transfers one at a time never re-run.
        let runs = AtomicU32::new(0);
        let session = Session::new(&pool);
        let started = std::time::Instant::now();
        for i in 0..TRANSFERS {
            transfer(&session, TransactionOptions::default(), plan(i), &runs)
                .await
                .unwrap();
        }
        let took = started.elapsed();
        assert_eq!(runs.load(Ordering::Relaxed) as usize, TRANSFERS, "{d:?}");
        let all: Vec<usize> = (0..6).flat_map(|_| 0..TRANSFERS).collect();
        assert_eq!(balances(&pool).await, ledger(&all), "{d:?}");
        println!(
            "{d:?} uncontended: 200 transfers one after another, 0 re-runs, {took:?} ({:?} each)",
            took / TRANSFERS as u32
        );
    }
}

/// A re-run after a compare-and-set conflict holds the rows its failed attempt read before it
/// reads them (`FOR UPDATE`): another transaction asking for them with `NOWAIT` is refused,
/// while a row the failed attempt did not read stays free; the first attempt locks nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_locks_only_the_rows_the_failed_attempt_read() {
    use chakra::dsl::{LockWait, RowLock};
    for d in PG_TARGETS {
        let (_db, pool) = accounts(d).await;
        let other = pool.clone();
        // Whether another transaction can lock row `id` at once (NOWAIT).
        let free = |id: i64| {
            let other = other.clone();
            async move {
                let mut t = other.begin().await.unwrap();
                let mut e = &mut t;
                let r = Account::query()
                    .filter(Account::id().eq(id))
                    .lock(RowLock {
                        wait: LockWait::NoWait,
                        ..RowLock::update()
                    })
                    .all(&mut e)
                    .await;
                let _ = t.rollback().await;
                match r {
                    Ok(_) => true,
                    Err(e) if e.sqlstate() == Some("55P03") => false,
                    Err(e) => panic!("{e}"),
                }
            }
        };
        let runs = AtomicU32::new(0);
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        Session::new(&pool)
            .transaction(|tx| {
                let runs = &runs;
                let seen = seen.clone();
                let other = other.clone();
                async move {
                    let n = runs.fetch_add(1, Ordering::Relaxed);
                    let held = (free(3).await, free(4).await, free(7).await);
                    seen.lock().unwrap().push(held);
                    let mut a = tx.get::<Account>(3).await?.unwrap();
                    let mut b = tx.get::<Account>(7).await?.unwrap();
                    if n == 0 {
                        Account::query()
                            .filter(Account::id().eq(7))
                            .update()
                            .set(Account::balance(), 500)
                            .execute(&other)
                            .await?;
                    }
                    a.balance -= 10;
                    b.balance += 10;
                    Ok(())
                }
            })
            .await
            .unwrap();
        assert_eq!(runs.load(Ordering::Relaxed), 2, "{d:?}");
        // (row 3 free, row 4 free, row 7 free) at the start of each attempt.
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(true, true, true), (false, true, false)],
            "{d:?}"
        );
        let b = balances(&pool).await;
        assert_eq!((b[2], b[3], b[6]), (990, 1000, 510), "{d:?}");
    }
}
