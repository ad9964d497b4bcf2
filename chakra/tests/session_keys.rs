//! Parents and children added in one unit of work (issue 23): `Session::add` returns an
//! `Added<M>` handle; `add_child(&mut line, Line::order_id(), &order)` writes the child with
//! its parent's generated key (parents first, the foreign keys enforced by the database), and
//! `Added::key()` says a key once committed while the model is still lent to the session.
//! Checked with hand-written SQL on SQLite and PostgreSQL.

mod common;
mod fixtures;

use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, Model)]
#[chakra(table = "orders")]
pub struct Order {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40, unique)]
    pub customer: String,
    #[chakra(relation = OneToMany, foreign_key = "order_id")]
    pub lines: Related<Vec<Line>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "order_lines")]
pub struct Line {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub order_id: i64,
    pub qty: i32,
    #[chakra(relation = ForeignKey, foreign_key = "order_id")]
    pub order: Related<Order>,
}

fn order(c: &str) -> Order {
    Order {
        customer: c.into(),
        ..Default::default()
    }
}

fn line(qty: i32) -> Line {
    Line {
        qty,
        ..Default::default()
    }
}

/// (customer, sum of qty) per order, joined by hand.
async fn per_customer(pool: &Pool) -> Vec<(String, i64)> {
    #[derive(Debug, FromRow)]
    struct Row {
        customer: String,
        total: i64,
    }
    // MySQL's integer cast is SIGNED.
    let int = if pool.dialect() == chakra::Dialect::Mysql {
        "SIGNED"
    } else {
        "BIGINT"
    };
    chakra::raw_as::<Row>(format!(
        "SELECT o.customer AS customer, CAST(sum(l.qty) AS {int}) AS total \
         FROM order_lines l JOIN orders o ON o.id = l.order_id GROUP BY o.customer ORDER BY o.customer"
    ))
    .all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.customer, r.total))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_take_the_keys_of_parents_added_before_them() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        fixtures::create_tables(&pool, &[Order::meta(), Line::meta()]).await;
        // A row first, so generated keys differ from positions.
        order("zed").save(&pool).await.unwrap();

        let (mut ann, mut bob) = (order("ann"), order("bob"));
        let (mut l1, mut l2, mut l3, mut l4) = (line(1), line(2), line(3), line(4));
        let session = Session::new(&pool);
        let a = session.add(&mut ann);
        session.add_child(&mut l1, Line::order_id(), &a).unwrap();
        let b = session.add(&mut bob);
        session.add_child(&mut l2, Line::order_id(), &b).unwrap();
        session.add_child(&mut l3, Line::order_id(), &a).unwrap();
        session.add_child(&mut l4, Line::order_id(), &b).unwrap();
        // Keys are readable through the handles once committed, with the models still lent.
        session.transaction(|_| async { Ok(()) }).await.unwrap();
        let (ka, kb) = (a.key().unwrap(), b.key().unwrap());
        assert!(ka > 1 && kb > ka, "{d:?}: {ka} {kb}");
        // A handle of work already written is refused as a parent, by name.
        let mut late = line(9);
        let e = session
            .add_child(&mut late, Line::order_id(), &a)
            .unwrap_err();
        assert!(e.to_string().contains("already written"), "{e}");
        drop(session);
        assert_eq!((ann.id, bob.id), (ka, kb));
        assert_eq!([l1.order_id, l3.order_id], [ka, ka], "{d:?}");
        assert_eq!([l2.order_id, l4.order_id], [kb, kb], "{d:?}");
        assert_eq!(
            per_customer(&pool).await,
            [("ann".to_owned(), 4), ("bob".to_owned(), 6)],
            "{d:?}"
        );

        // A failed commit writes nothing and gives the children their keys back as added;
        // the same models commit once the problem is gone.
        let (mut dup, mut ok) = (order("ann"), order("cid"));
        let (mut m1, mut m2) = (line(5), line(6));
        m2.order_id = 0;
        {
            let session = Session::new(&pool);
            let c = session.add(&mut ok);
            session.add_child(&mut m1, Line::order_id(), &c).unwrap();
            let x = session.add(&mut dup); // customer "ann" is taken: unique violation
            session.add_child(&mut m2, Line::order_id(), &x).unwrap();
            let e = session.commit().await.unwrap_err();
            assert!(matches!(e, chakra::Error::UniqueViolation(_)), "{d:?}: {e}");
        }
        assert_eq!((m1.order_id, m2.order_id, ok.id), (0, 0, 0), "{d:?}");
        assert_eq!(per_customer(&pool).await.len(), 2, "{d:?}");
        dup.customer = "dee".into();
        let session = Session::new(&pool);
        let c = session.add(&mut ok);
        session.add_child(&mut m1, Line::order_id(), &c).unwrap();
        let x = session.add(&mut dup);
        session.add_child(&mut m2, Line::order_id(), &x).unwrap();
        session.commit().await.unwrap();
        assert_eq!((m1.order_id, m2.order_id), (ok.id, dup.id), "{d:?}");
        assert_eq!(
            per_customer(&pool).await,
            [
                ("ann".to_owned(), 4),
                ("bob".to_owned(), 6),
                ("cid".to_owned(), 5),
                ("dee".to_owned(), 6)
            ],
            "{d:?}"
        );
    }
}
