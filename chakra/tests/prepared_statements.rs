//! Repeated statements reuse their prepared form on PostgreSQL: single-row
//! `INSERT … RETURNING`, get-by-pk, and IN lists of any length each prepare once per
//! connection.

mod common;

use chakra::dsl::*;
use chakra::{Pool, PoolOptions};
use common::fixtures::*;
use common::TestDb;

#[tokio::test]
async fn repeated_statements_are_prepared_once_per_connection() {
    let db = TestDb::postgres().await;
    let pool = Pool::connect_with(
        &db.url,
        PoolOptions {
            max_size: 1,
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    seed(&pool).await;
    let m = users_meta();
    let q = ModelQuery::new(m.clone());
    for i in 0..20 {
        let ins = insert_rows(
            &m,
            vec![vec![
                ("username".to_owned(), Value::Text(format!("u{i}"))),
                ("age".to_owned(), Value::I32(i)),
            ]],
        )
        .unwrap();
        let row = pool.fetch(&ins.into()).await.unwrap();
        let id = row[0][0].clone();
        let got = pool
            .fetch(&q.clone().filter(pk_filter(&m, id).unwrap()).select().into())
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        let ids: Vec<Value> = (0..=i as i64).map(Value::I64).collect();
        pool.fetch(&q.clone().filter(uid().is_in(ids)).select().into())
            .await
            .unwrap();
    }
    for n in [2, 3] {
        let rows = (0..n)
            .map(|i| {
                vec![
                    ("username".to_owned(), Value::Text(format!("bulk{n}_{i}"))),
                    ("age".to_owned(), Value::Null(ValueType::I32)),
                ]
            })
            .collect();
        let got = pool
            .fetch(&insert_rows(&m, rows).unwrap().into())
            .await
            .unwrap();
        assert_eq!(got.len(), n);
    }
    // Ask the same (only) connection which statements it holds prepared.
    let mut conn = pool.acquire().await.unwrap();
    let probe = chakra::compile(
        &Select::from(Source::table("pg_prepared_statements"))
            .column(
                Expr::col("pg_prepared_statements", "statement", ValueType::Text),
                ValueType::Text,
            )
            .into(),
        chakra::Dialect::Postgres,
    )
    .unwrap();
    let prepared = conn.fetch(&probe).await.unwrap();
    let texts: Vec<&str> = prepared.iter().map(|r| r[0].as_str().unwrap()).collect();
    let count = |needle: &str| texts.iter().filter(|t| t.contains(needle)).count();
    assert_eq!(count("VALUES ($1, $2, $3) RETURNING"), 1, "{texts:#?}");
    // Bulk inserts of 4 rows (the fixture) and of 2 and 3 rows share one statement.
    assert_eq!(count("unnest("), 2, "{texts:#?}");
    assert_eq!(count("= ANY("), 1, "{texts:#?}");
    assert_eq!(count("WHERE \"users\".\"id\" = $1"), 1, "{texts:#?}");
}

/// On SQLite, each connection keeps one prepared statement per SQL text
/// (`dialect/sqlite/run.rs`): a get by primary key (with its `LIMIT`), run many times with
/// different keys, is prepared once.
#[tokio::test]
async fn sqlite_statements_are_prepared_once_per_connection() {
    let db = TestDb::sqlite().await;
    let pool = Pool::connect_with(
        &db.url,
        PoolOptions {
            max_size: 1,
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    seed(&pool).await;
    let m = users_meta();
    let q = ModelQuery::new(m.clone());
    let get = |id: i64| {
        let mut s = q
            .clone()
            .filter(pk_filter(&m, Value::I64(id)).unwrap())
            .select();
        s.limit = Some(21);
        chakra::compile(&s.into(), chakra::Dialect::Sqlite).unwrap()
    };
    let mut conn = pool.acquire().await.unwrap();
    let prepared = |conn: &chakra::exec::Conn| match conn {
        chakra::exec::Conn::Sqlite(c) => c.prepared_statements(),
        _ => panic!("a SQLite connection"),
    };
    let (before, _) = prepared(&conn);
    for id in 1..=20 {
        let rows = conn.fetch(&get(id % 3 + 1)).await.unwrap();
        assert_eq!(rows.len(), 1);
    }
    let (after, texts) = prepared(&conn);
    assert_eq!(after - before, 1, "one prepare for twenty gets: {texts:#?}");
    let gets: Vec<&String> = texts.iter().filter(|t| t.starts_with("SELECT")).collect();
    assert_eq!(gets.len(), 1, "{texts:#?}");
    assert!(gets[0].contains("LIMIT CAST(? AS INTEGER)"), "{texts:#?}");
}
