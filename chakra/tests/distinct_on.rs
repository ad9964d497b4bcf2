//! `Query::distinct_on` (PostgreSQL's `DISTINCT ON`): one row per group, the first in the
//! query's order; refused before any SQL on SQLite and when the ordering does not start with
//! the distinct columns.

mod common;

use chakra::prelude::*;
use common::BOTH;

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "readings")]
pub struct Reading {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub sensor: String,
    pub value: i32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_on_keeps_the_first_row_of_each_group() {
    for d in BOTH {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Reading::meta()], false)
            .await
            .unwrap();
        let mut rows: Vec<Reading> = [("a", 3), ("b", 1), ("a", 9), ("b", 7), ("c", 5)]
            .iter()
            .map(|(s, v)| Reading {
                id: 0,
                sensor: (*s).into(),
                value: *v,
            })
            .collect();
        Reading::insert_many(&pool, &mut rows).await.unwrap();
        let latest = Reading::query()
            .distinct_on(Reading::sensor())
            .order_by(Reading::sensor().asc())
            .order_by(Reading::value().desc());
        let bad_order = Reading::query()
            .distinct_on(Reading::sensor())
            .order_by(Reading::value().desc());
        if d == chakra::Dialect::Sqlite {
            let e = latest.all(&pool).await.unwrap_err();
            assert!(matches!(e, Error::InvalidQuery(_)), "{e:?}");
            assert!(e.to_string().contains("PostgreSQL"), "{e}");
            continue;
        }
        let got: Vec<(String, i32)> = latest
            .clone()
            .all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.sensor, r.value))
            .collect();
        assert_eq!(got, vec![("a".into(), 9), ("b".into(), 7), ("c".into(), 5)]);
        assert_eq!(latest.count(&pool).await.unwrap(), 3);
        let e = bad_order.all(&pool).await.unwrap_err();
        assert!(e.to_string().contains("must start with"), "{e}");
    }
}
