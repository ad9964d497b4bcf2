//! The typed front door against the executor alone, on PostgreSQL and SQLite: the same
//! workloads through `User::query()…` / `User::get` / `insert_many` / `Session`, and through
//! `Pool::fetch` with a statement built once (rows left as `Vec<Value>`).
//!
//! After the criterion groups it prints a table of typed ÷ executor medians measured
//! alternately (robust to the drift of a shared VM).
//!
//! Run: `cargo bench -p chakra --bench typed` (PostgreSQL at `CHAKRA_BENCH_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; a database `chakra_bench_typed` is created).

use chakra::dsl::{insert_rows, pk_filter, ModelQuery, Statement, Value};
use chakra::prelude::*;
use chakra::Dialect;
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
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
    #[chakra(default = "now()")]
    pub created_at: DateTime<Utc>,
    #[chakra(default = true)]
    pub is_active: bool,
    #[chakra(default = 0)]
    pub balance: i64,
}

fn user(i: usize) -> User {
    User {
        id: 0,
        username: format!("user{i:05}"),
        email: format!("user{i}@example.com"),
        is_active: !i.is_multiple_of(3),
        balance: i as i64,
        ..Default::default()
    }
}

fn pg_admin() -> String {
    std::env::var("CHAKRA_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn pg_url() -> String {
    let (client, conn) = tokio_postgres::connect(&pg_admin(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL for the benchmark");
    let h = tokio::spawn(conn);
    client
        .batch_execute("DROP DATABASE IF EXISTS chakra_bench_typed WITH (FORCE)")
        .await
        .unwrap();
    client
        .batch_execute("CREATE DATABASE chakra_bench_typed")
        .await
        .unwrap();
    drop(client);
    let _ = h.await;
    let mut u = url::Url::parse(&pg_admin()).unwrap();
    u.set_path("/chakra_bench_typed");
    u.to_string()
}

async fn reset(pool: &Pool, rows: usize) {
    let meta = User::meta();
    pool.batch_execute(&chakra::sql::ddl::drop_table(meta).unwrap())
        .await
        .unwrap();
    for sql in chakra::sql::ddl::create_table(meta, pool.dialect()).unwrap() {
        pool.batch_execute(&sql).await.unwrap();
    }
    let mut users: Vec<User> = (0..rows).map(user).collect();
    User::insert_many(pool, &mut users).await.unwrap();
}

fn insert_statement(n: usize, offset: usize) -> Statement {
    let rows = (0..n)
        .map(|i| {
            let u = user(offset + i);
            vec![
                ("username".to_owned(), Value::Text(u.username)),
                ("email".to_owned(), Value::Text(u.email)),
                ("created_at".to_owned(), Value::DateTime(u.created_at)),
                ("is_active".to_owned(), Value::Bool(u.is_active)),
                ("balance".to_owned(), Value::I64(u.balance)),
            ]
        })
        .collect();
    Statement::Insert(insert_rows(User::meta(), rows).unwrap())
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, pool: Pool) {
    let mut g = c.benchmark_group(format!("typed_vs_executor/{name}"));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(6));
    g.warm_up_time(Duration::from_secs(1));

    // W3: fetch and materialise 10,000 rows.
    rt.block_on(reset(&pool, 10_000));
    let all = ModelQuery::new(User::meta().clone()).select();
    let all = Statement::Select(all);
    g.bench_function(BenchmarkId::new("fetch_10k", "executor"), |b| {
        b.to_async(rt).iter(|| async {
            let rows = pool.fetch(&all).await.unwrap();
            assert_eq!(rows.len(), 10_000);
            rows
        })
    });
    g.bench_function(BenchmarkId::new("fetch_10k", "typed"), |b| {
        b.to_async(rt).iter(|| async {
            let users = User::query().all(&pool).await.unwrap();
            assert_eq!(users.len(), 10_000);
            users
        })
    });

    // W5: get by primary key.
    let mut key = 0i64;
    g.bench_function(BenchmarkId::new("get_by_pk", "executor"), |b| {
        b.to_async(rt).iter(|| {
            key = key % 10_000 + 1;
            let k = key;
            let pool = &pool;
            async move {
                let meta = User::meta();
                let stmt = Statement::Select(
                    ModelQuery::new(meta.clone())
                        .filter(pk_filter(meta, Value::I64(k)).unwrap())
                        .select(),
                );
                pool.fetch(&stmt).await.unwrap()
            }
        })
    });
    g.bench_function(BenchmarkId::new("get_by_pk", "typed"), |b| {
        b.to_async(rt).iter(|| {
            key = key % 10_000 + 1;
            let k = key;
            let pool = &pool;
            async move { User::get(pool, k).await.unwrap() }
        })
    });

    // W4: filtered query (starts_with + a bool, ordered, limit 10).
    let filtered = User::query()
        .filter(User::username().starts_with("user01"))
        .filter(User::is_active().eq(true))
        .order_by(User::username().asc())
        .limit(10)
        .to_statement();
    g.bench_function(BenchmarkId::new("filtered", "executor"), |b| {
        b.to_async(rt).iter(|| async {
            let rows = pool.fetch(&filtered).await.unwrap();
            assert_eq!(rows.len(), 10);
            rows
        })
    });
    g.bench_function(BenchmarkId::new("filtered", "typed"), |b| {
        b.to_async(rt).iter(|| async {
            let users = User::query()
                .filter(User::username().starts_with("user01"))
                .filter(User::is_active().eq(true))
                .order_by(User::username().asc())
                .limit(10)
                .all(&pool)
                .await
                .unwrap();
            assert_eq!(users.len(), 10);
            users
        })
    });

    // W2-like: bulk insert of 1,000 rows (one multi-row INSERT … RETURNING).
    g.bench_function(BenchmarkId::new("insert_1k_bulk", "executor"), |b| {
        b.to_async(rt).iter(|| async {
            let stmt = insert_statement(1_000, 20_000);
            let rows = pool.fetch(&stmt).await.unwrap();
            assert_eq!(rows.len(), 1_000);
            rows
        })
    });
    g.bench_function(BenchmarkId::new("insert_1k_bulk", "typed"), |b| {
        b.to_async(rt).iter(|| async {
            let mut users: Vec<User> = (20_000..21_000).map(user).collect();
            User::insert_many(&pool, &mut users).await.unwrap();
            users
        })
    });

    // W1-like: 1,000 new rows added to a session and committed; the session batches them
    // into one INSERT … RETURNING in a transaction, which is the executor's equivalent.
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("insert_1k_rows_in_tx", "executor"), |b| {
        b.to_async(rt).iter(|| async {
            let mut tx = pool.begin().await.unwrap();
            tx.fetch(&insert_statement(1_000, 30_000)).await.unwrap();
            tx.commit().await.unwrap();
        })
    });
    g.bench_function(BenchmarkId::new("insert_1k_rows_in_tx", "typed"), |b| {
        b.to_async(rt).iter(|| async {
            let mut users: Vec<User> = (30_000..31_000).map(user).collect();
            let session = Session::new(&pool);
            for u in users.iter_mut() {
                session.add(u);
            }
            session.commit().await.unwrap();
            users
        })
    });
    g.finish();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Runs `executor` and `typed` alternately `n` times and returns their medians (seconds):
/// alternating keeps the drift of a shared 2-core VM out of the ratio.
async fn paired<A, B, FA, FB>(n: usize, mut executor: A, mut typed: B) -> (f64, f64)
where
    A: FnMut(usize) -> FA,
    B: FnMut(usize) -> FB,
    FA: std::future::Future<Output = ()>,
    FB: std::future::Future<Output = ()>,
{
    let (mut e, mut t) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let s = Instant::now();
        executor(i).await;
        e.push(s.elapsed().as_secs_f64());
        let s = Instant::now();
        typed(i).await;
        t.push(s.elapsed().as_secs_f64());
    }
    (median(e), median(t))
}

/// Prints a table of typed ÷ executor medians, measured alternately.
async fn ratio_table(name: &str, pool: &Pool) {
    reset(pool, 10_000).await;
    let all = Statement::Select(ModelQuery::new(User::meta().clone()).select());
    let filtered = || {
        User::query()
            .filter(User::username().starts_with("user01"))
            .filter(User::is_active().eq(true))
            .order_by(User::username().asc())
            .limit(10)
    };
    let filtered_stmt = filtered().to_statement();
    let mut out = Vec::new();
    out.push((
        "fetch 10,000 rows",
        paired(
            40,
            |_| async {
                pool.fetch(&all).await.unwrap();
            },
            |_| async {
                User::query().all(pool).await.unwrap();
            },
        )
        .await,
    ));
    out.push((
        "get by pk",
        paired(
            3000,
            |i| async move {
                let meta = User::meta();
                let k = Value::I64((i % 10_000) as i64 + 1);
                let stmt = Statement::Select(
                    ModelQuery::new(meta.clone())
                        .filter(pk_filter(meta, k).unwrap())
                        .select(),
                );
                pool.fetch(&stmt).await.unwrap();
            },
            |i| async move {
                User::get(pool, (i % 10_000) as i64 + 1).await.unwrap();
            },
        )
        .await,
    ));
    out.push((
        "filtered query",
        paired(
            300,
            |_| async {
                pool.fetch(&filtered_stmt).await.unwrap();
            },
            |_| async {
                filtered().all(pool).await.unwrap();
            },
        )
        .await,
    ));
    out.push((
        "insert 1,000 (bulk)",
        paired(
            15,
            |i| async move {
                pool.fetch(&insert_statement(1_000, 100_000 + i * 2_000))
                    .await
                    .unwrap();
            },
            |i| async move {
                let start = 101_000 + i * 2_000;
                let mut users: Vec<User> = (start..start + 1_000).map(user).collect();
                User::insert_many(pool, &mut users).await.unwrap();
            },
        )
        .await,
    ));
    out.push((
        "insert 1,000 new rows in one tx (session add/commit, batched)",
        paired(
            8,
            |i| async move {
                let mut tx = pool.begin().await.unwrap();
                tx.fetch(&insert_statement(1_000, 200_000 + i * 2_000))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            },
            |i| async move {
                let start = 201_000 + i * 2_000;
                let mut users: Vec<User> = (start..start + 1_000).map(user).collect();
                let session = Session::new(pool);
                for u in users.iter_mut() {
                    session.add(u);
                }
                session.commit().await.unwrap();
            },
        )
        .await,
    ));
    println!("\ntyped ÷ executor on {name} (medians, measured alternately):");
    println!("| workload | executor | typed | typed ÷ executor |");
    println!("| --- | --- | --- | --- |");
    for (w, (e, t)) in out {
        println!(
            "| {w} | {:.1} µs | {:.1} µs | {:.3} |",
            e * 1e6,
            t * 1e6,
            t / e
        );
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let only = std::env::var("CHAKRA_BENCH_BACKEND").ok();
    if only.as_deref() != Some("sqlite") {
        let pool = rt.block_on(async { Pool::connect(&pg_url().await).await.unwrap() });
        assert_eq!(pool.dialect(), Dialect::Postgres);
        bench_backend(c, &rt, "postgres", pool.clone());
        rt.block_on(ratio_table("postgres", &pool));
    }
    if only.as_deref() != Some("postgres") {
        let dir = std::env::temp_dir().join(format!("chakra_bench_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("bench.db").display());
        let pool = rt.block_on(Pool::connect(&url)).unwrap();
        bench_backend(c, &rt, "sqlite", pool.clone());
        rt.block_on(ratio_table("sqlite", &pool));
        let _ = std::fs::remove_dir_all(dir);
    }
}

criterion_group!(typed, benches);
criterion_main!(typed);
