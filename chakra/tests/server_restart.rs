//! A throwaway PostgreSQL cluster restarted (stop, start) under a light write loop: the loop
//! resumes on fresh connections and no write that reported success is lost — connected
//! directly, and through PgBouncer in transaction mode.

mod common;

use chakra::dsl::*;
use chakra::{Error, Pool, PoolOptions};
use common::servers::{
    as_postgres, chown_postgres, find_program, pg_bindir, pg_stop_now, run, try_run,
};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A cluster of its own, stopped and removed when dropped.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

/// The tests of this file run one at a time: two throwaway clusters starting at once on a
/// busy 2-core machine made `pg_ctl start` time out.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Two free neighbouring ports for `tag`, below Linux's ephemeral range (32768 and up), so
/// the many client connections of tests running beside this one (cargo-nextest runs test
/// binaries side by side) cannot be holding them, and the cluster gets the same port back
/// after a restart. Ports something already listens on are skipped.
fn free_ports(tag: u16) -> u16 {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let pid = std::process::id() as u16;
    for i in 0..3000u16 {
        let base = 20000 + (pid.wrapping_add(i) % 3000) * 4 + tag * 2;
        if free(base) && free(base + 1) {
            return base;
        }
    }
    panic!("no two free ports between 20000 and 32000 for a throwaway cluster");
}

impl Cluster {
    /// `tag` keeps the clusters of the tests in one process apart (directory and port).
    fn start(tag: u16) -> Cluster {
        let dir = std::env::temp_dir().join(format!("chakra_restart_{}_{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        chown_postgres(&dir, false);
        // Each tag gets two ports: the cluster's, and the next for a PgBouncer in front.
        let port = free_ports(tag);
        let bin = pg_bindir("initdb");
        let data = dir.join("data");
        run(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
            ],
        );
        let c = Cluster { dir, bin, port };
        c.ctl("start");
        c
    }

    fn ctl(&self, action: &str) {
        let data = self.dir.join("data");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
        let mut args = vec!["-D", data.to_str().unwrap(), "-w"];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        } else {
            args.extend(["-o", &opts, "-l", log.to_str().unwrap()]);
        }
        args.push(action);
        // A start that fails (a slow machine, a port still held) is retried; its log is
        // printed so a real failure can be read.
        for attempt in 1..=3 {
            if try_run(&self.bin, "pg_ctl", &args) {
                return;
            }
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            eprintln!("pg_ctl {action} failed (attempt {attempt}):\n{log_text}");
            if action == "stop" {
                break;
            }
            // A server left half-started by a timed-out `-w` is stopped before the retry.
            try_run(
                &self.bin,
                "pg_ctl",
                &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
            );
            std::thread::sleep(Duration::from_secs(2));
        }
        panic!("pg_ctl {args:?} failed");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        pg_stop_now(&self.bin, &self.dir.join("data"));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn insert(i: i64) -> Statement {
    Statement::Insert(Insert {
        enum_types: Default::default(),
        table: "log".into(),
        columns: vec!["id".into()],
        rows: vec![vec![Value::I64(i)]],
        returning: vec![],
    })
}

/// One write in its own transaction.
async fn write(pool: &Pool, i: i64) -> chakra::Result<()> {
    let mut t = pool.begin().await?;
    t.execute(&insert(i)).await?;
    t.commit().await
}

/// A PgBouncer (transaction mode) in front of a cluster, stopped when dropped.
struct Bouncer {
    dir: PathBuf,
    port: u16,
}

impl Bouncer {
    fn start(cluster: &Cluster) -> Bouncer {
        let dir = cluster.dir.join("bouncer");
        std::fs::create_dir_all(&dir).unwrap();
        let port = cluster.port + 1;
        let ini = format!(
            "[databases]\n* = host=127.0.0.1 port={} user=postgres\n\n[pgbouncer]\n\
             listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = any\npool_mode = transaction\ndefault_pool_size = 10\n\
             logfile = {d}/pgbouncer.log\npidfile = {d}/pgbouncer.pid\n",
            cluster.port,
            d = dir.display()
        );
        std::fs::write(dir.join("pgbouncer.ini"), ini).unwrap();
        chown_postgres(&dir, true);
        let exe = find_program(&["pgbouncer"])
            .expect("PgBouncer is required for this test (the README's test command installs it)");
        let ok = as_postgres(&exe)
            .arg("-d")
            .arg(dir.join("pgbouncer.ini"))
            .status()
            .unwrap()
            .success();
        assert!(ok, "PgBouncer did not start");
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Bouncer { dir, port }
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?pooler=transaction",
            self.port
        )
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("pgbouncer.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_loop_resumes_after_a_server_restart() {
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(0);
    let url = cluster.url();
    write_loop_through_a_restart(&cluster, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_loop_resumes_after_a_server_restart_behind_pgbouncer() {
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(1);
    let bouncer = Bouncer::start(&cluster);
    write_loop_through_a_restart(&cluster, &bouncer.url()).await;
    drop(bouncer);
}

async fn write_loop_through_a_restart(cluster: &Cluster, url: &str) {
    let pool = Pool::connect_with(
        url,
        PoolOptions {
            max_size: 4,
            wait_timeout: Duration::from_secs(5),
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    pool.batch_execute("CREATE TABLE log (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();

    const N: i64 = 120;
    let done = Arc::new(AtomicU64::new(0));
    let writer = {
        let pool = pool.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut reported = Vec::new();
            let mut failures = 0u32;
            for i in 0..N {
                loop {
                    match write(&pool, i).await {
                        Ok(()) => {
                            reported.push(i);
                            break;
                        }
                        // An earlier attempt whose reply was lost did commit.
                        Err(Error::UniqueViolation(_)) => break,
                        Err(_) => {
                            failures += 1;
                            assert!(failures < 2000, "the loop never resumed");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
                done.store(i as u64 + 1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (reported, failures)
        })
    };
    while done.load(Ordering::SeqCst) < 30 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = cluster;
    tokio::task::block_in_place(|| {
        c.ctl("stop");
        std::thread::sleep(Duration::from_millis(200));
        c.ctl("start");
    });
    let (reported, failures) = writer.await.unwrap();
    let rows = pool
        .fetch(&Statement::Select(
            Select::from(Source::table("log"))
                .column(Expr::col("log", "id", ValueType::I64), ValueType::I64),
        ))
        .await
        .unwrap();
    let stored: std::collections::HashSet<i64> = rows
        .into_iter()
        .map(|r| match r[0] {
            Value::I64(n) => n,
            ref other => panic!("{other:?}"),
        })
        .collect();
    for i in &reported {
        assert!(
            stored.contains(i),
            "write {i} reported success and was lost"
        );
    }
    assert_eq!(stored.len() as i64, N, "every write landed once");
    println!(
        "restart: {} writes reported success, {failures} failed attempts while the server was away",
        reported.len()
    );
}
