//! Read-your-writes records the primary's WAL position after each commit at no round trip of
//! its own: the position read is pipelined behind the COMMIT (and behind a statement that
//! commits on its own). Round trips are counted by a TCP proxy of the test's own between
//! the pool and PostgreSQL (a "flight": the client sends after the server last answered),
//! the order of the statements by the statement log; a COMMIT that fails records nothing
//! and its error is the one an unmarked pool gives.

mod common;

use chakra::databases::{DatabaseConfig, Databases};
use chakra::exec::log::{set_listener, StatementRecord};
use chakra::prelude::*;
use common::TestDb;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Model)]
#[chakra(table = "wal_items")]
pub struct Item {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub n: i64,
}

/// A TCP proxy counting the client's flights: a burst of client bytes sent after the server
/// last answered (or first) is one round trip begun. Threads of its own, outside the test's
/// runtime.
struct Proxy {
    port: u16,
    flights: Arc<AtomicU64>,
}

impl Proxy {
    fn start(upstream: (String, u16)) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let flights = Arc::new(AtomicU64::new(0));
        let total = flights.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect((upstream.0.as_str(), upstream.1)).unwrap();
                client.set_nodelay(true).unwrap();
                server.set_nodelay(true).unwrap();
                // True once the server has answered since the client last sent.
                let answered = Arc::new(Mutex::new(true));
                let (mut c_in, mut c_out) = (client.try_clone().unwrap(), client);
                let (mut s_in, mut s_out) = (server.try_clone().unwrap(), server);
                let (a, total) = (answered.clone(), total.clone());
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match c_in.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        {
                            let mut answered = a.lock().unwrap();
                            if *answered {
                                total.fetch_add(1, Ordering::SeqCst);
                                *answered = false;
                            }
                        }
                        if s_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_out.shutdown(std::net::Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match s_in.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        // Marked answered before the client can see the answer.
                        *answered.lock().unwrap() = true;
                        if c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c_out.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Proxy { port, flights }
    }

    fn flights(&self) -> u64 {
        self.flights.load(Ordering::SeqCst)
    }
}

/// The tests of this file one at a time: the statement log is the process's.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scalar_text(url: &str, sql: &str) -> String {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let h = tokio::spawn(conn);
    let v: String = c.query_one(sql, &[]).await.unwrap().get(0);
    drop(c);
    let _ = h.await;
    v
}

fn lsn(text: &str) -> chakra::databases::wal::Lsn {
    chakra::databases::wal::Lsn::parse(text).unwrap()
}

/// The database's URL through the proxy, one connection at most (so one connection's
/// flights are counted), and the proxy.
fn proxied(db: &TestDb) -> (String, Proxy) {
    let u = url::Url::parse(&db.url).unwrap();
    let proxy = Proxy::start((u.host_str().unwrap().to_owned(), u.port().unwrap_or(5432)));
    let mut p = u.clone();
    p.set_port(Some(proxy.port)).unwrap();
    p.set_query(Some("max_size=1"));
    (p.to_string(), proxy)
}

// A current-thread runtime: the statements a poll sends leave in one write, so the proxy
// sees a pipeline as one flight.
#[tokio::test]
async fn the_wal_position_rides_with_the_commit() {
    let _serial = SERIAL.lock().await;
    let t = TestDb::postgres().await;
    let pool = t.pool().await;
    pool.batch_execute("CREATE TABLE wal_items (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL)")
        .await
        .unwrap();
    let (url, proxy) = proxied(&t);
    // The server as its own replica (direct, not through the proxy).
    let dbs = Databases::builder()
        .database_with("default", DatabaseConfig::new(&url).replica(&t.url))
        .connect()
        .await
        .unwrap();
    let db = dbs.default_db().unwrap();
    let scope = db.scope().replica(true);

    // Warm-up: the connection, its prepared INSERT, UPDATE and position read.
    let mut item = Item { id: 0, n: 0 };
    item.save(&scope).await.unwrap();
    item.n = 1;
    item.save(&scope).await.unwrap();
    let mut tx = scope.begin().await.unwrap();
    item.n = 2;
    item.save(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(scope.mark().written().lsn.is_some());

    // A transaction's COMMIT and the position read: one flight.
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = log.clone();
    set_listener(
        Some(Arc::new(move |r: StatementRecord| {
            sink.lock().unwrap().push(r.sql)
        })),
        false,
    );
    let mut tx = scope.begin().await.unwrap();
    item.n = 3;
    item.save(&mut tx).await.unwrap();
    let before = lsn(&scalar_text(&t.url, "SELECT pg_current_wal_insert_lsn()::text").await);
    let flights = proxy.flights();
    tx.commit().await.unwrap();
    assert_eq!(
        proxy.flights() - flights,
        1,
        "COMMIT and the WAL position read should share one round trip"
    );
    let after = lsn(&scalar_text(&t.url, "SELECT pg_current_wal_insert_lsn()::text").await);
    let recorded = scope.mark().written().lsn.unwrap();
    assert!(
        before < recorded && recorded <= after,
        "{before} < {recorded} <= {after}: the position is read after the commit record"
    );

    // A write outside a transaction (its own implicit commit) and the read: one flight.
    item.n = 4;
    let flights = proxy.flights();
    item.save(&scope).await.unwrap();
    assert_eq!(proxy.flights() - flights, 1, "a save outside a transaction");
    set_listener(None, false);
    let log = log.lock().unwrap().clone();
    let commit = log
        .iter()
        .position(|s| s == "COMMIT")
        .expect("COMMIT logged");
    assert!(
        log[commit + 1].contains("pg_current_wal_insert_lsn"),
        "the position read follows COMMIT: {log:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|s| s.contains("pg_current_wal_insert_lsn"))
            .count(),
        2,
        "{log:?}"
    );

    // The check above can fail: without read-your-writes the same commit is one flight and
    // the position read is gone, so the pipelined read costs nothing.
    let plain = chakra::Pool::connect(&url).await.unwrap();
    let mut tx = plain.begin().await.unwrap();
    item.n = 5;
    item.save(&mut tx).await.unwrap();
    let flights = proxy.flights();
    tx.commit().await.unwrap();
    assert_eq!(proxy.flights() - flights, 1);
    // ... and reads see the write on the replica.
    assert_eq!(Item::get(&scope, item.id).await.unwrap().n, 5);
}

/// A COMMIT refused by the server (a deferred unique constraint): the same error as an
/// unmarked pool's, nothing recorded, the pool goes on.
#[tokio::test]
async fn a_failed_commit_records_nothing_and_keeps_its_error() {
    let _serial = SERIAL.lock().await;
    let t = TestDb::postgres().await;
    let pool = t.pool().await;
    pool.batch_execute(
        "CREATE TABLE wal_items (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL, \
         CONSTRAINT wal_items_n_key UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)",
    )
    .await
    .unwrap();
    let dbs = Databases::builder()
        .database_with("default", DatabaseConfig::new(&t.url).replica(&t.url))
        .connect()
        .await
        .unwrap();
    let db = dbs.default_db().unwrap();
    let scope = db.scope().replica(true);

    async fn failing_commit(p: &chakra::Pool) -> Error {
        let mut tx = p.begin().await.unwrap();
        Item { id: 0, n: 9 }.save(&mut tx).await.unwrap();
        Item { id: 0, n: 9 }.save(&mut tx).await.unwrap();
        tx.commit().await.expect_err("a duplicate at COMMIT")
    }
    let marked = failing_commit(scope.pool()).await;
    let unmarked = failing_commit(&pool).await;
    assert_eq!(marked.to_string(), unmarked.to_string());
    assert!(marked.to_string().contains("wal_items_n_key"), "{marked}");
    let w = scope.mark().written();
    assert!(
        w.lsn.is_none() && w.at.is_none() && !w.unknown,
        "a failed commit recorded a write: {w:?}"
    );
    // Nothing was committed, and the scope works on.
    assert_eq!(Item::query().count(&scope).await.unwrap(), 0);
    Item { id: 0, n: 1 }.save(&scope).await.unwrap();
    assert!(scope.mark().written().lsn.is_some());
}
