//! Memory on PostgreSQL, each contender alone in a fresh process of this binary: fetching
//! 100,000 rows into structs (Chakra's `Query::all` against tokio-postgres's `query` with
//! the rows mapped into the same struct by hand), and streaming 1,000,000 rows (Chakra's
//! `Query::stream`, 2,000 rows a chunk, against tokio-postgres's `query_raw`, a row at a
//! time), each row read and dropped.
//!
//! A counting global allocator gives the allocations, the bytes allocated and the peak of
//! live heap bytes above the level before the operation; the kernel gives the peak RSS
//! (`VmHWM`, reset through `/proc/self/clear_refs` just before the operation) above the RSS
//! before it. Memory figures do not depend on the machine's load.
//!
//! `cargo bench -p chakra --bench memory` (PostgreSQL from CHAKRA_TEST_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; a `chakra_bench_mem` database with a
//! 1,000,000-row table is created once and kept for later runs).

use chakra::{Model, Pool};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting allocations, bytes and live bytes (and their peak).
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters change.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(l.size(), Relaxed);
        grew(l.size());
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(l.size(), Relaxed);
        grew(l.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: a pointer this allocator returned, with its layout.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new, Relaxed);
        if new >= l.size() {
            grew(new - l.size());
        } else {
            LIVE.fetch_sub(l.size() - new, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const FETCH: i64 = 100_000;
const STREAM: i64 = 1_000_000;

/// One row of `bench_mem`.
#[derive(Debug, Clone, chakra::Model)]
#[chakra(table = "bench_mem")]
struct BenchMem {
    #[chakra(primary_key, auto_increment)]
    id: i64,
    username: String,
    email: String,
    active: bool,
    balance: i64,
    created_at: DateTime<Utc>,
}

fn url(db: &str) -> String {
    let admin = std::env::var("CHAKRA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut u = url::Url::parse(&admin).unwrap();
    if !db.is_empty() {
        u.set_path(&format!("/{db}"));
    }
    u.to_string()
}

async fn pg(url: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL for the benchmark");
    tokio::spawn(conn);
    c
}

/// Creates `chakra_bench_mem` with its 1,000,000 rows, unless it is there already.
async fn setup() {
    let admin = pg(&url("")).await;
    let there = admin
        .query_opt(
            "SELECT 1 FROM pg_database WHERE datname = 'chakra_bench_mem'",
            &[],
        )
        .await
        .unwrap()
        .is_some();
    if there {
        let c = pg(&url("chakra_bench_mem")).await;
        let n: Option<i64> = c
            .query_opt("SELECT count(*) FROM bench_mem", &[])
            .await
            .ok()
            .flatten()
            .map(|r| r.get(0));
        if n == Some(STREAM) {
            return;
        }
        drop(c);
        admin
            .batch_execute("DROP DATABASE chakra_bench_mem WITH (FORCE)")
            .await
            .unwrap();
    }
    admin
        .batch_execute("CREATE DATABASE chakra_bench_mem")
        .await
        .unwrap();
    let c = pg(&url("chakra_bench_mem")).await;
    c.batch_execute(
        "CREATE TABLE bench_mem (id BIGSERIAL PRIMARY KEY, username TEXT NOT NULL, \
         email TEXT NOT NULL, active BOOLEAN NOT NULL, balance BIGINT NOT NULL, \
         created_at TIMESTAMPTZ NOT NULL);
         INSERT INTO bench_mem (username, email, active, balance, created_at)
           SELECT 'user' || g, 'user' || g || '@example.com', g % 2 = 0, g * 10, now()
           FROM generate_series(1, 1000000) g;",
    )
    .await
    .unwrap();
    c.batch_execute("VACUUM ANALYZE bench_mem").await.unwrap();
}

/// A line of `/proc/self/status` in kB (`VmRSS`, `VmHWM`).
fn status_kb(key: &str) -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

const SELECT: &str = "SELECT id, username, email, active, balance, created_at FROM bench_mem";

fn from_pg(r: &tokio_postgres::Row) -> BenchMem {
    BenchMem {
        id: r.get(0),
        username: r.get(1),
        email: r.get(2),
        active: r.get(3),
        balance: r.get(4),
        created_at: r.get(5),
    }
}

/// Runs one contender and prints its figures on one line.
fn run(contender: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let u = url("chakra_bench_mem");
        let pool = Pool::connect(&u).await.unwrap();
        let client = pg(&u).await;
        // Warm both paths (connection buffers, prepared statements, the shape cache).
        let few = BenchMem::query().limit(10).all(&pool).await.unwrap();
        assert_eq!(few.len(), 10);
        let st = client
            .prepare(&format!("{SELECT} ORDER BY id LIMIT $1"))
            .await
            .unwrap();
        let st_all = client.prepare(SELECT).await.unwrap();
        client.query(&st, &[&10i64]).await.unwrap();
        drop(few);

        std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
        let rss0 = status_kb("VmRSS");
        let (a0, b0, live0) = (
            ALLOCS.load(Relaxed),
            BYTES.load(Relaxed),
            LIVE.load(Relaxed),
        );
        PEAK.store(live0, Relaxed);
        let rows = match contender {
            "chakra all" => {
                let v = BenchMem::query()
                    .order_by(BenchMem::id())
                    .limit(FETCH as u64)
                    .all(&pool)
                    .await
                    .unwrap();
                assert_eq!(v.len() as i64, FETCH);
                v.len()
            }
            "tokio-postgres query" => {
                let rows = client.query(&st, &[&FETCH]).await.unwrap();
                let v: Vec<BenchMem> = rows.iter().map(from_pg).collect();
                drop(rows);
                assert_eq!(v.len() as i64, FETCH);
                v.len()
            }
            "chakra stream" => {
                let mut s = std::pin::pin!(BenchMem::query().stream(&pool, 2_000));
                let mut n = 0;
                while let Some(m) = s.next().await {
                    let m = m.unwrap();
                    n += usize::from(m.id > 0);
                }
                n
            }
            _ => {
                let s = client
                    .query_raw(&st_all, std::iter::empty::<i64>())
                    .await
                    .unwrap();
                let mut s = std::pin::pin!(s);
                let mut n = 0;
                while let Some(r) = s.try_next().await.unwrap() {
                    n += usize::from(from_pg(&r).id > 0);
                }
                n
            }
        };
        let peak_rss = status_kb("VmHWM");
        println!(
            "{contender}: {rows} rows, peak RSS {:.1} MB above the {:.1} MB before, \
             peak heap {:.1} MB above, {} allocations, {:.1} MB allocated",
            (peak_rss.saturating_sub(rss0)) as f64 / 1024.0,
            rss0 as f64 / 1024.0,
            (PEAK.load(Relaxed) - live0) as f64 / 1048576.0,
            ALLOCS.load(Relaxed) - a0,
            (BYTES.load(Relaxed) - b0) as f64 / 1048576.0,
        );
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--contender") {
        run(&args[i + 1]);
        return;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(setup());
    let me = std::env::current_exe().unwrap();
    println!("fetch {FETCH} rows, stream {STREAM} rows; one process per contender");
    for c in [
        "chakra all",
        "tokio-postgres query",
        "chakra stream",
        "tokio-postgres query_raw",
    ] {
        let out = Command::new(&me).args(["--contender", c]).output().unwrap();
        assert!(
            out.status.success(),
            "{c}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
