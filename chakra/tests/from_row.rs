//! Rows into any struct (issue 23): `#[derive(FromRow)]` fills a struct from raw SQL
//! (`chakra::raw_as`, every value bound) and from a grouped selection across a relation
//! (`chakra::fetch_as`), matched by column name; a missing or mistyped column is a `Decode`
//! error naming the struct, field and column. Expected values are computed here in plain Rust.

mod common;
mod fixtures;

use bigdecimal::BigDecimal;
use chakra::dsl::typed::named;
use chakra::prelude::*;
use common::BOTH;

#[derive(Debug, Clone, Model)]
#[chakra(table = "products")]
pub struct Product {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "order_lines")]
pub struct Line {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub product_id: i64,
    #[chakra(precision = 10, scale = 2)]
    pub unit_price: BigDecimal,
    pub quantity: i32,
}

/// Figures per product name: an arbitrary struct, not a model.
#[derive(Debug, PartialEq, FromRow)]
struct Revenue {
    #[chakra(column = "product")]
    name: String,
    top_price: BigDecimal,
    lines: i64,
    best: Option<i32>,
}

#[derive(Debug, FromRow)]
struct Wrong {
    #[allow(dead_code)]
    name: i64,
}

fn dec(s: &str) -> BigDecimal {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sql_and_selections_fill_any_struct() {
    let lines = [(1, "2.50", 4), (1, "3.00", 1), (2, "10.10", 3)];
    let expected = vec![
        Revenue {
            name: "lamp".into(),
            top_price: dec("3.00"),
            lines: 2,
            best: Some(4),
        },
        Revenue {
            name: "pen".into(),
            top_price: dec("10.10"),
            lines: 1,
            best: Some(3),
        },
    ];
    for d in BOTH {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        fixtures::create_tables(&pool, &[Product::meta(), Line::meta()]).await;
        for n in ["lamp", "pen", "desk"] {
            Product {
                id: 0,
                name: n.into(),
            }
            .save(&pool)
            .await
            .unwrap();
        }
        let mut rows: Vec<Line> = lines
            .iter()
            .map(|&(p, price, q)| Line {
                id: 0,
                product_id: p,
                unit_price: dec(price),
                quantity: q,
            })
            .collect();
        Line::insert_many(&pool, &mut rows).await.unwrap();

        // Raw SQL, a bound parameter, columns by name (in another order than the fields).
        let got: Vec<Revenue> = chakra::raw_as(
            "SELECT max(l.quantity) AS best, count(*) AS lines, p.name AS product, \
             max(l.unit_price) AS top_price \
             FROM order_lines l JOIN products p ON p.id = l.product_id \
             WHERE l.quantity >= $1 GROUP BY p.name ORDER BY p.name",
        )
        .bind(1)
        .all(&pool)
        .await
        .unwrap();
        assert_eq!(got, expected, "{d:?}");

        // A typed selection with named columns, per group.
        let stmt = Line::query()
            .order_by(Line::product_id().asc())
            .values_statement((
                named("product", Line::product_id()),
                named("revenue", Line::unit_price() * Line::quantity()),
            ));
        #[derive(Debug, PartialEq, FromRow)]
        struct LineTotal {
            product: i64,
            revenue: BigDecimal,
        }
        let totals: Vec<LineTotal> = chakra::fetch_as(&stmt, &pool).await.unwrap();
        let want: Vec<LineTotal> = lines
            .iter()
            .map(|&(p, price, q)| LineTotal {
                product: p,
                revenue: dec(price) * BigDecimal::from(q),
            })
            .collect();
        assert_eq!(totals, want, "{d:?}");

        // A missing column names the struct, field and column.
        let e = chakra::raw_as::<Revenue>("SELECT name AS product FROM products")
            .all(&pool)
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(&e, chakra::Error::Decode { column, .. } if column == "top_price")
                && msg.contains("Revenue.top_price"),
            "{d:?}: {msg}"
        );
        // A mistyped one too.
        let e = chakra::raw_as::<Wrong>("SELECT name FROM products")
            .all(&pool)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("Wrong.name"), "{d:?}: {e}");
        // A NULL into a field that is not an `Option`.
        let e = chakra::raw_as::<LineTotal>(
            "SELECT CAST(NULL AS BIGINT) AS product, unit_price AS revenue FROM order_lines",
        )
        .all(&pool)
        .await
        .unwrap_err();
        assert!(e.to_string().contains("LineTotal.product"), "{d:?}: {e}");
        // The parameter count is checked before any SQL.
        assert!(matches!(
            chakra::raw_as::<Revenue>("SELECT $1, $2")
                .bind(1)
                .all(&pool)
                .await,
            Err(chakra::Error::InvalidQuery(_))
        ));
    }
}
