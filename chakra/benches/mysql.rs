//! MySQL/MariaDB benchmark: Chakra's pool and executor, and its typed model API, next to
//! the raw driver (`mysql_async`, prepared statements, the same rows built into the same
//! structs) on the same server. The same workloads as the other backends:
//!
//! - bulk insert 10,000 rows (Chakra: the executor's one multi-row `INSERT` and the typed
//!   `Model::insert_all`; `mysql_async`: the same one multi-row `INSERT` prepared, and 10,000
//!   executions of a prepared single-row `INSERT` in a transaction, `exec_batch`);
//! - fetch 10,000 rows (Chakra: the executor's `Vec<Value>` rows and `Model::query().all`
//!   into structs; `mysql_async`: a prepared `SELECT` decoded into the same struct);
//! - 5,000 gets by primary key (Chakra: the executor with a select built each time,
//!   `Model::get` through the pool (a checkout per get) and on one held connection (a
//!   transaction open for the run, as the driver's connection is); `mysql_async`: a
//!   prepared `SELECT … WHERE id = ?` into the struct).
//!
//! Every statement's text is the same whatever the data (no literal values in the SQL).
//! Criterion's report comes first, then a table: the contenders of each workload run in
//! interleaved rounds (robust to a shared VM's drift), with the median wall time and the
//! mean process CPU time (user + system of every thread, `getrusage`) per operation, each
//! as a ratio to the raw driver.
//!
//! `cargo bench -p chakra --bench mysql` (MariaDB/MySQL from CHAKRA_TEST_MYSQL_URL, default
//! mysql://root@127.0.0.1:3306/mysql; a `chakra_bench` database is recreated).
//! `-- --table-only` skips criterion; `--only <text>` keeps the table's workloads whose
//! name contains the text, `--impl <text>` the contenders whose name contains it (ratios
//! then to the first one kept: for profiling one contender).

#[path = "common/bench_user.rs"]
mod bench_user;
#[path = "common/cpu.rs"]
mod cpu;

use bench_user::BenchUser;

use chakra::dsl::*;
use chakra::{compile, Dialect, Model, Pool};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use criterion::Criterion;
use mysql_async::prelude::Queryable;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const N: usize = 10_000;
const GETS: usize = 5_000;

fn admin_url() -> String {
    std::env::var("CHAKRA_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into())
}

fn bench_url() -> String {
    let mut u = url::Url::parse(&admin_url()).unwrap();
    u.set_path("/chakra_bench");
    u.to_string()
}

const COLUMNS: &str = "id, username, email, active, balance, created_at";
const INSERT_COLUMNS: &str = "username, email, active, balance, created_at";

fn table_sql(name: &str) -> String {
    format!(
        "CREATE TABLE {name} (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
         username VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL, active BOOLEAN NOT NULL, \
         balance BIGINT NOT NULL, created_at DATETIME(6) NOT NULL) \
         ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    )
}

fn new_rows(n: usize) -> Vec<BenchUser> {
    let now = DateTime::parse_from_rfc3339("2026-01-01T12:34:56.789012Z")
        .unwrap()
        .with_timezone(&Utc);
    (0..n)
        .map(|i| BenchUser {
            id: 0,
            username: format!("user{i}"),
            email: format!("user{i}@example.com"),
            active: i % 2 == 0,
            balance: i as i64 * 10,
            created_at: now,
        })
        .collect()
}

/// The multi-row `INSERT` text for `n` rows (what Chakra sends for one statement).
fn multi_insert_sql(table: &str, n: usize) -> String {
    let mut s = format!("INSERT INTO {table} ({INSERT_COLUMNS}) VALUES ");
    for i in 0..n {
        s.push_str(if i == 0 {
            "(?, ?, ?, ?, ?)"
        } else {
            ", (?, ?, ?, ?, ?)"
        });
    }
    s
}

fn my_date(t: &DateTime<Utc>) -> mysql_async::Value {
    use chrono::{Datelike, Timelike};
    mysql_async::Value::Date(
        t.year() as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.timestamp_subsec_micros(),
    )
}

fn my_params(u: &BenchUser) -> Vec<mysql_async::Value> {
    use mysql_async::Value as My;
    vec![
        My::Bytes(u.username.as_bytes().to_vec()),
        My::Bytes(u.email.as_bytes().to_vec()),
        My::Int(i64::from(u.active)),
        My::Int(u.balance),
        my_date(&u.created_at),
    ]
}

/// One row of the raw driver into the struct (by hand: the driver's `minimal-rust` build
/// has no chrono conversions).
fn raw_user(r: mysql_async::Row) -> BenchUser {
    use mysql_async::Value as My;
    let mut v = r.unwrap().into_iter();
    let mut next = || v.next().expect("six columns");
    let int = |x: My| match x {
        My::Int(i) => i,
        other => panic!("an integer, not {other:?}"),
    };
    let text = |x: My| match x {
        My::Bytes(b) => String::from_utf8(b).expect("UTF-8"),
        other => panic!("text, not {other:?}"),
    };
    let id = int(next());
    let username = text(next());
    let email = text(next());
    let active = int(next()) != 0;
    let balance = int(next());
    let created_at = match next() {
        My::Date(y, mo, d, h, mi, s, us) => NaiveDate::from_ymd_opt(y.into(), mo.into(), d.into())
            .unwrap()
            .and_time(NaiveTime::from_hms_micro_opt(h.into(), mi.into(), s.into(), us).unwrap())
            .and_utc(),
        other => panic!("a datetime, not {other:?}"),
    };
    BenchUser {
        id,
        username,
        email,
        active,
        balance,
        created_at,
    }
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

fn chakra_insert(rows: &[BenchUser]) -> Statement {
    Insert {
        enum_types: Default::default(),
        table: "bench_ins".into(),
        columns: INSERT_COLUMNS.split(", ").map(str::to_owned).collect(),
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

/// `BenchUser` on the insert table (the typed insert writes there).
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

impl From<&BenchUser> for BenchIns {
    fn from(u: &BenchUser) -> Self {
        BenchIns {
            id: 0,
            username: u.username.clone(),
            email: u.email.clone(),
            active: u.active,
            balance: u.balance,
            created_at: u.created_at,
        }
    }
}

struct Env {
    pool: Pool,
    my: tokio::sync::Mutex<mysql_async::Conn>,
    my_select: mysql_async::Statement,
    my_get: mysql_async::Statement,
    my_ins_one: mysql_async::Statement,
    my_ins_many: mysql_async::Statement,
    /// A transaction held open for the run: `Model::get` on one connection, without a pool
    /// checkout per get (as the raw driver runs here).
    held: tokio::sync::Mutex<chakra::Transaction>,
}

fn env(rt: &Runtime) -> Env {
    rt.block_on(async {
        let mut admin = mysql_async::Conn::from_url(admin_url())
            .await
            .expect("MariaDB/MySQL for the benchmark");
        admin
            .query_drop("DROP DATABASE IF EXISTS chakra_bench")
            .await
            .unwrap();
        admin
            .query_drop("CREATE DATABASE chakra_bench CHARACTER SET utf8mb4")
            .await
            .unwrap();
        admin.disconnect().await.unwrap();
        let mut my = mysql_async::Conn::from_url(bench_url()).await.unwrap();
        // The session Chakra's connections get, so both sides run under the same rules.
        my.query_drop(
            "SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES', \
             time_zone = '+00:00', NAMES utf8mb4",
        )
        .await
        .unwrap();
        my.query_drop(table_sql("bench_users")).await.unwrap();
        my.query_drop(table_sql("bench_ins")).await.unwrap();
        let my_ins_many = my.prep(multi_insert_sql("bench_users", N)).await.unwrap();
        let fill: Vec<mysql_async::Value> = new_rows(N).iter().flat_map(my_params).collect();
        my.exec_drop(&my_ins_many, fill).await.unwrap();
        my.close(my_ins_many).await.unwrap();
        let my_select = my
            .prep(format!("SELECT {COLUMNS} FROM bench_users"))
            .await
            .unwrap();
        let my_get = my
            .prep(format!("SELECT {COLUMNS} FROM bench_users WHERE id = ?"))
            .await
            .unwrap();
        let my_ins_one = my
            .prep(format!(
                "INSERT INTO bench_ins ({INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
            ))
            .await
            .unwrap();
        let my_ins_many = my.prep(multi_insert_sql("bench_ins", N)).await.unwrap();
        let pool = Pool::connect(&bench_url()).await.unwrap();
        let held = pool.begin().await.unwrap();
        Env {
            pool,
            my: tokio::sync::Mutex::new(my),
            my_select,
            my_get,
            my_ins_one,
            my_ins_many,
            held: tokio::sync::Mutex::new(held),
        }
    })
}

impl Env {
    async fn reset(&self) {
        self.pool
            .batch_execute("TRUNCATE TABLE bench_ins")
            .await
            .unwrap();
    }

    async fn insert(&self, which: &str, rows: &[BenchUser], objs: &[BenchIns]) -> usize {
        match which {
            "chakra executor" => Pool::execute(&self.pool, &chakra_insert(rows))
                .await
                .unwrap() as usize,
            "chakra Model::insert_all" => {
                BenchIns::insert_all(&self.pool, objs).await.unwrap() as usize
            }
            "mysql_async 10,000 INSERTs" => {
                let mut c = self.my.lock().await;
                let mut tx = c
                    .start_transaction(mysql_async::TxOpts::default())
                    .await
                    .unwrap();
                tx.exec_batch(&self.my_ins_one, rows.iter().map(my_params))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                rows.len()
            }
            _ => {
                let mut c = self.my.lock().await;
                let params: Vec<mysql_async::Value> = rows.iter().flat_map(my_params).collect();
                c.exec_drop(&self.my_ins_many, params).await.unwrap();
                c.affected_rows() as usize
            }
        }
    }

    async fn fetch(&self, which: &str) -> usize {
        match which {
            "chakra executor" => {
                black_box(Pool::fetch(&self.pool, &select_all().into()).await.unwrap()).len()
            }
            "chakra Model::query().all" => {
                black_box(BenchUser::query().all(&self.pool).await.unwrap()).len()
            }
            _ => {
                let mut c = self.my.lock().await;
                let mut r = c.exec_iter(&self.my_select, ()).await.unwrap();
                let users: Vec<BenchUser> = r.map(raw_user).await.unwrap();
                drop(r);
                black_box(users).len()
            }
        }
    }

    async fn get(&self, which: &str, id: i64) -> usize {
        match which {
            "chakra executor" => {
                let q = select_all()
                    .filter(Expr::col("bench_users", "id", ValueType::I64).eq(Expr::val(id)));
                Pool::fetch(&self.pool, &q.into()).await.unwrap().len()
            }
            "chakra Model::get" => {
                let u = BenchUser::get(&self.pool, id).await.unwrap();
                usize::from(u.id == id)
            }
            "chakra Model::get, held" => {
                let mut t = self.held.lock().await;
                let u = BenchUser::get(&mut *t, id).await.unwrap();
                usize::from(u.id == id)
            }
            _ => {
                let mut c = self.my.lock().await;
                let r: Option<mysql_async::Row> = c.exec_first(&self.my_get, (id,)).await.unwrap();
                let u = raw_user(r.expect("the row"));
                usize::from(black_box(u).id == id)
            }
        }
    }
}

/// One workload of the table: its name, how many rounds, the contenders, the ones the
/// ratios are taken to.
struct Workload {
    name: &'static str,
    runs: usize,
    impls: &'static [&'static str],
    bases: &'static [&'static str],
}

const WORKLOADS: [Workload; 3] = [
    Workload {
        name: "insert 10,000 rows",
        runs: 11,
        impls: &[
            "chakra executor",
            "chakra Model::insert_all",
            "mysql_async one INSERT",
            "mysql_async 10,000 INSERTs",
        ],
        bases: &["mysql_async one INSERT", "mysql_async 10,000 INSERTs"],
    },
    Workload {
        name: "fetch 10,000 rows",
        runs: 21,
        impls: &[
            "chakra executor",
            "chakra Model::query().all",
            "mysql_async",
        ],
        bases: &["mysql_async"],
    },
    Workload {
        name: "get by pk x5,000",
        runs: 5,
        impls: &[
            "chakra executor",
            "chakra Model::get",
            "chakra Model::get, held",
            "mysql_async",
        ],
        bases: &["mysql_async"],
    },
];

fn median(mut t: Vec<Duration>) -> Duration {
    t.sort();
    t[t.len() / 2]
}

fn benches(c: &mut Criterion, rt: &Runtime, e: &Env) {
    let rows = new_rows(N);
    let objs: Vec<BenchIns> = rows.iter().map(BenchIns::from).collect();
    let mut g = c.benchmark_group("mysql_insert_10k_rows");
    g.sample_size(10);
    for which in WORKLOADS[0].impls {
        g.bench_function(*which, |b| {
            b.iter_custom(|iters| {
                let mut t = Duration::ZERO;
                for _ in 0..iters {
                    rt.block_on(e.reset());
                    let t0 = Instant::now();
                    rt.block_on(e.insert(which, &rows, &objs));
                    t += t0.elapsed();
                }
                t
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("mysql_fetch_10k_rows");
    g.sample_size(20);
    for which in WORKLOADS[1].impls {
        g.bench_function(*which, |b| b.iter(|| rt.block_on(e.fetch(which))));
    }
    g.finish();
    let mut g = c.benchmark_group("mysql_get_by_pk");
    for which in WORKLOADS[2].impls {
        let mut id = 0;
        g.bench_function(*which, |b| {
            b.iter(|| {
                id = id % N as i64 + 1;
                rt.block_on(e.get(which, id))
            })
        });
    }
    g.finish();
}

/// Runs every workload's contenders in interleaved rounds and prints the median wall time
/// and the mean process CPU time per operation, each with its ratio to the base contender.
fn ratio_table(rt: &Runtime, e: &Env) {
    let rows = new_rows(N);
    let objs: Vec<BenchIns> = rows.iter().map(BenchIns::from).collect();
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let only_impl = args
        .iter()
        .position(|a| a == "--impl")
        .and_then(|i| args.get(i + 1).cloned());
    println!(
        "\n{:<19} {:<28} {:>11} {:>7} {:>11} {:>7}",
        "workload", "impl", "wall", "ratio", "cpu", "ratio"
    );
    for w in &WORKLOADS {
        if only.as_deref().is_some_and(|o| !w.name.contains(o)) {
            continue;
        }
        // `--impl <text>`: only the contenders whose name contains it (for profiling one).
        let kept: Vec<&str> = w
            .impls
            .iter()
            .copied()
            .filter(|i| only_impl.as_deref().is_none_or(|o| i.contains(o)))
            .collect();
        let w = &Workload {
            name: w.name,
            runs: w.runs,
            impls: kept.leak(),
            bases: if only_impl.is_some() { &[] } else { w.bases },
        };
        let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); w.impls.len()];
        let mut cpu = vec![Duration::ZERO; w.impls.len()];
        // One warm-up round, not counted.
        for round in 0..=w.runs {
            for (i, which) in w.impls.iter().enumerate() {
                if w.name.starts_with("insert") {
                    rt.block_on(e.reset());
                }
                let c0 = cpu::cpu_time();
                let t0 = Instant::now();
                let n = rt.block_on(async {
                    match w.name {
                        "insert 10,000 rows" => e.insert(which, &rows, &objs).await,
                        "fetch 10,000 rows" => e.fetch(which).await,
                        _ => {
                            let mut n = 0;
                            for k in 0..GETS {
                                n += e.get(which, (k * 7 % N) as i64 + 1).await;
                            }
                            n
                        }
                    }
                });
                let (el, used) = (t0.elapsed(), cpu::cpu_time() - c0);
                assert!(n > 0, "{} {which} did nothing", w.name);
                if round > 0 {
                    wall[i].push(el);
                    cpu[i] += used;
                }
            }
        }
        let meds: Vec<Duration> = wall.into_iter().map(median).collect();
        let cpus: Vec<Duration> = cpu.iter().map(|c| *c / w.runs as u32).collect();
        let first: &[&str] = &w.impls[..w.impls.len().min(1)];
        let bases = if w.bases.is_empty() { first } else { w.bases };
        for base in bases {
            let b = w.impls.iter().position(|x| x == base).expect("base runs");
            println!("{:<19} (ratios to {base})", w.name);
            for (i, which) in w.impls.iter().enumerate() {
                println!(
                    "{:<19} {:<28} {:>8.3} ms {:>6.2}x {:>8.3} ms {:>6.2}x",
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
}

fn main() {
    // The compiled get shows what ran, once.
    println!(
        "chakra get-by-pk SQL: {}",
        compile(
            &select_all()
                .filter(Expr::col("bench_users", "id", ValueType::I64).eq(Expr::val(1i64)))
                .into(),
            Dialect::Mysql
        )
        .unwrap()
        .sql()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = env(&rt);
    // Both sides read the same rows into the same struct.
    rt.block_on(async {
        let a = BenchUser::query()
            .order_by(BenchUser::id())
            .all(&e.pool)
            .await
            .unwrap();
        let mut c = e.my.lock().await;
        let mut r = c.exec_iter(&e.my_select, ()).await.unwrap();
        let mut b: Vec<BenchUser> = r.map(raw_user).await.unwrap();
        drop(r);
        b.sort_by_key(|u| u.id);
        assert_eq!(a.len(), N);
        assert_eq!(b.len(), N);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (
                    x.id,
                    &x.username,
                    &x.email,
                    x.active,
                    x.balance,
                    x.created_at
                ),
                (
                    y.id,
                    &y.username,
                    &y.email,
                    y.active,
                    y.balance,
                    y.created_at
                )
            );
        }
    });
    if !std::env::args().any(|a| a == "--table-only") {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c, &rt, &e);
        c.final_summary();
    }
    ratio_table(&rt, &e);
}
