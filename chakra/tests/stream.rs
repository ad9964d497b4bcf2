//! `Query::stream` on SQLite and PostgreSQL: rows come in chunks, one statement per chunk
//! (keyset by primary key, or LIMIT/OFFSET under another ordering), in the query's order,
//! with its filters, limit and offset.

mod common;

use chakra::prelude::*;
use common::ALL3;
use futures_util::{StreamExt, TryStreamExt};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "stream_items")]
pub struct StreamItem {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub grp: i32,
    pub label: String,
}

/// Statements on the test's table seen by the process-wide statement listener.
fn listen() -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    chakra::exec::log::set_listener(
        Some(Arc::new(move |r: chakra::exec::log::StatementRecord| {
            if r.sql.contains("stream_items") && r.sql.starts_with("SELECT") {
                s.lock().unwrap().push(r.sql);
            }
        })),
        false,
    );
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_reads_in_chunks_in_order() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[StreamItem::meta()], false)
            .await
            .unwrap();
        let mut rows: Vec<StreamItem> = (0..25)
            .map(|i| StreamItem {
                id: 0,
                grp: i % 3,
                label: format!("l{:02}", 24 - i),
            })
            .collect();
        StreamItem::insert_many(&pool, &mut rows).await.unwrap();
        let seen = listen();

        // Keyset: 25 rows in chunks of 10 is three statements, in key order.
        let got: Vec<StreamItem> = StreamItem::query()
            .stream(&pool, 10)
            .try_collect()
            .await
            .unwrap();
        let ids: Vec<i64> = got.iter().map(|r| r.id).collect();
        assert_eq!(ids, (1..=25).collect::<Vec<_>>(), "{d:?}");
        {
            let s = seen.lock().unwrap();
            assert_eq!(s.len(), 3, "{d:?}: {s:#?}");
            assert!(s[1].contains("\"id\" >"), "{d:?}: {}", s[1]);
            assert!(!s[1].contains("OFFSET"), "{d:?}: {}", s[1]);
        }
        seen.lock().unwrap().clear();

        // Filters, descending key order, a limit: keyset too.
        let got: Vec<i64> = StreamItem::query()
            .filter(StreamItem::grp().eq(0))
            .order_by(StreamItem::id().desc())
            .limit(5)
            .stream(&pool, 2)
            .map_ok(|r| r.id)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got, vec![25, 22, 19, 16, 13], "{d:?}");
        assert_eq!(seen.lock().unwrap().len(), 3, "{d:?}");
        seen.lock().unwrap().clear();

        // Another ordering: LIMIT/OFFSET pages, the key as tie-breaker, offset honoured.
        let got: Vec<String> = StreamItem::query()
            .order_by(StreamItem::label().asc())
            .offset(1)
            .stream(&pool, 10)
            .map_ok(|r| r.label)
            .try_collect()
            .await
            .unwrap();
        let want: Vec<String> = (1..25).map(|i| format!("l{i:02}")).collect();
        assert_eq!(got, want, "{d:?}");
        {
            let s = seen.lock().unwrap();
            assert_eq!(s.len(), 3, "{d:?}: {s:#?}");
            assert!(s[2].contains("OFFSET"), "{d:?}: {}", s[2]);
        }
        chakra::exec::log::set_listener(None, false);

        // A chunk size of 0 is refused before any SQL.
        let mut s = Box::pin(StreamItem::query().stream(&pool, 0));
        let first = s.next().await.unwrap();
        assert!(matches!(first, Err(Error::InvalidQuery(_))), "{first:?}");
        assert!(s.next().await.is_none());
    }
}
