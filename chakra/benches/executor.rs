//! Executor benchmark on PostgreSQL: fetch 10,000 rows, insert 1,000 rows, and get-by-pk
//! through Chakra's executor, next to the same work in raw diesel-async (typed DSL) and raw
//! tokio-postgres. Prints a ratio table after criterion's own report.
//!
//! `cargo bench -p chakra --bench executor` (PostgreSQL from CHAKRA_TEST_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; a `chakra_bench` database is recreated).

use chakra::dsl::*;
use chakra::{compile, Dialect, Pool};
use chrono::{DateTime, Utc};
use criterion::{criterion_group, Criterion};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

diesel::table! {
    bench_users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        active -> Bool,
        balance -> BigInt,
        created_at -> Timestamptz,
    }
}

#[derive(Insertable)]
#[diesel(table_name = bench_ins)]
struct NewUser {
    username: String,
    email: String,
    active: bool,
    balance: i64,
    created_at: DateTime<Utc>,
}

type Tuple = (i64, String, String, bool, i64, DateTime<Utc>);

fn admin_url() -> String {
    std::env::var("CHAKRA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn bench_url() -> String {
    let mut u = url::Url::parse(&admin_url()).unwrap();
    u.set_path("/chakra_bench");
    u.to_string()
}

async fn setup() {
    let (c, conn) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL for the benchmark");
    tokio::spawn(conn);
    c.batch_execute("DROP DATABASE IF EXISTS chakra_bench WITH (FORCE)")
        .await
        .unwrap();
    c.batch_execute("CREATE DATABASE chakra_bench")
        .await
        .unwrap();
    let (c, conn) = tokio_postgres::connect(&bench_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    c.batch_execute(
        "CREATE TABLE bench_users (id BIGSERIAL PRIMARY KEY, username TEXT NOT NULL, email TEXT NOT NULL, \
         active BOOLEAN NOT NULL, balance BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
         INSERT INTO bench_users (username, email, active, balance, created_at)
           SELECT 'user' || g, 'user' || g || '@example.com', g % 2 = 0, g * 10, now() FROM generate_series(1, 10000) g;
         CREATE TABLE bench_ins (LIKE bench_users INCLUDING ALL);",
    )
    .await
    .unwrap();
}

fn cols() -> Vec<(&'static str, ValueType)> {
    vec![
        ("id", ValueType::I64),
        ("username", ValueType::Text),
        ("email", ValueType::Text),
        ("active", ValueType::Bool),
        ("balance", ValueType::I64),
        ("created_at", ValueType::DateTime),
    ]
}

fn select_all() -> Select {
    let mut s = Select::from(Source::table("bench_users"));
    for (c, t) in cols() {
        s = s.column(Expr::col("bench_users", c, t.clone()), t);
    }
    s
}

fn new_rows(n: usize) -> Vec<NewUser> {
    let now = Utc::now();
    (0..n)
        .map(|i| NewUser {
            username: format!("new{i}"),
            email: format!("new{i}@example.com"),
            active: i % 2 == 0,
            balance: i as i64,
            created_at: now,
        })
        .collect()
}

fn chakra_insert(rows: &[NewUser]) -> Statement {
    Insert {
        table: "bench_ins".into(),
        columns: ["username", "email", "active", "balance", "created_at"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Value::Text(r.username.clone()),
                    Value::Text(r.email.clone()),
                    Value::Bool(r.active),
                    Value::I64(r.balance),
                    Value::DateTime(r.created_at),
                ]
            })
            .collect(),
        returning: vec![],
    }
    .into()
}

struct Env {
    rt: Runtime,
    pool: Pool,
    diesel: tokio::sync::Mutex<AsyncPgConnection>,
    pg: tokio_postgres::Client,
    pg_select: tokio_postgres::Statement,
    pg_get: tokio_postgres::Statement,
}

fn env() -> Env {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (pool, diesel, pg, pg_select, pg_get) = rt.block_on(async {
        setup().await;
        let pool = Pool::connect(&bench_url()).await.unwrap();
        let diesel = AsyncPgConnection::establish(&bench_url()).await.unwrap();
        let (pg, conn) = tokio_postgres::connect(&bench_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let sel = pg
            .prepare("SELECT id, username, email, active, balance, created_at FROM bench_users")
            .await
            .unwrap();
        let get = pg
            .prepare("SELECT id, username, email, active, balance, created_at FROM bench_users WHERE id = $1")
            .await
            .unwrap();
        (pool, tokio::sync::Mutex::new(diesel), pg, sel, get)
    });
    Env {
        rt,
        pool,
        diesel,
        pg,
        pg_select,
        pg_get,
    }
}

fn tuples(rows: Vec<tokio_postgres::Row>) -> Vec<Tuple> {
    rows.into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

fn pg_insert_sql(n: usize) -> String {
    let mut s = String::from(
        "INSERT INTO bench_ins (username, email, active, balance, created_at) VALUES ",
    );
    for i in 0..n {
        let b = i * 5;
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5
        ));
    }
    s
}

/// One operation of each implementation, for criterion and for the ratio table.
impl Env {
    async fn fetch(&self, which: &str) -> usize {
        match which {
            "chakra" => Pool::fetch(&self.pool, &select_all().into())
                .await
                .unwrap()
                .len(),
            "diesel-async" => {
                let mut c = self.diesel.lock().await;
                bench_users::table
                    .select((
                        bench_users::id,
                        bench_users::username,
                        bench_users::email,
                        bench_users::active,
                        bench_users::balance,
                        bench_users::created_at,
                    ))
                    .load::<Tuple>(&mut *c)
                    .await
                    .unwrap()
                    .len()
            }
            _ => tuples(self.pg.query(&self.pg_select, &[]).await.unwrap()).len(),
        }
    }

    async fn insert(&self, which: &str, rows: &[NewUser]) -> usize {
        match which {
            "chakra" => Pool::execute(&self.pool, &chakra_insert(rows))
                .await
                .unwrap() as usize,
            "diesel-async" => {
                let mut c = self.diesel.lock().await;
                diesel::insert_into(bench_ins::table)
                    .values(rows)
                    .execute(&mut *c)
                    .await
                    .unwrap()
            }
            _ => {
                let sql = pg_insert_sql(rows.len());
                let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    Vec::with_capacity(rows.len() * 5);
                for r in rows {
                    params.push(&r.username);
                    params.push(&r.email);
                    params.push(&r.active);
                    params.push(&r.balance);
                    params.push(&r.created_at);
                }
                tokio_postgres::Client::execute(&self.pg, sql.as_str(), &params)
                    .await
                    .unwrap() as usize
            }
        }
    }

    async fn get(&self, which: &str, id: i64) -> usize {
        match which {
            "chakra" => {
                let q = select_all()
                    .filter(Expr::col("bench_users", "id", ValueType::I64).eq(Expr::val(id)));
                Pool::fetch(&self.pool, &q.into()).await.unwrap().len()
            }
            "diesel-async" => {
                let mut c = self.diesel.lock().await;
                bench_users::table
                    .find(id)
                    .select((
                        bench_users::id,
                        bench_users::username,
                        bench_users::email,
                        bench_users::active,
                        bench_users::balance,
                        bench_users::created_at,
                    ))
                    .load::<Tuple>(&mut *c)
                    .await
                    .unwrap()
                    .len()
            }
            _ => tuples(self.pg.query(&self.pg_get, &[&id]).await.unwrap()).len(),
        }
    }
}

diesel::table! {
    bench_ins (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        active -> Bool,
        balance -> BigInt,
        created_at -> Timestamptz,
    }
}

const IMPLS: [&str; 3] = ["chakra", "diesel-async", "tokio-postgres"];

fn benches(c: &mut Criterion, e: &Env) {
    let rows = new_rows(1000);
    let mut g = c.benchmark_group("fetch_10k_rows");
    g.sample_size(20);
    for which in IMPLS {
        g.bench_function(which, |b| b.iter(|| e.rt.block_on(e.fetch(which))));
    }
    g.finish();
    let mut g = c.benchmark_group("insert_1k_rows");
    g.sample_size(20);
    for which in IMPLS {
        g.bench_function(which, |b| b.iter(|| e.rt.block_on(e.insert(which, &rows))));
    }
    g.finish();
    let mut g = c.benchmark_group("get_by_pk");
    for which in IMPLS {
        let mut id = 0;
        g.bench_function(which, |b| {
            b.iter(|| {
                id = id % 10_000 + 1;
                e.rt.block_on(e.get(which, id))
            })
        });
    }
    g.finish();
}

/// Median of `runs` timings of `op`.
fn median(runs: usize, mut op: impl FnMut() -> usize) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            assert!(op() > 0);
            s.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

fn ratio_table(e: &Env) {
    let rows = new_rows(1000);
    println!("\nworkload            impl             median      ratio to tokio-postgres");
    for (name, runs) in [
        ("fetch 10,000 rows", 30),
        ("insert 1,000 rows", 30),
        ("get by pk x1000", 7),
    ] {
        let times: Vec<(&str, Duration)> = IMPLS
            .iter()
            .map(|w| {
                let d = median(runs, || match name {
                    "fetch 10,000 rows" => e.rt.block_on(e.fetch(w)),
                    "insert 1,000 rows" => e.rt.block_on(e.insert(w, &rows)),
                    _ => e.rt.block_on(async {
                        let mut n = 0;
                        for id in 1..=1000 {
                            n += e.get(w, id).await;
                        }
                        n
                    }),
                });
                (*w, d)
            })
            .collect();
        let base = times[2].1.as_secs_f64();
        for (w, d) in times {
            println!(
                "{name:<19} {w:<16} {:>9.3} ms  {:.2}x",
                d.as_secs_f64() * 1e3,
                d.as_secs_f64() / base
            );
        }
    }
}

fn main() {
    // The compiled SQL is shown once, so the figures can be read against what ran.
    println!(
        "chakra get-by-pk SQL: {}",
        compile(
            &select_all()
                .filter(Expr::col("bench_users", "id", ValueType::I64).eq(Expr::val(1i64)))
                .into(),
            Dialect::Postgres
        )
        .unwrap()
        .sql()
    );
    let e = env();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &e);
    c.final_summary();
    ratio_table(&e);
}

// criterion_group! is not used: the environment is shared across groups.
#[allow(dead_code)]
fn _unused(c: &mut Criterion) {
    let _ = c;
}
criterion_group!(_unused_group, _unused);
