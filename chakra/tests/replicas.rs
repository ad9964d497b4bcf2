//! Read replicas on a real streaming standby (`scripts/replica.sh` makes one with
//! `pg_basebackup -R` and exports `CHAKRA_TEST_PG_REPLICA_URL` and
//! `CHAKRA_TEST_PG_REPLICA_PRIMARY_URL`; these tests never skip): read-your-writes holds
//! 1,000 times in a row under a busy background writer, while without it staleness is
//! observed; transactions, `FOR UPDATE` and writes never touch the replica; a replica
//! stopped mid-run is skipped with no failed read, and used again once restarted.

mod common;

use chakra::databases::{DatabaseConfig, Databases, ReadPolicy, Skip};
use chakra::prelude::*;
use common::servers::{chown_postgres, pg_bindir, pg_stop_now, run};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Model)]
#[chakra(table = "rep_items")]
pub struct Item {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub n: i64,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need a streaming standby. Run the README's test \
             command (scripts/test.sh), which makes one with scripts/replica.sh."
        )
    })
}

fn primary_admin() -> String {
    env("CHAKRA_TEST_PG_REPLICA_PRIMARY_URL")
}

fn replica_admin() -> String {
    env("CHAKRA_TEST_PG_REPLICA_URL")
}

fn with_db(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

async fn exec(url: &str, sql: &str) {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let h = tokio::spawn(conn);
    c.batch_execute(sql).await.expect(sql);
    drop(c);
    let _ = h.await;
}

/// A database of the test's own on the primary, with `rep_items` and a ballast table,
/// waited for on the standby at `replica` (dropped on the primary when the guard goes).
struct TestDb {
    name: String,
}

impl TestDb {
    async fn new(replica: &str) -> TestDb {
        let name = format!(
            "chakra_rep_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        exec(&primary_admin(), &format!("CREATE DATABASE \"{name}\"")).await;
        exec(
            &with_db(&primary_admin(), &name),
            "CREATE TABLE rep_items (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL);
             CREATE TABLE rep_ballast (id BIGSERIAL PRIMARY KEY, pad TEXT NOT NULL);",
        )
        .await;
        // Replay reaches the standby: the database and its tables appear there.
        let url = with_db(replica, &name);
        let started = Instant::now();
        loop {
            if let Ok((c, conn)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                let h = tokio::spawn(conn);
                let ok = c.simple_query("SELECT 1 FROM rep_ballast").await.is_ok();
                drop(c);
                let _ = h.await;
                if ok {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the standby did not replay CREATE DATABASE"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        TestDb { name }
    }

    fn primary(&self) -> String {
        with_db(&primary_admin(), &self.name)
    }

    fn replica(&self, replica: &str) -> String {
        with_db(replica, &self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(exec(
                    &primary_admin(),
                    &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                ))
        })
        .join();
    }
}

/// Keeps the primary (and so the standby's replay) busy with large inserts until stopped.
fn background_writer(url: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let h = tokio::spawn(conn);
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            c.batch_execute(
                "INSERT INTO rep_ballast (pad) SELECT repeat(md5(random()::text), 64) FROM generate_series(1, 400)",
            )
            .await
            .unwrap();
            n += 1;
            if n % 20 == 0 {
                c.batch_execute("DELETE FROM rep_ballast").await.unwrap();
            }
        }
        drop(c);
        let _ = h.await;
        n
    })
}

async fn databases(primary: &str, replica: &str, policy: ReadPolicy, wait: Duration) -> Databases {
    Databases::builder()
        .database_with(
            "default",
            DatabaseConfig::new(primary)
                .replica(replica)
                .read_your_writes(policy)
                .replica_wait(wait)
                .replica_retry(Duration::from_millis(300)),
        )
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_your_writes_holds_under_load_and_staleness_shows_without_it() {
    let replica = replica_admin();
    let t = TestDb::new(&replica).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = background_writer(t.primary(), stop.clone());

    // Exact read-your-writes: every read after a write sees it, 1,000 times in a row.
    let dbs = databases(
        &t.primary(),
        &t.replica(&replica),
        ReadPolicy::Exact,
        Duration::from_secs(5),
    )
    .await;
    let db = dbs.default_db().unwrap();
    let scope = db.scope().replica(true);
    let mut item = Item { id: 0, n: 0 };
    item.save(&scope).await.unwrap();
    for i in 1..=1000 {
        item.n = i;
        item.save(&scope).await.unwrap();
        let seen = Item::get(&scope, item.id).await.unwrap();
        assert_eq!(seen.n, i, "read {i} after its write did not see it");
    }
    let counts = db.read_counts();
    // Not vacuous by falling back: the reads ran on the replica.
    assert!(
        counts.replica >= 900,
        "most reads should run on the replica: {counts:?}"
    );
    // A query through the scope's routed pool also reads its models on the replica (the
    // generated row reader on the replica's pool).
    let routed = scope.routed_pool();
    let all = Item::query().all(&routed).await.unwrap();
    assert_eq!((all.len(), all[0].n), (1, 1000));
    assert!(
        db.read_counts().replica > counts.replica,
        "the routed query ran on the replica: {:?}",
        db.read_counts()
    );

    // Without read-your-writes the same read may run before the replica replayed the write:
    // it is observed at least once (bounded tries).
    let loose = databases(
        &t.primary(),
        &t.replica(&replica),
        ReadPolicy::None,
        Duration::ZERO,
    )
    .await;
    let ldb = loose.default_db().unwrap();
    let lscope = ldb.scope().replica(true);
    let mut stale = 0;
    for i in 2000..7000 {
        item.n = i;
        item.save(&lscope).await.unwrap();
        if Item::get(&lscope, item.id).await.unwrap().n != i {
            stale += 1;
            if stale >= 3 {
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.await.unwrap();
    assert!(rounds > 0);
    assert!(stale > 0, "no stale read observed without read-your-writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_locks_and_writes_never_touch_the_replica() {
    let replica = replica_admin();
    let t = TestDb::new(&replica).await;
    let dbs = databases(
        &t.primary(),
        &t.replica(&replica),
        ReadPolicy::Exact,
        Duration::from_secs(2),
    )
    .await;
    let db = dbs.default_db().unwrap();
    let scope = db.scope().replica(true);
    let mut item = Item { id: 0, n: 1 };
    item.save(&scope).await.unwrap();
    // Reads inside a transaction, a locking read, writes and a raw statement.
    let mut tx = scope.begin().await.unwrap();
    let inside = Item::query().all(&mut tx).await.unwrap();
    assert_eq!(inside.len(), 1);
    Item::get(&mut tx, item.id).await.unwrap();
    tx.commit().await.unwrap();
    let locked = Item::query().for_update().all(&scope).await.unwrap();
    assert_eq!(locked.len(), 1);
    let session = chakra::Session::new(scope.pool());
    session
        .transaction(|tx| async move {
            let mut got = Item::get(&tx, 1).await?;
            got.n = 5;
            got.save(&tx).await
        })
        .await
        .unwrap();
    chakra::query::raw_fetch("SELECT n FROM rep_items")
        .all(&scope)
        .await
        .unwrap();
    // The replica's pool never opened a connection.
    let r = &db.replicas()[0];
    assert_eq!(r.pool().status().size, 0, "a statement reached the replica");
    assert_eq!(db.read_counts().replica, 0);
    // ... and a plain read does go there (the check above can fail).
    let seen = Item::get(&scope, item.id).await.unwrap();
    assert_eq!(seen.n, 5, "the replica read sees the session's write");
    assert_eq!(db.read_counts().replica, 1);
    assert!(r.pool().status().size >= 1);
}

// --- a standby of the test's own, to stop and start ---------------------------------------

/// A standby of its own (`pg_basebackup` of the primary), stopped and removed when dropped.
struct Standby {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl Standby {
    /// A standby on a port of the range of `tag` (one per test: tests run side by side in
    /// processes of their own, and two could otherwise both find one port free).
    fn make(tag: u16) -> Standby {
        let bin = pg_bindir("pg_basebackup");
        let base = 30000 + tag * 1000 + (std::process::id() % 500) as u16;
        let port = (base..base + 500)
            .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .expect("a free port");
        let dir =
            std::env::temp_dir().join(format!("chakra-standby-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        chown_postgres(&dir, false);
        let u = url::Url::parse(&primary_admin()).unwrap();
        let host = u.host_str().unwrap().to_owned();
        let pport = u.port().unwrap_or(5432).to_string();
        let data = dir.join("data");
        run(
            &bin,
            "pg_basebackup",
            &[
                "-h",
                &host,
                "-p",
                &pport,
                "-U",
                "postgres",
                "-D",
                data.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        );
        let s = Standby { dir, bin, port };
        s.start();
        s
    }

    fn start(&self) {
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        run(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c hot_standby=on -c max_connections=500", self.port, self.dir.display()),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        let data = self.dir.join("data");
        run(
            &self.bin,
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        pg_stop_now(&self.bin, &self.dir.join("data"));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_replica_is_skipped_and_used_again_after_restart() {
    let standby = Standby::make(0);
    let t = TestDb::new(&standby.url()).await;
    let dbs = databases(
        &t.primary(),
        &t.replica(&standby.url()),
        ReadPolicy::Exact,
        Duration::from_secs(2),
    )
    .await;
    let db = dbs.default_db().unwrap().clone();
    let mut item = Item { id: 0, n: 7 };
    // Through the database itself: its process-wide scope, so the reads below see it.
    item.save(&db).await.unwrap();

    // Reads run continuously, outside transactions: none may fail.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let db = db.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let got = Item::get(&db.replica(), item.id)
                    .await
                    .expect("a read failed");
                assert_eq!(got.n, 7);
                n += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            n
        })
    };
    let wait_until = |what: &'static str, f: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !f() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out: {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_until("reads reach the replica", &|| db.read_counts().replica > 20);
    tokio::task::block_in_place(|| standby.stop());
    // The replica is found down and skipped; reads go on, on the primary.
    let before = db.read_counts().primary;
    wait_until("reads go on on the primary", &|| {
        db.read_counts().primary > before + 20
    });
    assert!(
        matches!(db.replicas()[0].skipped(), Some(Skip::Down(_))),
        "{:?}",
        db.replicas()[0].skipped()
    );
    tokio::task::block_in_place(|| standby.start());
    let back = db.read_counts().replica;
    wait_until("reads return to the restarted replica", &|| {
        db.read_counts().replica > back + 20
    });
    stop.store(true, Ordering::Relaxed);
    let reads = reader.await.expect("the reader panicked: a read failed");
    assert!(reads > 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_refuse_a_standby() {
    let replica = replica_admin();
    let t = TestDb::new(&replica).await;
    let dir = std::env::temp_dir().join(format!("chakra_rep_mig_{}", t.name));
    std::fs::create_dir_all(dir.join("users")).unwrap();
    std::fs::write(
        dir.join("users/0001_initial.toml"),
        include_str!("../../migrations/users/0001_initial.toml"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args([
            "migrate",
            "apply",
            "--database-url",
            &t.replica(&replica),
            "--dir",
            dir.to_str().unwrap(),
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "applied on a standby: {err}");
    assert!(
        err.contains("is read-only") && err.contains("standby"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_primary_is_a_named_error() {
    let replica = replica_admin();
    let t = TestDb::new(&replica).await;
    exec(
        &t.primary(),
        &format!(
            "ALTER DATABASE \"{}\" SET default_transaction_read_only = on",
            t.name
        ),
    )
    .await;
    let dbs = databases(
        &t.primary(),
        &t.replica(&replica),
        ReadPolicy::Exact,
        Duration::from_secs(1),
    )
    .await;
    let db = dbs.default_db().unwrap();
    let mut item = Item { id: 0, n: 1 };
    match item.save(db).await {
        Err(Error::ReadOnlyDatabase { database, reason }) => {
            assert!(database.contains("default"), "{database}");
            assert!(reason.contains("read-only"), "{reason}");
        }
        other => panic!("expected ReadOnlyDatabase, got {other:?}"),
    }
    // Reads still work.
    assert_eq!(Item::query().count(db).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_your_writes_through_pgbouncer() {
    // PgBouncer (transaction mode) in front of the test server; the server named as its own
    // replica (not a standby: always current). The commit's WAL position is read behind the
    // pooler too.
    let bouncer = std::env::var("CHAKRA_TEST_PGBOUNCER_URL").unwrap_or_else(|_| {
        panic!("CHAKRA_TEST_PGBOUNCER_URL is not set: run the README's test command")
    });
    let admin = std::env::var("CHAKRA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("chakra_rep_pgb_{}", std::process::id());
    exec(&admin, &format!("DROP DATABASE IF EXISTS \"{name}\"")).await;
    exec(&admin, &format!("CREATE DATABASE \"{name}\"")).await;
    exec(
        &with_db(&admin, &name),
        "CREATE TABLE rep_items (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL)",
    )
    .await;
    let url = format!("{}?pooler=transaction", with_db(&bouncer, &name));
    let dbs = databases(&url, &url, ReadPolicy::Exact, Duration::from_secs(1)).await;
    let db = dbs.default_db().unwrap();
    let scope = db.scope().replica(true);
    let mut item = Item { id: 0, n: 1 };
    item.save(&scope).await.unwrap();
    let w = scope.mark().written();
    assert!(w.lsn.is_some() && !w.unknown, "{w:?}");
    let mut tx = scope.begin().await.unwrap();
    item.n = 2;
    item.save(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    let w2 = scope.mark().written();
    assert!(w2.lsn >= w.lsn && !w2.unknown, "{w2:?}");
    assert_eq!(Item::get(&scope, item.id).await.unwrap().n, 2);
    assert_eq!(db.read_counts().replica, 1);
    drop(dbs);
    exec(
        &admin,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_replica_is_skipped_and_exact_reads_fall_back_to_the_primary() {
    let standby = Standby::make(1);
    let t = TestDb::new(&standby.url()).await;
    let replica = t.replica(&standby.url());
    let dbs = Databases::builder()
        .database_with(
            "default",
            DatabaseConfig::new(t.primary())
                .replica(&replica)
                .replica_wait(Duration::from_millis(300))
                .max_replica_lag(Duration::from_millis(500))
                .replica_retry(Duration::from_millis(200)),
        )
        .connect()
        .await
        .unwrap();
    let db = dbs.default_db().unwrap();
    let scope = db.scope().replica(true);
    let mut item = Item { id: 0, n: 1 };
    item.save(&scope).await.unwrap();
    assert_eq!(Item::get(&scope, item.id).await.unwrap().n, 1);
    assert_eq!(db.read_counts().replica, 1);

    // Replay stops: the next write never reaches the replica's data.
    exec(&replica, "SELECT pg_wal_replay_pause()").await;
    item.n = 2;
    item.save(&scope).await.unwrap();
    let before = db.read_counts();
    // Exact: the replica has not replayed the write; after replica_wait, the primary.
    assert_eq!(Item::get(&scope, item.id).await.unwrap().n, 2);
    assert_eq!(db.read_counts().primary, before.primary + 1);
    assert_eq!(db.read_counts().replica, before.replica);

    // Past max_replica_lag the replica is skipped even by reads that need nothing.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let other = db.scope().replica(true);
    assert_eq!(
        Item::get(&other, item.id).await.unwrap().n,
        2,
        "read on the primary"
    );
    assert!(
        matches!(db.replicas()[0].skipped(), Some(Skip::Lagging(_))),
        "{:?}",
        db.replicas()[0].skipped()
    );

    // Replay resumes: once caught up, reads go back to it.
    exec(&replica, "SELECT pg_wal_replay_resume()").await;
    let back = db.read_counts().replica;
    let started = Instant::now();
    while db.read_counts().replica == back {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never used again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        let fresh = db.scope().replica(true);
        assert_eq!(Item::get(&fresh, item.id).await.unwrap().n, 2);
    }
}

/// Where a raw read-only query ran: `true` on the standby (`pg_is_in_recovery()`).
async fn on_standby(scope: &chakra::databases::Scope) -> bool {
    let got = chakra::raw_fetch("SELECT pg_is_in_recovery() AS standby")
        .all(&scope.clone().raw_read_only())
        .await
        .unwrap();
    got.rows[0][0] == Value::Bool(true)
}

/// `sticky` and `window` on the real standby: within `sticky_for` after a write the scope's
/// reads run on the primary (the server says it is not in recovery), after it on the
/// standby; a scope that wrote nothing reads on the standby at once. (The two policies
/// differ only in what comes after the bound, for `window` a read with no replay check:
/// the write is visible here because the bound is longer than this standby's lag, which
/// the test waits out.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sticky_and_window_reads_go_to_the_primary_within_the_bound_then_to_the_replica() {
    let replica = replica_admin();
    let t = TestDb::new(&replica).await;
    for policy in [ReadPolicy::Sticky, ReadPolicy::Window] {
        // Long enough for the reads below to run within it on a loaded machine.
        let bound = Duration::from_secs(3);
        let dbs = Databases::builder()
            .database_with(
                "default",
                DatabaseConfig::new(t.primary())
                    .replica(t.replica(&replica))
                    .read_your_writes(policy)
                    .sticky_for(bound),
            )
            .connect()
            .await
            .unwrap();
        let db = dbs.default_db().unwrap();
        let scope = db.scope().replica(true);
        assert!(on_standby(&scope).await, "{policy:?}: nothing written yet");

        let mut item = Item { id: 0, n: 1 };
        item.save(&scope).await.unwrap();
        let written = Instant::now();
        // Within the bound: the primary, for raw and model reads alike.
        let before = db.read_counts();
        let standby = on_standby(&scope).await;
        assert_eq!(Item::get(&scope, item.id).await.unwrap().n, 1);
        let after = db.read_counts();
        let late = written.elapsed();
        assert!(
            !standby,
            "{policy:?}: within the bound ({late:?} after the write)"
        );
        assert_eq!(
            after.primary,
            before.primary + 2,
            "{policy:?}: {after:?}, {late:?}"
        );
        assert_eq!(after.replica, before.replica, "{policy:?}");
        // Another scope did not write: its reads go to the standby.
        assert!(on_standby(&db.scope().replica(true)).await, "{policy:?}");

        // Past the bound: the standby again.
        tokio::time::sleep(bound.saturating_sub(written.elapsed()) + Duration::from_millis(100))
            .await;
        assert!(on_standby(&scope).await, "{policy:?}: after the bound");
        let before = db.read_counts();
        assert_eq!(Item::get(&scope, item.id).await.unwrap().n, 1);
        assert_eq!(db.read_counts().replica, before.replica + 1, "{policy:?}");
        // A transaction's commit starts the bound again.
        let mut tx = scope.begin().await.unwrap();
        item.n = 2;
        item.save(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        assert!(!on_standby(&scope).await, "{policy:?}: after a commit");
    }
}
