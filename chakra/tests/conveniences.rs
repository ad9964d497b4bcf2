//! The Rust twins of Django's everyday helpers on SQLite and PostgreSQL: `Query::none`,
//! `in_bulk`, `latest` / `earliest`, `Model::refresh` and `Model::save_fields`. Expected
//! values come from the rows the test writes, checked with hand-written SQL where it matters.

mod common;

use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "conv_items")]
pub struct ConvItem {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub name: String,
    pub rank: i32,
    pub note: String,
}

fn items() -> Vec<ConvItem> {
    [("a", 3), ("b", 1), ("c", 5), ("d", 5), ("e", 2)]
        .into_iter()
        .map(|(n, r)| ConvItem {
            id: 0,
            name: n.into(),
            rank: r,
            note: format!("{n}-note"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_in_bulk_latest_earliest() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[ConvItem::meta()], false)
            .await
            .unwrap();
        let mut rows = items();
        ConvItem::insert_many(&pool, &mut rows).await.unwrap();

        let empty = ConvItem::query().filter(ConvItem::rank().gt(0)).none();
        assert!(empty.clone().all(&pool).await.unwrap().is_empty(), "{d:?}");
        assert_eq!(empty.clone().count(&pool).await.unwrap(), 0);
        assert!(!empty.clone().exists(&pool).await.unwrap());
        assert_eq!(empty.delete(&pool).await.unwrap(), 0);
        assert_eq!(ConvItem::query().count(&pool).await.unwrap(), 5);

        let keys = [rows[0].id, rows[3].id, 1_000_000];
        let got = ConvItem::query().in_bulk(&pool, keys).await.unwrap();
        let mut ids: Vec<i64> = got.keys().copied().collect();
        ids.sort();
        assert_eq!(ids, vec![rows[0].id, rows[3].id], "{d:?}");
        assert_eq!(got[&rows[3].id].name, "d");
        let none = ConvItem::query()
            .in_bulk(&pool, Vec::<i64>::new())
            .await
            .unwrap();
        assert!(none.is_empty());
        let filtered = ConvItem::query()
            .filter(ConvItem::rank().gt(2))
            .in_bulk(&pool, rows.iter().map(|r| r.id))
            .await
            .unwrap();
        assert_eq!(filtered.len(), 3, "a, c and d have rank > 2");

        // Ties on rank 5 (c, d): the first in the database's order among them; only the
        // rank is asserted, as Django's latest() promises no more.
        let top = ConvItem::query()
            .latest(&pool, ConvItem::rank())
            .await
            .unwrap();
        assert_eq!(top.rank, 5);
        let low = ConvItem::query()
            .order_by(ConvItem::name().desc())
            .earliest(&pool, ConvItem::rank())
            .await
            .unwrap();
        assert_eq!(low.name, "b");
        let missing = ConvItem::query()
            .filter(ConvItem::rank().gt(100))
            .latest(&pool, ConvItem::rank())
            .await;
        assert!(
            matches!(missing, Err(Error::NotFound { ref model, .. }) if model == "ConvItem"),
            "{missing:?}"
        );
        let sliced = ConvItem::query()
            .limit(2)
            .latest(&pool, ConvItem::rank())
            .await;
        assert!(matches!(sliced, Err(Error::InvalidQuery(_))), "{sliced:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_and_save_fields() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[ConvItem::meta()], false)
            .await
            .unwrap();
        let mut rows = items();
        ConvItem::insert_many(&pool, &mut rows).await.unwrap();
        let id = rows[1].id;

        // Another writer changes the row; refresh reads it back.
        chakra::raw_execute("UPDATE conv_items SET rank = $1, note = $2 WHERE id = $3")
            .bind(77i32)
            .bind("elsewhere")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        let mut b = rows[1].clone();
        b.name = "local".into();
        b.refresh(&pool).await.unwrap();
        assert_eq!(
            (b.name.as_str(), b.rank, b.note.as_str()),
            ("b", 77, "elsewhere"),
            "{d:?}"
        );

        // save_fields writes only the named fields: the stale note is not written back.
        let mut stale = rows[1].clone();
        stale.rank = 8;
        stale.note = "stale".into();
        stale.save_fields(&pool, ConvItem::rank()).await.unwrap();
        let fresh = ConvItem::get(&pool, id).await.unwrap();
        assert_eq!((fresh.rank, fresh.note.as_str()), (8, "elsewhere"));
        stale.name = "renamed".into();
        stale
            .save_fields(&pool, (ConvItem::name(), ConvItem::note()))
            .await
            .unwrap();
        let fresh = ConvItem::get(&pool, id).await.unwrap();
        assert_eq!(
            (fresh.name.as_str(), fresh.rank, fresh.note.as_str()),
            ("renamed", 8, "stale")
        );

        ConvItem::query()
            .filter(ConvItem::id().eq(id))
            .delete(&pool)
            .await
            .unwrap();
        assert!(matches!(
            b.refresh(&pool).await,
            Err(Error::NotFound { .. })
        ));
        let gone = stale.save_fields(&pool, ConvItem::rank()).await;
        assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
        assert_eq!(
            ConvItem::query().count(&pool).await.unwrap(),
            4,
            "nothing inserted"
        );
    }
}
