//! `rust_decimal::Decimal` fields (cargo feature `rust_decimal`, on in the tests): written and
//! read exactly, filtered, summed, checked by the type contract before any SQL, on SQLite and
//! PostgreSQL; a stored value too wide for `rust_decimal` is an error naming the field.

mod common;

use chakra::prelude::*;
use common::ALL3;
use rust_decimal::Decimal;
use std::str::FromStr;

#[derive(Debug, Clone, Model)]
#[chakra(table = "ledger")]
pub struct Entry {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(precision = 12, scale = 2)]
    pub amount: Decimal,
    pub note: Option<Decimal>,
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_decimal_fields_round_trip_and_follow_the_contract() {
    for backend in ALL3 {
        let db = common::TestDb::new(backend).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Entry::meta()], false)
            .await
            .unwrap();
        let mut rows = vec![
            Entry {
                id: 0,
                amount: d("1234567890.12"),
                note: Some(d("0.000000000000000000000000001")),
            },
            Entry {
                id: 0,
                amount: d("-0.01"),
                note: None,
            },
        ];
        Entry::insert_many(&pool, &mut rows).await.unwrap();
        let back = Entry::query()
            .order_by(Entry::id())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(back[0].amount, d("1234567890.12"), "{backend:?}");
        assert_eq!(
            back[0].note,
            Some(d("0.000000000000000000000000001")),
            "{backend:?}"
        );
        assert_eq!((back[1].amount, back[1].note), (d("-0.01"), None));
        let hits = Entry::query()
            .filter(Entry::amount().eq(d("-0.01")))
            .count(&pool)
            .await
            .unwrap();
        assert_eq!(hits, 1, "{backend:?}");
        let total = Entry::query()
            .aggregate(chakra::dsl::typed::sum(Entry::amount()), &pool)
            .await
            .unwrap();
        assert_eq!(total, Some(d("1234567890.11")), "{backend:?}");

        // The contract: more fraction digits than the scale are refused, not rounded.
        let mut bad = vec![Entry {
            id: 0,
            amount: d("1.005"),
            note: None,
        }];
        let e = Entry::insert_many(&pool, &mut bad).await.unwrap_err();
        assert!(matches!(e, Error::BadValue { .. }), "{backend:?}: {e}");
        assert!(e.to_string().contains("amount"), "{e}");

        // Thirty significant digits do not fit rust_decimal: an error naming the field.
        pool.batch_execute(
            "INSERT INTO ledger (id, amount, note) VALUES (100, 1.00, 123456789012345678901234567890.5)",
        )
        .await
        .unwrap();
        let e = Entry::get(&pool, 100).await.unwrap_err();
        assert!(e.to_string().contains("note"), "{backend:?}: {e}");
    }
}
