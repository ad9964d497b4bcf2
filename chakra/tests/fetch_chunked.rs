//! `Pool::fetch_compiled_chunked`: one statement whose rows are handed over in chunks as
//! they arrive on PostgreSQL (every row in the return value on SQLite and behind a
//! transaction pooler); the chunks and the rest are the rows `fetch_compiled` returns, in
//! order; an error after chunks were handed over is returned, and the pool goes on.

mod common;

use chakra::prelude::*;
use chakra::Dialect;
use common::ALL3;

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "chunked_items")]
pub struct ChunkedItem {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub label: String,
}

/// A read of `sql` (an `id` column, then one of type `second`).
fn raw(d: Dialect, sql: &str, second: ValueType) -> chakra::CompiledQuery {
    chakra::CompiledQuery {
        dialect: d,
        parts: vec![sql.to_owned()].into(),
        binds: vec![],
        cacheable: true,
        output: vec![ValueType::I64, second].into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_come_in_chunks_then_the_rest() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[ChunkedItem::meta()], false)
            .await
            .unwrap();
        let mut rows: Vec<ChunkedItem> = (0..2500)
            .map(|i| ChunkedItem {
                id: 0,
                label: format!("l{i}"),
            })
            .collect();
        ChunkedItem::insert_many(&pool, &mut rows).await.unwrap();
        let q = raw(
            d,
            "SELECT id, label FROM chunked_items ORDER BY id",
            ValueType::Text,
        );
        let all = pool.fetch_compiled(&q).await.unwrap();
        assert_eq!(all.len(), 2500);

        let mut chunks: Vec<Vec<chakra::exec::Row>> = Vec::new();
        let rest = pool
            .fetch_compiled_chunked(&q, 1000, &mut |c| chunks.push(c))
            .await
            .unwrap();
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        match d {
            Dialect::Postgres | Dialect::Mysql => {
                assert_eq!(sizes, [1000, 1000], "{d:?}");
                assert_eq!(rest.len(), 500, "{d:?}");
            }
            Dialect::Sqlite => {
                assert!(sizes.is_empty(), "{d:?}: {sizes:?}");
                assert_eq!(rest.len(), 2500, "{d:?}");
            }
        }
        let joined: Vec<chakra::exec::Row> = chunks.into_iter().flatten().chain(rest).collect();
        assert_eq!(joined, all, "{d:?}: the same rows, in order");

        // A statement failing after rows were handed over (division by zero at key 2,000 on
        // PostgreSQL; SQLite's division by zero is NULL): its error, and the pool goes on.
        if d == Dialect::Postgres {
            let bad = raw(
                d,
                "SELECT id, 1 / (id - 2000) FROM chunked_items",
                ValueType::I64,
            );
            let mut handed = 0;
            let err = pool
                .fetch_compiled_chunked(&bad, 500, &mut |c| handed += c.len())
                .await
                .unwrap_err();
            assert!(handed >= 500, "{handed} rows handed over before the error");
            assert!(err.to_string().contains("division by zero"), "{err}");
        }
        assert_eq!(ChunkedItem::query().count(&pool).await.unwrap(), 2500);
    }
}
