//! `Query::stream` holds one chunk, not the result: streaming 1,000,000 small rows from
//! SQLite grows the process's resident memory by less than 50 MB (the rows themselves are
//! ~40 MB as structs). The only test of its binary, so no other test's memory is counted;
//! the RSS is sampled from `/proc/self/status` every 10,000 rows.

mod common;

use chakra::prelude::*;
use chakra::Dialect;
use futures_util::StreamExt;

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "mem_rows")]
pub struct MemRow {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub grp: i32,
    pub label: String,
}

const ROWS: i64 = 1_000_000;

/// The resident set size now, in bytes.
fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_a_million_rows_keeps_memory_flat() {
    let db = common::TestDb::new(Dialect::Sqlite).await;
    let pool = db.pool().await;
    chakra::schema::create_tables(&pool, &[MemRow::meta()], false)
        .await
        .unwrap();
    // The rows are made by SQLite itself; the labels are 12 characters.
    pool.batch_execute(&format!(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {ROWS}) \
         INSERT INTO mem_rows (grp, label) SELECT n % 7, printf('label%07d', n) FROM g"
    ))
    .await
    .unwrap();

    // The baseline is taken before the first row is read, so a stream that read the whole
    // result up front would be counted.
    let base = rss();
    let mut s = std::pin::pin!(MemRow::query().stream(&pool, 2_000));
    let mut n: i64 = 0;
    let mut sum: i64 = 0;
    let mut peak = 0;
    while let Some(row) = s.next().await {
        let row = row.unwrap();
        n += 1;
        sum += row.id;
        assert_eq!(row.label, format!("label{:07}", row.id), "row {n}");
        if n % 10_000 == 0 {
            peak = peak.max(rss());
        }
    }
    // Every row came, once (an independent count: the sum of 1..=ROWS).
    assert_eq!(n, ROWS);
    assert_eq!(sum, ROWS * (ROWS + 1) / 2);
    let grew = peak.saturating_sub(base);
    assert!(
        grew < 50 * 1024 * 1024,
        "streaming {ROWS} rows grew RSS by {} MB (from {} MB)",
        grew / (1024 * 1024),
        base / (1024 * 1024)
    );
}
