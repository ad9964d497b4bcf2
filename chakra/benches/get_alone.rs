//! Get by primary key with one contender per process: `Model::get` through the pool, and
//! tokio-postgres with its statement prepared, each alone in a process of its own with one
//! connection, so nothing else shares its runtime or its PostgreSQL backend. The executor
//! bench's interleaved rounds put five contenders (and five backends) in one process; on
//! some VMs that alone changes a round trip's cost by 2–3x (`docs/performance.md`).
//!
//! `cargo bench -p chakra --bench get_alone` runs both in turn (the binary re-runs itself
//! with `--contender <name>`), three rounds, and prints wall and CPU time per get. Uses the
//! `chakra_bench` database the executor bench creates (run that first).

#[path = "common/bench_user.rs"]
mod bench_user;
#[path = "common/cpu.rs"]
mod cpu;

use bench_user::BenchUser;

use chakra::{Model, Pool};
use chrono::{DateTime, Utc};
use std::process::Command;
use std::time::Instant;

const GETS: i64 = 5_000;

fn url() -> String {
    let admin = std::env::var("CHAKRA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/chakra_bench"),
        None => admin,
    }
}

/// Runs one contender: GETS gets after a warm-up; prints µs of wall and CPU time per get.
fn run(contender: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ids = |i: i64| i % 1000 + 1;
        let (c0, t0) = match contender {
            "chakra" => {
                let pool = Pool::connect(&url()).await.unwrap();
                for i in 0..200 {
                    BenchUser::get(&pool, ids(i)).await.unwrap();
                }
                let (c0, t0) = (cpu::cpu_time(), Instant::now());
                for i in 0..GETS {
                    let u = BenchUser::get(&pool, ids(i)).await.unwrap();
                    assert_eq!(u.id, ids(i));
                }
                (c0, t0)
            }
            _ => {
                let (pg, conn) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                let st = pg
                    .prepare(
                        "SELECT id, username, email, active, balance, created_at \
                         FROM bench_users WHERE id = $1",
                    )
                    .await
                    .unwrap();
                for i in 0..200 {
                    pg.query_one(&st, &[&ids(i)]).await.unwrap();
                }
                let (c0, t0) = (cpu::cpu_time(), Instant::now());
                for i in 0..GETS {
                    let r = pg.query_one(&st, &[&ids(i)]).await.unwrap();
                    let row: (i64, String, String, bool, i64, DateTime<Utc>) =
                        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
                    assert_eq!(row.0, ids(i));
                }
                (c0, t0)
            }
        };
        let wall = t0.elapsed().as_secs_f64() * 1e6 / GETS as f64;
        let cpu = (cpu::cpu_time() - c0).as_secs_f64() * 1e6 / GETS as f64;
        println!("{wall:.2} {cpu:.2}");
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--contender") {
        run(&args[i + 1]);
        return;
    }
    let me = std::env::current_exe().unwrap();
    println!("get by pk, one contender per process, µs per get (wall / CPU)");
    for round in 0..3 {
        let mut line = format!("round {round}:");
        let mut got = Vec::new();
        for c in ["chakra", "tokio-postgres"] {
            let out = Command::new(&me).args(["--contender", c]).output().unwrap();
            assert!(
                out.status.success(),
                "{c}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let s = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            let v: Vec<f64> = s.split(' ').map(|x| x.parse().unwrap()).collect();
            line.push_str(&format!("  {c} {:.1} / {:.1}", v[0], v[1]));
            got.push(v);
        }
        line.push_str(&format!(
            "  ratio {:.2}x wall, {:.2}x CPU",
            got[0][0] / got[1][0],
            got[0][1] / got[1][1]
        ));
        println!("{line}");
    }
}
