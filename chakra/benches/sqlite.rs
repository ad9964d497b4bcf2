//! SQLite: Chakra's model API against `rusqlite` (the raw driver) with the same pragmas
//! (WAL, `synchronous = NORMAL`, foreign keys on), on one file, in one process.
//!
//! Workloads:
//! - bulk insert 10,000 rows in one transaction (Chakra `insert_many` in a transaction;
//!   rusqlite one cached prepared `INSERT` per row, the driver's fastest plain way);
//! - fetch 10,000 rows into structs (Chakra `User::query().all`; rusqlite a prepared
//!   `SELECT` mapped row by row);
//! - get by primary key ×1,000 (Chakra `User::get`; rusqlite `prepare_cached` + `query_row`).
//!
//! Contenders alternate round by round (robust to a shared VM's drift). Prints the median wall
//! time per operation, the process CPU time (user + system) per operation, and both as ratios
//! to rusqlite. Chakra runs on a current-thread tokio runtime, as an embedded application
//! would. Run: `cargo bench -p chakra --bench sqlite` (`-- --quick` for fewer rounds).

use chakra::prelude::*;
use chrono::{DateTime, Utc};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Model)]
#[chakra(table = "bench_users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 50)]
    pub username: String,
    #[chakra(max_length = 255)]
    pub email: String,
    pub created_at: DateTime<Utc>,
    #[chakra(default = true)]
    pub is_active: bool,
    #[chakra(default = 0)]
    pub balance: i64,
}

/// The same row, as rusqlite reads it (timestamps are text on SQLite, parsed as Chakra does).
#[allow(dead_code)]
struct RawUser {
    id: i64,
    username: String,
    email: String,
    created_at: DateTime<Utc>,
    is_active: bool,
    balance: i64,
}

const N: usize = 10_000;
const GETS: usize = 1_000;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn user(i: usize) -> User {
    User {
        id: 0,
        username: format!("user{i:05}"),
        email: format!("user{i}@example.com"),
        created_at: now(),
        is_active: !i.is_multiple_of(3),
        balance: i as i64,
    }
}

/// Process CPU time (user + system), every thread (`getrusage`).
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn raw_open(path: &std::path::Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
    )
    .unwrap();
    c
}

/// Chakra's timestamp text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`).
fn ts_text(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn raw_insert(c: &mut rusqlite::Connection, rows: &[User]) {
    let tx = c.transaction().unwrap();
    {
        let mut st = tx
            .prepare_cached(
                "INSERT INTO bench_users (username, email, created_at, is_active, balance) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .unwrap();
        for u in rows {
            st.execute(rusqlite::params![
                u.username,
                u.email,
                ts_text(&u.created_at),
                u.is_active,
                u.balance
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawUser> {
    let ts: String = r.get(3)?;
    Ok(RawUser {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        created_at: DateTime::parse_from_rfc3339(&ts)
            .map(|t| t.with_timezone(&Utc))
            .unwrap(),
        is_active: r.get(4)?,
        balance: r.get(5)?,
    })
}

const RAW_SELECT: &str =
    "SELECT id, username, email, created_at, is_active, balance FROM bench_users";

fn raw_fetch(c: &rusqlite::Connection) -> Vec<RawUser> {
    let mut st = c.prepare_cached(RAW_SELECT).unwrap();
    let rows = st.query_map([], raw_row).unwrap();
    rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
}

fn raw_get(c: &rusqlite::Connection, id: i64) -> RawUser {
    let mut st = c
        .prepare_cached(&format!("{RAW_SELECT} WHERE id = ?1"))
        .unwrap();
    st.query_row([id], raw_row).unwrap()
}

async fn chakra_insert(pool: &Pool, rows: &mut [User]) {
    let mut tx = pool.begin().await.unwrap();
    User::insert_many(&mut tx, rows).await.unwrap();
    tx.commit().await.unwrap();
}

async fn reset(pool: &Pool) {
    pool.batch_execute("DELETE FROM bench_users").await.unwrap();
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 5 } else { 15 };
    let dir = std::env::temp_dir().join(format!("chakra_bench_sqlite_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db");
    let url = format!("sqlite://{}", path.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = rt.block_on(async {
        let pool = Pool::connect(&url).await.unwrap();
        chakra::schema::create_tables(&pool, &[User::meta()], false)
            .await
            .unwrap();
        pool
    });
    let mut raw = raw_open(&path);

    // Both read the same rows (inserted by Chakra once for the read workloads).
    let fill = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            reset(&pool).await;
            let mut rows: Vec<User> = (0..N).map(user).collect();
            chakra_insert(&pool, &mut rows).await;
            rows.iter().map(|u| u.id).collect::<Vec<i64>>()
        })
    };
    let ids = fill(&rt);
    let a = rt.block_on(User::query().all(&pool)).unwrap();
    let b = raw_fetch(&raw);
    assert_eq!(a.len(), N);
    assert_eq!(b.len(), N);
    assert_eq!(a[17].created_at, b[17].created_at);
    assert_eq!(
        rt.block_on(User::get(&pool, ids[5])).unwrap().id,
        raw_get(&raw, ids[5]).id
    );

    // [workload][chakra, rusqlite]
    let mut wall = vec![[Vec::new(), Vec::new()]; 3];
    let mut cpu = [[Duration::ZERO; 2]; 3];
    let names = [
        "bulk insert 10,000 (one transaction)",
        "fetch 10,000 rows",
        "get by pk (per get, x1,000)",
    ];
    // `CHAKRA_BENCH_ONLY=insert|fetch|get`: one workload (for profiling).
    let only = std::env::var("CHAKRA_BENCH_ONLY").unwrap_or_default();
    let run = |w: &str| only.is_empty() || only == w;
    for round in 0..rounds + 1 {
        let keep = round > 0; // the first round warms caches
        for which in 0..2 {
            if !run("insert") {
                break;
            }
            // Bulk insert: on an empty table each time (the delete is not timed).
            rt.block_on(reset(&pool));
            let mut rows: Vec<User> = (0..N).map(user).collect();
            let (c0, t0) = (cpu_time(), Instant::now());
            if which == 0 {
                rt.block_on(chakra_insert(&pool, &mut rows));
            } else {
                raw_insert(&mut raw, &rows);
            }
            let (el, used) = (t0.elapsed(), cpu_time() - c0);
            if keep {
                wall[0][which].push(el);
                cpu[0][which] += used;
            }
        }
        let ids: Vec<i64> = rt.block_on(async {
            User::query()
                .all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|u| u.id)
                .collect()
        });
        for which in 0..2 {
            if !run("fetch") {
                break;
            }
            let (c0, t0) = (cpu_time(), Instant::now());
            let n = if which == 0 {
                black_box(rt.block_on(User::query().all(&pool)).unwrap()).len()
            } else {
                black_box(raw_fetch(&raw)).len()
            };
            assert_eq!(n, N);
            let (el, used) = (t0.elapsed(), cpu_time() - c0);
            if keep {
                wall[1][which].push(el);
                cpu[1][which] += used;
            }
        }
        for which in 0..2 {
            if !run("get") {
                break;
            }
            let (c0, t0) = (cpu_time(), Instant::now());
            if which == 0 {
                rt.block_on(async {
                    for i in 0..GETS {
                        black_box(User::get(&pool, ids[(i * 7) % N]).await.unwrap());
                    }
                });
            } else {
                for i in 0..GETS {
                    black_box(raw_get(&raw, ids[(i * 7) % N]));
                }
            }
            let (el, used) = (t0.elapsed() / GETS as u32, (cpu_time() - c0) / GETS as u32);
            if keep {
                wall[2][which].push(el);
                cpu[2][which] += used;
            }
        }
    }
    println!("SQLite (WAL, synchronous=NORMAL), {rounds} rounds; wall = median, CPU = mean per op");
    println!(
        "| workload | chakra wall | rusqlite wall | wall ratio | chakra CPU | rusqlite CPU | CPU ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for w in 0..3 {
        if wall[w][0].is_empty() {
            continue;
        }
        let mc = median(wall[w][0].clone());
        let mr = median(wall[w][1].clone());
        let cc = cpu[w][0] / rounds as u32;
        let cr = cpu[w][1] / rounds as u32;
        println!(
            "| {} | {:.2?} | {:.2?} | {:.2}x | {:.2?} | {:.2?} | {:.2}x |",
            names[w],
            mc,
            mr,
            mc.as_secs_f64() / mr.as_secs_f64(),
            cc,
            cr,
            cc.as_secs_f64() / cr.as_secs_f64().max(1e-12),
        );
    }
    drop(raw);
    drop(pool);
    let _ = std::fs::remove_dir_all(&dir);
}
