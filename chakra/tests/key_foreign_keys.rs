//! A primary-key field that is also a foreign key, from the Rust derive: a composite key
//! `(order_id, line)` whose `order_id` references `orders` (Django 5.2's
//! `CompositePrimaryKey("order", "line")` over a `ForeignKey`), and a one-to-one whose key is
//! the primary key (Django's `OneToOneField(primary_key=True)`). The tables have the foreign
//! keys and no index of their own for a leading key column; the forward relation
//! (`select_related`, `prefetch_related`, `load_related`) and the reverse side work through
//! such a key; per-row writes name the row by its whole key. Checked with hand-written SQL on
//! SQLite, PostgreSQL and MySQL/MariaDB.

mod common;

use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, Model)]
#[chakra(table = "kfk_orders")]
pub struct KOrder {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub label: String,
    #[chakra(relation = OneToMany, foreign_key = "order_id")]
    pub lines: Related<Vec<KLine>>,
    #[chakra(relation = OneToOne, foreign_key = "order_id")]
    pub invoice: Related<Option<KInvoice>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "kfk_lines")]
pub struct KLine {
    #[chakra(primary_key)]
    pub order_id: i64,
    #[chakra(primary_key)]
    pub line: i32,
    pub qty: i32,
    #[chakra(relation = ForeignKey, foreign_key = "order_id", on_delete = Cascade)]
    pub order: Related<KOrder>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "kfk_invoices")]
pub struct KInvoice {
    #[chakra(primary_key)]
    pub order_id: i64,
    #[chakra(max_length = 20)]
    pub number: String,
    #[chakra(relation = OneToOne, foreign_key = "order_id", on_delete = Cascade)]
    pub order: Related<KOrder>,
}

fn metas() -> Vec<&'static std::sync::Arc<chakra::dsl::ModelMeta>> {
    vec![KOrder::meta(), KLine::meta(), KInvoice::meta()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_fields_are_foreign_keys_in_the_schema() {
    let tables = chakra::schema::tables_of(&metas()).unwrap();
    let lines = tables.iter().find(|t| t.table == "kfk_lines").unwrap();
    let order_id = lines.field("order_id").unwrap();
    assert!(order_id.primary_key && !order_id.auto_increment);
    let r = order_id.references.as_ref().expect("a foreign key");
    assert_eq!((r.table.as_str(), r.column.as_str()), ("kfk_orders", "id"));
    assert_eq!(r.on_delete, chakra::dsl::OnDelete::Cascade);
    let invoice = tables.iter().find(|t| t.table == "kfk_invoices").unwrap();
    let key = invoice.field("order_id").unwrap();
    assert!(key.primary_key && !key.auto_increment && key.references.is_some());
    for d in ALL3 {
        let sql = chakra::sql::ddl::create_tables(&tables, d, false).unwrap();
        let text = sql.join(";\n");
        // The leading key column is indexed by the key: no index of its own.
        assert!(!text.contains("kfk_lines_order_id_idx"), "{d:?}: {text}");
        assert!(!text.contains("kfk_invoices_order_id_idx"), "{d:?}: {text}");
    }
}

async fn setup(d: chakra::Dialect) -> (common::TestDb, Pool, Vec<KOrder>) {
    let db = common::TestDb::new(d).await;
    let pool = db.pool().await;
    chakra::schema::create_tables(&pool, &metas(), false)
        .await
        .unwrap();
    let mut orders = Vec::new();
    for label in ["first", "second", "third"] {
        let mut o = KOrder {
            id: 0,
            label: label.into(),
            ..Default::default()
        };
        o.save(&pool).await.unwrap();
        orders.push(o);
    }
    for (o, line, qty) in [(0, 1, 5), (0, 2, 7), (1, 1, 9)] {
        let mut l = KLine {
            order_id: orders[o].id,
            line,
            qty,
            ..Default::default()
        };
        l.save(&pool).await.unwrap();
    }
    let mut inv = KInvoice {
        order_id: orders[1].id,
        number: "INV-2".into(),
        ..Default::default()
    };
    inv.save(&pool).await.unwrap();
    (db, pool, orders)
}

#[derive(Debug, PartialEq, chakra::FromRow)]
struct LineRow {
    order_id: i64,
    line: i32,
    qty: i32,
}

/// An order as (label, its lines as (line, qty), its invoice's number).
type OrderView = (String, Vec<(i32, i32)>, Option<String>);

async fn line_rows(pool: &Pool) -> Vec<(i64, i32, i32)> {
    chakra::raw_as::<LineRow>("SELECT order_id, line, qty FROM kfk_lines ORDER BY order_id, line")
        .all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.order_id, r.line, r.qty))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relations_work_through_a_key_that_is_a_foreign_key() {
    for d in ALL3 {
        let (_db, pool, orders) = setup(d).await;
        let (a, b, c) = (orders[0].id, orders[1].id, orders[2].id);
        assert_eq!(
            line_rows(&pool).await,
            [(a, 1, 5), (a, 2, 7), (b, 1, 9)],
            "{d:?}"
        );

        // Forward, joined.
        let lines = KLine::query()
            .select_related(KLine::order())
            .order_by(KLine::order_id().asc())
            .order_by(KLine::line().asc())
            .all(&pool)
            .await
            .unwrap();
        let got: Vec<(i64, i32, String)> = lines
            .iter()
            .map(|l| (l.order_id, l.line, l.order.get().unwrap().label.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (a, 1, "first".to_owned()),
                (a, 2, "first".to_owned()),
                (b, 1, "second".to_owned())
            ],
            "{d:?}"
        );

        // Forward, prefetched.
        let lines = KLine::query()
            .prefetch_related(KLine::order())
            .order_by(KLine::order_id().desc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(lines[0].order.get().unwrap().label, "second", "{d:?}");

        // Reverse, prefetched: every order with its lines, the empty one too.
        let with_lines = KOrder::query()
            .prefetch_related(KOrder::lines())
            .prefetch_related(KOrder::invoice())
            .order_by(KOrder::id().asc())
            .all(&pool)
            .await
            .unwrap();
        let got: Vec<OrderView> = with_lines
            .iter()
            .map(|o| {
                let mut ls: Vec<(i32, i32)> = o
                    .lines
                    .get()
                    .unwrap()
                    .iter()
                    .map(|l| (l.line, l.qty))
                    .collect();
                ls.sort();
                let inv = o.invoice.get().unwrap().as_ref().map(|i| i.number.clone());
                (o.label.clone(), ls, inv)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("first".to_owned(), vec![(1, 5), (2, 7)], None),
                ("second".to_owned(), vec![(1, 9)], Some("INV-2".to_owned())),
                ("third".to_owned(), vec![], None),
            ],
            "{d:?}"
        );

        // The one-to-one whose key is the primary key: joined both ways.
        let invoices = KInvoice::query()
            .select_related(KInvoice::order())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(invoices.len(), 1);
        assert_eq!(invoices[0].order.get().unwrap().id, b, "{d:?}");
        let joined = KOrder::query()
            .select_related(KOrder::invoice())
            .filter(KOrder::id().eq(b))
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(
            joined[0].invoice.get().unwrap().as_ref().unwrap().number,
            "INV-2"
        );
        let inv = KInvoice::get(&pool, b).await.unwrap();
        assert_eq!(inv.number, "INV-2", "{d:?}");

        // Explicit loading and the related queryset.
        let mut line = KLine::get(&pool, (a, 2)).await.unwrap();
        line.load_related(&pool, KLine::order()).await.unwrap();
        assert_eq!(line.order.get().unwrap().label, "first", "{d:?}");
        assert_eq!(
            orders[0]
                .related(KOrder::lines())
                .count(&pool)
                .await
                .unwrap(),
            2,
            "{d:?}"
        );

        // A filter across the relation from the key side.
        let firsts = KLine::query()
            .filter(KLine::order().any(KOrder::label().eq("first")))
            .count(&pool)
            .await
            .unwrap();
        assert_eq!(firsts, 2, "{d:?}");

        // Per-row writes name the row by its whole key.
        line.qty = 70;
        line.save(&pool).await.unwrap();
        assert_eq!(
            line_rows(&pool).await,
            [(a, 1, 5), (a, 2, 70), (b, 1, 9)],
            "{d:?}"
        );
        // A line for an order that does not exist is refused by the foreign key.
        let mut orphan = KLine {
            order_id: c + 1_000,
            line: 1,
            qty: 1,
            ..Default::default()
        };
        let err = orphan.save(&pool).await.unwrap_err();
        assert!(matches!(err, Error::ForeignKeyViolation(_)), "{d:?}: {err}");
        // Deleting an order cascades to its lines and its invoice.
        orders[1].delete(&pool).await.unwrap();
        assert_eq!(line_rows(&pool).await, [(a, 1, 5), (a, 2, 70)], "{d:?}");
        assert_eq!(KInvoice::query().count(&pool).await.unwrap(), 0, "{d:?}");
    }
}
