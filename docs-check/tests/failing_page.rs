//! A page whose example fails (an error returned, or a panic) leaves no database behind on
//! PostgreSQL and MySQL/MariaDB: `run_page` drops it before reporting the failure. The
//! database is seen to exist while the page runs and to be gone afterwards, both read with
//! hand-written SQL on connections of the test's own.

use chakra_docs_check::{mysql_admin_url, pg_admin_url, run_page, BoxError};
use mysql_async::prelude::Queryable;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

/// The database name of a page's URL (its path, without query parameters).
fn db_name(url: &str) -> String {
    let path = url.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().to_owned()
}

/// Whether a database `name` exists on the `backend` ("postgres" or "mysql") test server.
async fn exists(backend: &str, name: &str) -> bool {
    if backend == "postgres" {
        let (client, conn) = tokio_postgres::connect(&pg_admin_url(), tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL");
        let h = tokio::spawn(conn);
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        drop(client);
        let _ = h.await;
        n == 1
    } else {
        let mut c = mysql_async::Conn::from_url(mysql_admin_url().as_str())
            .await
            .expect("MySQL/MariaDB");
        let n: Option<i64> = c
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (name,),
            )
            .await
            .unwrap();
        let _ = c.disconnect().await;
        n == Some(1)
    }
}

/// One run of the page's examples on `url`: on `fail_on`'s database, records the URL,
/// checks the database exists, and fails (a panic when `panics`, else an error).
async fn step(
    url: String,
    fail_on: &'static str,
    panics: bool,
    seen: Arc<Mutex<Option<String>>>,
) -> Result<(), BoxError> {
    if !url.starts_with(&format!("{fail_on}://")) {
        return Ok(());
    }
    *seen.lock().unwrap() = Some(url.clone());
    assert!(
        exists(fail_on, &db_name(&url)).await,
        "{url} exists while the page runs"
    );
    if panics {
        panic!("an example panicked on purpose");
    }
    Err("an example failed on purpose".into())
}

#[test]
fn a_failing_page_leaves_no_database() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for fail_on in ["postgres", "mysql"] {
        for panics in [false, true] {
            let seen = Arc::new(Mutex::new(None));
            let (a, b) = (seen.clone(), seen.clone());
            let out = std::panic::catch_unwind(AssertUnwindSafe(|| {
                run_page(
                    "failing.md",
                    move |_, url| step(url, fail_on, panics, a.clone()),
                    move |_, url| step(url, fail_on, panics, b.clone()),
                )
            }));
            let panic = out.expect_err("the failing page is reported");
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let want = if panics {
                "an example panicked on purpose".to_owned()
            } else {
                format!("docs/failing.md on {fail_on}: an example failed")
            };
            assert!(
                message.contains(&want),
                "{fail_on}, panics: {panics}: {message}"
            );
            let url = seen
                .lock()
                .unwrap()
                .take()
                .expect("the page ran on its database");
            assert!(
                !rt.block_on(exists(fail_on, &db_name(&url))),
                "{fail_on}, panics: {panics}: {url} left behind"
            );
        }
    }
}
