//! Executor benchmark on PostgreSQL: fetch 10,000 rows, insert 1,000 rows, and get-by-pk
//! through Chakra's executor, next to the same work in raw diesel-async (typed DSL) and raw
//! tokio-postgres; then `Model::get`, 2,000 new rows through `Session::add`/`commit`, and
//! 10,000 rows in one insert against tokio-postgres's binary COPY. `Model::get` runs twice:
//! through the pool (a checkout per query) and on one held connection (a transaction open for
//! the run), as the diesel-async and tokio-postgres contenders do. Prints a table of median
//! wall time and process CPU time (user + system, every thread) per operation, with ratios
//! to the raw driver, after criterion's own report.
//!
//! `cargo bench -p chakra --bench executor` (PostgreSQL from CHAKRA_TEST_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; a `chakra_bench` database is recreated).
//! `cargo bench -p chakra --bench executor -- --table-only` skips criterion; `--only <text>`
//! keeps the table's workloads whose name contains the text. `-- --isolated N [--only <text>]`
//! runs each contender alone in a fresh process of this binary instead (a warm-up run, then
//! the workload's runs), the contenders interleaved across N repetitions, and prints the
//! medians over the processes; the in-process table above is the second method.

#[path = "common/bench_user.rs"]
mod bench_user;
#[path = "common/cpu.rs"]
mod cpu;

use bench_user::BenchUser;

use chakra::dsl::*;
use chakra::{compile, Dialect, Model, Pool};
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

/// `bench_ins` as a derived model (`Session::add`).
#[derive(Debug, Clone, chakra::Model)]
#[chakra(table = "bench_ins")]
struct BenchIns {
    #[chakra(primary_key, auto_increment)]
    id: i64,
    username: String,
    email: String,
    active: bool,
    balance: i64,
    created_at: DateTime<Utc>,
}

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
        enum_types: Default::default(),
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
    /// The filtered workload's query, prepared, its values bound as Chakra and diesel-async
    /// bind them (a bound `LIMIT` lets PostgreSQL's generic plan walk the key's index).
    pg_filtered: tokio_postgres::Statement,
    pg_ins_one: tokio_postgres::Statement,
    pg_ins_unnest: tokio_postgres::Statement,
    /// UPDATE of every column of one `bench_users` row by key.
    pg_upd: tokio_postgres::Statement,
    /// A transaction held open for the whole run: `Model::get` on one connection, without a
    /// pool checkout per query (as diesel-async and tokio-postgres run here).
    held: tokio::sync::Mutex<chakra::Transaction>,
}

/// Connects every contender; `fresh` recreates the database first (a child of `--isolated`
/// uses the one its parent made).
fn env(fresh: bool) -> Env {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (pool, diesel, pg, pg_select, pg_get, pg_ins_one, pg_ins_unnest) = rt.block_on(async {
        if fresh {
            setup().await;
        }
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
        let ins_one = pg
            .prepare(
                "INSERT INTO bench_ins (username, email, active, balance, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .await
            .unwrap();
        let ins_unnest = pg
            .prepare(
                "INSERT INTO bench_ins (username, email, active, balance, created_at) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::int8[], $5::timestamptz[]) \
                 RETURNING id",
            )
            .await
            .unwrap();
        (
            pool,
            tokio::sync::Mutex::new(diesel),
            pg,
            sel,
            get,
            ins_one,
            ins_unnest,
        )
    });
    let held = tokio::sync::Mutex::new(rt.block_on(pool.begin()).unwrap());
    let pg_filtered = rt
        .block_on(pg.prepare(
            "SELECT id, username, email, active, balance, created_at FROM bench_users \
             WHERE username LIKE $1 AND active = $2 ORDER BY id LIMIT $3",
        ))
        .unwrap();
    let pg_upd = rt
        .block_on(pg.prepare(
            "UPDATE bench_users SET username = $1, email = $2, active = $3, balance = $4, \
             created_at = $5 WHERE id = $6",
        ))
        .unwrap();
    Env {
        pg_filtered,
        pg_upd,
        held,
        rt,
        pool,
        diesel,
        pg,
        pg_select,
        pg_get,
        pg_ins_one,
        pg_ins_unnest,
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
            "chakra Model::query().all" => BenchUser::query().all(&self.pool).await.unwrap().len(),
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

    /// 200 filtered queries (`LIKE 'user1%'` and a bool, ordered by key, 10 rows each),
    /// each row built into a struct or tuple.
    async fn filtered(&self, which: &str) -> usize {
        let mut n = 0;
        for _ in 0..200 {
            n += match which {
                "chakra Model::query().all" => BenchUser::query()
                    .filter(BenchUser::username().like("user1%"))
                    .filter(BenchUser::active().eq(true))
                    .order_by(BenchUser::id())
                    .limit(10)
                    .all(&self.pool)
                    .await
                    .unwrap()
                    .len(),
                // The same on one connection held for the run (a transaction), as the
                // diesel-async and tokio-postgres contenders run: no pool checkout.
                "chakra Model::query().all, held" => {
                    let mut t = self.held.lock().await;
                    BenchUser::query()
                        .filter(BenchUser::username().like("user1%"))
                        .filter(BenchUser::active().eq(true))
                        .order_by(BenchUser::id())
                        .limit(10)
                        .all(&mut *t)
                        .await
                        .unwrap()
                        .len()
                }
                // What `all` ran before the typed-query cache: the IR built and compiled
                // on every call.
                "chakra Model::query(), compiled each call" => {
                    let q = BenchUser::query()
                        .filter(BenchUser::username().like("user1%"))
                        .filter(BenchUser::active().eq(true))
                        .order_by(BenchUser::id())
                        .limit(10);
                    self.pool
                        .fetch_models::<BenchUser>(&q.to_statement())
                        .await
                        .unwrap()
                        .len()
                }
                "diesel-async" => {
                    let mut c = self.diesel.lock().await;
                    bench_users::table
                        .filter(bench_users::username.like("user1%"))
                        .filter(bench_users::active.eq(true))
                        .order(bench_users::id)
                        .limit(10)
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
                _ => tuples(
                    self.pg
                        .query(&self.pg_filtered, &[&"user1%", &true, &10i64])
                        .await
                        .unwrap(),
                )
                .len(),
            };
        }
        n
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
            "chakra Model::get" => {
                let u = BenchUser::get(&self.pool, id).await.unwrap();
                usize::from(u.id == id)
            }
            "chakra pool checkout only" => {
                let c = self.pool.acquire().await.unwrap();
                drop(c);
                1
            }
            "chakra Model::get, held" => {
                let mut t = self.held.lock().await;
                let u = BenchUser::get(&mut *t, id).await.unwrap();
                usize::from(u.id == id)
            }
            _ => tuples(self.pg.query(&self.pg_get, &[&id]).await.unwrap()).len(),
        }
    }

    /// New rows inserted in one transaction with their generated keys read back.
    async fn insert_objects(&self, which: &str, rows: &[NewUser]) -> usize {
        match which {
            "chakra Session" => {
                let mut objs: Vec<BenchIns> = rows
                    .iter()
                    .map(|r| BenchIns {
                        id: 0,
                        username: r.username.clone(),
                        email: r.email.clone(),
                        active: r.active,
                        balance: r.balance,
                        created_at: r.created_at,
                    })
                    .collect();
                let session = chakra::Session::new(&self.pool);
                for o in objs.iter_mut() {
                    session.add(o);
                }
                session.commit().await.unwrap();
                objs.iter().filter(|o| o.id > 0).count()
            }
            "tokio-postgres unnest" => {
                let ids = self
                    .pg
                    .query(&self.pg_ins_unnest, &unnest_params(rows).as_params())
                    .await
                    .unwrap();
                ids.len()
            }
            _ => {
                self.pg.batch_execute("BEGIN").await.unwrap();
                let mut n = 0;
                for r in rows {
                    let row = self
                        .pg
                        .query_one(
                            &self.pg_ins_one,
                            &[&r.username, &r.email, &r.active, &r.balance, &r.created_at],
                        )
                        .await
                        .unwrap();
                    n += usize::from(row.get::<_, i64>(0) > 0);
                }
                self.pg.batch_execute("COMMIT").await.unwrap();
                n
            }
        }
    }

    /// 2,000 existing rows saved (every column updated by key) in one transaction.
    async fn save_objects(&self, which: &str, rows: &[BenchUser]) -> usize {
        let mut objs = rows.to_vec();
        for o in objs.iter_mut() {
            o.balance += 1;
        }
        fn params(o: &BenchUser) -> [&(dyn tokio_postgres::types::ToSql + Sync); 6] {
            [
                &o.username,
                &o.email,
                &o.active,
                &o.balance,
                &o.created_at,
                &o.id,
            ]
        }
        match which {
            "chakra Session" => {
                let session = chakra::Session::new(&self.pool);
                for o in objs.iter_mut() {
                    session.add(o);
                }
                session.commit().await.unwrap();
                objs.len()
            }
            _ => {
                let pipelined = which.ends_with("pipelined");
                self.pg.batch_execute("BEGIN").await.unwrap();
                let n: u64 = if pipelined {
                    let futs = objs.iter().map(|o| {
                        let p = params(o);
                        async move {
                            tokio_postgres::Client::execute(&self.pg, &self.pg_upd, &p)
                                .await
                                .unwrap()
                        }
                    });
                    futures_util::future::join_all(futs).await.into_iter().sum()
                } else {
                    let mut n = 0;
                    for o in &objs {
                        n += tokio_postgres::Client::execute(&self.pg, &self.pg_upd, &params(o))
                            .await
                            .unwrap();
                    }
                    n
                };
                self.pg.batch_execute("COMMIT").await.unwrap();
                n as usize
            }
        }
    }

    /// 10,000 rows in one statement: Chakra's unnest insert, tokio-postgres's binary COPY.
    async fn bulk_load(&self, which: &str, rows: &[NewUser]) -> usize {
        match which {
            "chakra executor" => Pool::execute(&self.pool, &chakra_insert(rows))
                .await
                .unwrap() as usize,
            "tokio-postgres 10,000 INSERTs" => {
                // One prepared single-row INSERT per row, pipelined, in a transaction (what
                // asyncpg's `executemany` does).
                self.pg.batch_execute("BEGIN").await.unwrap();
                let futs = rows.iter().map(|r| async move {
                    self.pg
                        .query(
                            &self.pg_ins_one,
                            &[&r.username, &r.email, &r.active, &r.balance, &r.created_at],
                        )
                        .await
                        .unwrap()
                        .len()
                });
                let n = futures_util::future::join_all(futs).await.into_iter().sum();
                self.pg.batch_execute("COMMIT").await.unwrap();
                n
            }
            "tokio-postgres unnest" => tokio_postgres::Client::execute(
                &self.pg,
                &self.pg_ins_unnest,
                &unnest_params(rows).as_params(),
            )
            .await
            .unwrap() as usize,
            _ => {
                use tokio_postgres::binary_copy::BinaryCopyInWriter;
                use tokio_postgres::types::Type;
                let sink = self
                    .pg
                    .copy_in(
                        "COPY bench_ins (username, email, active, balance, created_at) \
                         FROM STDIN (FORMAT binary)",
                    )
                    .await
                    .unwrap();
                let writer = BinaryCopyInWriter::new(
                    sink,
                    &[
                        Type::TEXT,
                        Type::TEXT,
                        Type::BOOL,
                        Type::INT8,
                        Type::TIMESTAMPTZ,
                    ],
                );
                let mut writer = std::pin::pin!(writer);
                for r in rows {
                    writer
                        .as_mut()
                        .write(&[&r.username, &r.email, &r.active, &r.balance, &r.created_at])
                        .await
                        .unwrap();
                }
                writer.finish().await.unwrap() as usize
            }
        }
    }
}

/// The five column arrays of an unnest insert.
struct UnnestParams {
    username: Vec<String>,
    email: Vec<String>,
    active: Vec<bool>,
    balance: Vec<i64>,
    created_at: Vec<DateTime<Utc>>,
}

impl UnnestParams {
    fn as_params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 5] {
        [
            &self.username,
            &self.email,
            &self.active,
            &self.balance,
            &self.created_at,
        ]
    }
}

fn unnest_params(rows: &[NewUser]) -> UnnestParams {
    UnnestParams {
        username: rows.iter().map(|r| r.username.clone()).collect(),
        email: rows.iter().map(|r| r.email.clone()).collect(),
        active: rows.iter().map(|r| r.active).collect(),
        balance: rows.iter().map(|r| r.balance).collect(),
        created_at: rows.iter().map(|r| r.created_at).collect(),
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

/// One workload of the table: its name, how many runs, the contenders, the ones the ratios
/// are taken to.
struct Workload {
    name: &'static str,
    runs: usize,
    impls: &'static [&'static str],
    bases: &'static [&'static str],
}

const WORKLOADS: [Workload; 7] = [
    Workload {
        name: "fetch 10,000 rows",
        runs: 30,
        impls: &[
            "chakra",
            "chakra Model::query().all",
            "diesel-async",
            "tokio-postgres",
        ],
        bases: &["tokio-postgres", "diesel-async"],
    },
    Workload {
        name: "filtered x200",
        runs: 9,
        impls: &[
            "chakra Model::query().all",
            "chakra Model::query().all, held",
            "chakra Model::query(), compiled each call",
            "diesel-async",
            "tokio-postgres",
        ],
        bases: &["tokio-postgres"],
    },
    Workload {
        name: "insert 1,000 rows",
        runs: 30,
        impls: &["chakra", "diesel-async", "tokio-postgres"],
        bases: &["tokio-postgres"],
    },
    Workload {
        name: "get by pk x1000",
        runs: 9,
        impls: &[
            "chakra",
            "chakra Model::get",
            "chakra Model::get, held",
            "chakra pool checkout only",
            "diesel-async",
            "tokio-postgres",
        ],
        bases: &["tokio-postgres"],
    },
    Workload {
        name: "2,000 new objects",
        runs: 15,
        impls: &["chakra Session", "tokio-postgres", "tokio-postgres unnest"],
        bases: &["tokio-postgres", "tokio-postgres unnest"],
    },
    Workload {
        name: "2,000 keyed saves",
        runs: 15,
        impls: &[
            "chakra Session",
            "tokio-postgres",
            "tokio-postgres pipelined",
        ],
        bases: &["tokio-postgres", "tokio-postgres pipelined"],
    },
    Workload {
        name: "insert 10,000 rows",
        runs: 15,
        impls: &[
            "chakra executor",
            "tokio-postgres unnest",
            "tokio-postgres COPY",
            "tokio-postgres 10,000 INSERTs",
        ],
        bases: &[
            "tokio-postgres 10,000 INSERTs",
            "tokio-postgres COPY",
            "tokio-postgres unnest",
        ],
    },
];

fn median(mut t: Vec<Duration>) -> Duration {
    t.sort();
    t[t.len() / 2]
}

/// The rows the workloads write, and the rows the keyed saves start from.
struct Data {
    rows: Vec<NewUser>,
    rows2k: Vec<NewUser>,
    rows10k: Vec<NewUser>,
    saved: Vec<BenchUser>,
}

fn data(e: &Env) -> Data {
    let saved: Vec<BenchUser> = e.rt.block_on(async {
        BenchUser::query()
            .filter(BenchUser::id().le(2000))
            .order_by(BenchUser::id())
            .all(&e.pool)
            .await
            .unwrap()
    });
    Data {
        rows: new_rows(1000),
        rows2k: new_rows(2000),
        rows10k: new_rows(10_000),
        saved,
    }
}

/// One run of one contender of a workload: its wall time and the process CPU time it took.
fn run_once(e: &Env, d: &Data, w: &Workload, which: &str) -> (Duration, Duration) {
    let c0 = cpu::cpu_time();
    let t0 = Instant::now();
    let n = e.rt.block_on(async {
        match w.name {
            "fetch 10,000 rows" => e.fetch(which).await,
            "filtered x200" => e.filtered(which).await,
            "insert 1,000 rows" => e.insert(which, &d.rows).await,
            "2,000 new objects" => e.insert_objects(which, &d.rows2k).await,
            "insert 10,000 rows" => e.bulk_load(which, &d.rows10k).await,
            "2,000 keyed saves" => e.save_objects(which, &d.saved).await,
            _ => {
                let mut n = 0;
                for id in 1..=1000 {
                    n += e.get(which, id).await;
                }
                n
            }
        }
    });
    let wall = t0.elapsed();
    let cpu = cpu::cpu_time() - c0;
    assert!(n > 0, "{} {which} did nothing", w.name);
    (wall, cpu)
}

fn table_header() {
    println!(
        "\n{:<19} {:<22} {:>11} {:>7} {:>11} {:>7}",
        "workload", "impl", "wall", "ratio", "cpu", "ratio"
    );
}

/// A workload's lines of the table: each contender's wall and CPU time, with ratios to each
/// base contender.
fn print_workload(w: &Workload, meds: &[Duration], cpus: &[Duration]) {
    for base in w.bases {
        let b = w.impls.iter().position(|x| x == base).expect("base runs");
        println!("{:<19} (ratios to {base})", w.name);
        for (i, which) in w.impls.iter().enumerate() {
            println!(
                "{:<19} {:<22} {:>8.3} ms {:>6.2}x {:>8.3} ms {:>6.2}x",
                w.name,
                which,
                meds[i].as_secs_f64() * 1e3,
                meds[i].as_secs_f64() / meds[b].as_secs_f64(),
                cpus[i].as_secs_f64() * 1e3,
                cpus[i].as_secs_f64() / cpus[b].as_secs_f64().max(1e-9),
            );
        }
    }
}

/// `--only <text>`: only the workloads whose name contains it (for profiling).
fn selected() -> impl Iterator<Item = &'static Workload> {
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    WORKLOADS
        .iter()
        .filter(move |w| only.as_deref().is_none_or(|o| w.name.contains(o)))
}

/// Runs every workload's contenders in interleaved rounds and prints the median wall time
/// and the mean process CPU time per operation, each with its ratio to the base contender.
fn ratio_table(e: &Env) {
    let d = data(e);
    println!("start: {}", stamp());
    table_header();
    for w in selected() {
        let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); w.impls.len()];
        let mut cpu = vec![Duration::ZERO; w.impls.len()];
        for _ in 0..w.runs {
            for (i, which) in w.impls.iter().enumerate() {
                let (t, c) = run_once(e, &d, w, which);
                wall[i].push(t);
                cpu[i] += c;
            }
        }
        let meds: Vec<Duration> = wall.into_iter().map(median).collect();
        let cpus: Vec<Duration> = cpu.iter().map(|c| *c / w.runs as u32).collect();
        print_workload(w, &meds, &cpus);
    }
    println!("end:   {}", stamp());
}

/// The date (UTC) and the load average, printed around a table.
fn stamp() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{}, load average {}",
        Utc::now().format("%Y-%m-%d %H:%M:%S UTC"),
        load.join(" ")
    )
}

/// A child of `--isolated`: one contender of one workload, a warm-up run then the workload's
/// runs (`CHAKRA_BENCH_RUNS` of them when set: for instruction counts, run a child under
/// callgrind with two values and take the difference), in this process alone; prints
/// `ISOLATED <median wall ns> <mean CPU ns> <warm-up wall ns>`.
fn isolated_child(workload: &str, which: &str) {
    let w = WORKLOADS
        .iter()
        .find(|w| w.name == workload)
        .expect("a workload of the table");
    let runs: usize = std::env::var("CHAKRA_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(w.runs);
    let e = env(false);
    let d = data(&e);
    let (cold, _) = run_once(&e, &d, w, which);
    let mut walls = Vec::with_capacity(runs);
    let mut cpu = Duration::ZERO;
    for _ in 0..runs {
        let (t, c) = run_once(&e, &d, w, which);
        walls.push(t);
        cpu += c;
    }
    let wall = if walls.is_empty() {
        Duration::ZERO
    } else {
        median(walls)
    };
    println!(
        "ISOLATED {} {} {}",
        wall.as_nanos(),
        (cpu / runs.max(1) as u32).as_nanos(),
        cold.as_nanos()
    );
}

/// `--isolated N`: every contender of every selected workload alone in a fresh process of
/// this binary, the contenders interleaved across N repetitions (A B C A B C …); prints the
/// median over the N processes of each one's median wall and mean CPU time per operation,
/// and the median of its whole process's CPU time (`getrusage(RUSAGE_CHILDREN)` around its
/// wait: connecting, preparing, the warm-up run and the runs).
fn isolated_parent(reps: usize) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(setup());
    let me = std::env::current_exe().unwrap();
    println!("start: {}", stamp());
    println!("each contender alone in a fresh process, {reps} interleaved repetitions, medians");
    table_header();
    let mut whole = Vec::new();
    for w in selected() {
        let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); w.impls.len()];
        let mut cpu: Vec<Vec<Duration>> = vec![Vec::new(); w.impls.len()];
        let mut proc_cpu: Vec<Vec<Duration>> = vec![Vec::new(); w.impls.len()];
        for _ in 0..reps {
            for (i, which) in w.impls.iter().enumerate() {
                let before = cpu::children_cpu_time();
                let out = std::process::Command::new(&me)
                    .args(["--isolated-child", w.name, which])
                    .output()
                    .unwrap();
                proc_cpu[i].push(cpu::children_cpu_time() - before);
                assert!(
                    out.status.success(),
                    "{} {which}: {}",
                    w.name,
                    String::from_utf8_lossy(&out.stderr)
                );
                let stdout = String::from_utf8_lossy(&out.stdout);
                let line = stdout
                    .lines()
                    .find_map(|l| l.strip_prefix("ISOLATED "))
                    .expect("the child's results");
                let v: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
                wall[i].push(Duration::from_nanos(v[0]));
                cpu[i].push(Duration::from_nanos(v[1]));
            }
        }
        let meds: Vec<Duration> = wall.into_iter().map(median).collect();
        let cpus: Vec<Duration> = cpu.into_iter().map(median).collect();
        print_workload(w, &meds, &cpus);
        for (i, which) in w.impls.iter().enumerate() {
            whole.push(format!(
                "  {} / {which}: {:.2} s",
                w.name,
                median(proc_cpu[i].clone()).as_secs_f64()
            ));
        }
    }
    println!("end:   {}", stamp());
    println!("whole child process CPU, median:");
    for l in whole {
        println!("{l}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--isolated-child") {
        isolated_child(&args[i + 1], &args[i + 2]);
        return;
    }
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
    if let Some(i) = args.iter().position(|a| a == "--isolated") {
        let reps = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(3);
        isolated_parent(reps);
        return;
    }
    let e = env(true);
    let table_only = args.iter().any(|a| a == "--table-only");
    if !table_only {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c, &e);
        c.final_summary();
    }
    ratio_table(&e);
}

// criterion_group! is not used: the environment is shared across groups.
#[allow(dead_code)]
fn _unused(c: &mut Criterion) {
    let _ = c;
}
criterion_group!(_unused_group, _unused);
