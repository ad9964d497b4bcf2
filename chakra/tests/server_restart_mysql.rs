//! A throwaway MariaDB server restarted (stop, start) under a light write loop through a
//! `Pool`: the loop resumes on fresh connections and no write that reported success is lost
//! (the rows counted with hand-written SQL on a connection of the test's own). The server is
//! the test's own (`mariadb-install-db` into a temporary directory, `mariadbd` on a free
//! loopback port); the shared server at 3306 is never touched.

mod common;

use chakra::dsl::*;
use chakra::{Error, Pool, PoolOptions};
use common::servers::{find_program, is_root};
use mysql_async::prelude::Queryable;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The first of `names` found (see [`find_program`]); the test fails when none is.
fn program(names: &[&str]) -> PathBuf {
    find_program(names).unwrap_or_else(|| {
        panic!("{names:?}: the MariaDB server (Debian's mariadb-server) is required for this test")
    })
}

/// A free loopback port below Linux's ephemeral range (32768 and up), so the client
/// connections of tests running beside this one cannot be holding it, and the server gets
/// the same port back after its restart.
fn free_port() -> u16 {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let pid = std::process::id() as u16;
    for i in 0..3000u16 {
        let port = 23000 + (pid.wrapping_add(i) % 3000) * 3 + 2;
        if port != 3306 && free(port) {
            return port;
        }
    }
    panic!("no free port between 23000 and 32000 for a throwaway MariaDB server");
}

/// A MariaDB server of its own, stopped and removed when dropped.
struct Server {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn start() -> Server {
        let dir = std::env::temp_dir().join(format!("chakra_restart_my_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let mut install = Command::new(program(&["mariadb-install-db", "mysql_install_db"]));
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .stdout(Stdio::null());
        if is_root() {
            install.arg("--user=root");
        }
        let log = std::fs::File::create(dir.join("install.log")).unwrap();
        install.stderr(log);
        let ok = install.status().expect("mariadb-install-db").success();
        assert!(
            ok,
            "mariadb-install-db failed: {}",
            std::fs::read_to_string(dir.join("install.log")).unwrap_or_default()
        );
        let mut s = Server {
            dir,
            port: free_port(),
            child: None,
        };
        s.run();
        s
    }

    /// Starts `mariadbd` on the data directory and waits until it answers.
    fn run(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        let mut cmd = Command::new(program(&["mariadbd", "mysqld"]));
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--socket={}", self.dir.join("sock").display()))
            .arg(format!("--pid-file={}", self.dir.join("pid").display()))
            .arg(format!("--port={}", self.port))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
                "--innodb-log-file-size=8M",
                "--innodb-flush-log-at-trx-commit=1",
                "--max-connections=50",
                "--performance-schema=OFF",
            ])
            .stdout(Stdio::null())
            .stderr(log);
        if is_root() {
            cmd.arg("--user=root");
        }
        self.child = Some(cmd.spawn().expect("mariadbd"));
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "mariadbd exited ({status}):\n{}",
                    std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
                );
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "mariadbd did not listen within 60 s:\n{}",
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A clean shutdown (SIGTERM: committed transactions are on disk), waited for.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let t0 = Instant::now();
            while child.try_wait().unwrap().is_none() {
                if t0.elapsed() > Duration::from_secs(60) {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    fn url(&self, db: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One write in its own transaction.
async fn write(pool: &Pool, i: i64) -> chakra::Result<()> {
    let mut t = pool.begin().await?;
    t.execute(&Statement::Insert(Insert {
        enum_types: Default::default(),
        table: "log".into(),
        columns: vec!["id".into()],
        rows: vec![vec![Value::I64(i)]],
        returning: vec![],
    }))
    .await?;
    t.commit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_loop_resumes_after_a_mariadb_restart() {
    let mut server = tokio::task::block_in_place(Server::start);
    let mut admin = mysql_async::Conn::from_url(server.url("mysql"))
        .await
        .expect("the throwaway server answers");
    admin
        .query_drop("CREATE DATABASE chakra_restart")
        .await
        .unwrap();
    admin
        .query_drop("CREATE TABLE chakra_restart.log (id BIGINT PRIMARY KEY) ENGINE=InnoDB")
        .await
        .unwrap();
    drop(admin);
    let pool = Pool::connect_with(
        &server.url("chakra_restart"),
        PoolOptions {
            max_size: 4,
            wait_timeout: Duration::from_secs(5),
            ..PoolOptions::default()
        },
    )
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
                            assert!(failures < 3000, "the loop never resumed");
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
    tokio::task::block_in_place(|| {
        server.stop();
        std::thread::sleep(Duration::from_millis(200));
        server.run();
    });
    let (reported, failures) = writer.await.unwrap();
    assert!(failures > 0, "the loop ran while the server was away");
    assert!(
        reported.len() as i64 >= N - 5,
        "most writes report success: {}",
        reported.len()
    );
    // Counted by hand, on a connection of the test's own.
    let mut c = mysql_async::Conn::from_url(server.url("chakra_restart"))
        .await
        .unwrap();
    let stored: Vec<i64> = c.query("SELECT id FROM log ORDER BY id").await.unwrap();
    let stored_set: std::collections::HashSet<i64> = stored.iter().copied().collect();
    for i in &reported {
        assert!(
            stored_set.contains(i),
            "write {i} reported success and was lost"
        );
    }
    assert_eq!(
        stored,
        (0..N).collect::<Vec<i64>>(),
        "every write landed once"
    );
    drop(c);
    drop(pool);
    println!(
        "restart: {} writes reported success, {failures} failed attempts while the server was away",
        reported.len()
    );
}
