//! Expressions wherever a value is accepted in the typed DSL (issue 23): `update().set(col,
//! expr)` with the same method as values, arithmetic between numeric types typed as the
//! database types the result (decimal × integer is a decimal, exact on SQLite too), and
//! aggregates over expressions (`sum(unit_price * quantity)`), alone and per group. Each result
//! is checked against values computed here in plain Rust, and written rows are read back with
//! hand-written SQL through rusqlite / tokio-postgres.

mod common;
mod fixtures;

use bigdecimal::BigDecimal;
use chakra::prelude::*;
use chakra::Dialect;
use common::{TestDb, BOTH};
use std::str::FromStr;

#[derive(Debug, Clone, Model)]
#[chakra(table = "products")]
pub struct Product {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
    #[chakra(precision = 12, scale = 3)]
    pub price: BigDecimal,
    pub stock: i32,
    pub weight: f64,
    pub sold: Option<i64>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "order_lines")]
pub struct Line {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub product_id: i64,
    #[chakra(precision = 12, scale = 3)]
    pub unit_price: BigDecimal,
    pub quantity: i32,
}

fn dec(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap()
}

/// (product, unit price, quantity) of each line.
const LINES: [(i64, &str, i32); 6] = [
    (1, "19.99", 3),
    (1, "19.99", 1),
    (2, "0.10", 7),
    (2, "0.15", 2),
    (3, "3.333", 3),
    (3, "1000.001", 1),
];

async fn shop(d: Dialect) -> (TestDb, Pool) {
    let db = TestDb::new(d).await;
    let pool = db.pool().await;
    fixtures::create_tables(&pool, &[Product::meta(), Line::meta()]).await;
    let mut products = vec![
        Product {
            id: 0,
            name: "lamp".into(),
            price: dec("19.99"),
            stock: 5,
            weight: 1.5,
            sold: None,
        },
        Product {
            id: 0,
            name: "pen".into(),
            price: dec("0.10"),
            stock: 1,
            weight: 0.25,
            sold: Some(4),
        },
        Product {
            id: 0,
            name: "desk".into(),
            price: dec("1000.001"),
            stock: 2,
            weight: 30.0,
            sold: Some(0),
        },
    ];
    Product::insert_many(&pool, &mut products).await.unwrap();
    let mut lines: Vec<Line> = LINES
        .iter()
        .map(|&(p, price, q)| Line {
            id: 0,
            product_id: p,
            unit_price: dec(price),
            quantity: q,
        })
        .collect();
    Line::insert_many(&pool, &mut lines).await.unwrap();
    (db, pool)
}

/// Rows of text read with hand-written SQL on a connection of its own.
async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<Option<String>>> {
    match db.dialect {
        Dialect::Sqlite => {
            let c = rusqlite::Connection::open(db.url.trim_start_matches("sqlite://")).unwrap();
            let mut st = c.prepare(sql).unwrap();
            let n = st.column_count();
            st.query_map([], |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                            rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                            rusqlite::types::ValueRef::Text(t) => {
                                Some(String::from_utf8_lossy(t).into_owned())
                            }
                            rusqlite::types::ValueRef::Blob(_) => Some("<blob>".into()),
                        })
                    })
                    .collect()
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        }
        Dialect::Postgres => {
            let (c, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let h = tokio::spawn(conn);
            let out = c
                .simple_query(sql)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                    }
                    _ => None,
                })
                .collect();
            drop(c);
            let _ = h.await;
            out
        }
        chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_takes_values_columns_and_expressions() {
    for d in BOTH {
        let (db, pool) = shop(d).await;
        let qty = 2;
        // The line: take the stock with an expression, in the same `set`.
        let n = Product::query()
            .filter(Product::stock().ge(qty))
            .update()
            .set(Product::stock(), Product::stock() - qty)
            .set(Product::sold(), Product::sold() + 2i64)
            .set(Product::name(), "renamed")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 2, "{d:?}: lamp and desk have 2 or more");
        // Decimal × integer into a decimal column; a column of the same type.
        Product::query()
            .filter(Product::id().eq(3))
            .update()
            .set(Product::price(), Product::price() * Product::stock())
            .execute(&pool)
            .await
            .unwrap();
        Line::query()
            .filter(Line::id().eq(1))
            .update()
            .set(Line::quantity(), Line::quantity())
            .set_expr(Line::unit_price(), Line::unit_price() + dec("0.01"))
            .execute(&pool)
            .await
            .unwrap();
        let got = rows(
            &db,
            "SELECT name, CAST(stock AS TEXT), CAST(sold AS TEXT) FROM products ORDER BY id",
        )
        .await;
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(
            got,
            [
                vec![s("renamed"), s("3"), None], // NULL + 2 stays NULL
                vec![s("pen"), s("1"), s("4")],
                vec![s("renamed"), s("0"), s("2")],
            ],
            "{d:?}"
        );
        // 1000.001 × the stock left (0): exact, read as the backend stores it.
        let price = rows(&db, "SELECT price FROM products WHERE id = 3").await;
        assert_eq!(dec(price[0][0].as_deref().unwrap()), dec("0"), "{d:?}");
        let unit = rows(&db, "SELECT unit_price FROM order_lines WHERE id = 1").await;
        assert_eq!(dec(unit[0][0].as_deref().unwrap()), dec("20.00"), "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arithmetic_across_numeric_types_and_aggregates_over_it() {
    // The result types, checked by the compiler.
    let revenue: TypedExpr<Line, BigDecimal> = Line::unit_price() * Line::quantity();
    let wide: TypedExpr<Line, i64> = Line::quantity() * Line::product_id();
    let _: TypedExpr<Product, f64> = Product::weight() * Product::stock();
    let _: TypedExpr<Product, Option<f64>> = Product::weight() * Product::sold();
    let _: TypedExpr<Product, f64> = Product::price() * Product::weight();
    let _ = wide;

    // The expected values, in plain Rust.
    let line_totals: Vec<BigDecimal> = LINES
        .iter()
        .map(|&(_, p, q)| dec(p) * BigDecimal::from(q))
        .collect();
    let total: BigDecimal = line_totals.iter().sum();
    let biggest = line_totals.iter().max().unwrap().clone();
    let big_ones: Vec<i64> = line_totals
        .iter()
        .enumerate()
        .filter(|(_, t)| **t > dec("50"))
        .map(|(i, _)| i as i64 + 1)
        .collect();
    let mut per_product: Vec<(i64, BigDecimal)> = Vec::new();
    for (&(p, _, _), t) in LINES.iter().zip(&line_totals) {
        match per_product.iter_mut().find(|(k, _)| *k == p) {
            Some((_, s)) => *s += t,
            None => per_product.push((p, t.clone())),
        }
    }

    for d in BOTH {
        let (_db, pool) = shop(d).await;
        let (sum_all, max_all, n) = Line::query()
            .aggregate(
                (
                    sum(revenue.clone()),
                    max(Line::unit_price() * Line::quantity()).named("biggest"),
                    count(Line::unit_price() * Line::quantity()).named("n"),
                ),
                &pool,
            )
            .await
            .unwrap();
        assert_eq!(sum_all, Some(total.clone()), "{d:?}");
        assert_eq!(
            sum_all.unwrap().to_string(),
            total.to_string(),
            "{d:?}: exact"
        );
        assert_eq!(max_all, Some(biggest.clone()), "{d:?}");
        assert_eq!(n, 6);

        let ids: Vec<i64> = Line::query()
            .filter((Line::unit_price() * Line::quantity()).gt(dec("50")))
            .order_by(Line::id().asc())
            .all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(ids, big_ones, "{d:?}");

        let grouped = Line::query()
            .group_by(Line::product_id())
            .aggregate(sum(Line::unit_price() * Line::quantity()))
            .order_by(Line::product_id().asc())
            .all(&pool)
            .await
            .unwrap();
        let grouped: Vec<(i64, BigDecimal)> =
            grouped.into_iter().map(|(k, s)| (k, s.unwrap())).collect();
        assert_eq!(grouped, per_product, "{d:?}");

        let weight = Product::query()
            .aggregate(sum(Product::weight() * Product::stock()), &pool)
            .await
            .unwrap();
        assert_eq!(weight, Some(1.5 * 5.0 + 0.25 * 1.0 + 30.0 * 2.0), "{d:?}");
    }
}

/// Decimal division is exact on SQLite too, with the scale PostgreSQL's numeric division
/// picks (at least 16 significant digits, no fewer places than an input shows, rounded half
/// away from zero): the quotients written here by hand, the same on both backends, and a
/// division by zero an error on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimal_division_has_postgresql_scale_on_both_backends() {
    // LINES' unit price / quantity, as PostgreSQL prints it.
    let expected = [
        "6.6633333333333333",     // 19.99 / 3
        "19.9900000000000000",    // 19.99 / 1
        "0.01428571428571428571", // 0.10 / 7 (…571|42… rounds down)
        "0.07500000000000000000", // 0.15 / 2
        "1.11100000000000000000", // 3.333 / 3
        "1000.0010000000000000",  // 1000.001 / 1
    ];
    let quotient: TypedExpr<Line, BigDecimal> = Line::unit_price() / Line::quantity();
    for d in BOTH {
        let (_db, pool) = shop(d).await;
        let got = Line::query()
            .order_by(Line::id().asc())
            .values((quotient.clone(),), &pool)
            .await
            .unwrap();
        let got: Vec<String> = got.iter().map(|(q,)| q.to_string()).collect();
        assert_eq!(got, expected, "{d:?}");

        // In a filter: the lines whose unit price per piece is above 1.
        let ids = Line::query()
            .filter(quotient.clone().gt(dec("1")))
            .order_by(Line::id().asc())
            .values((Line::id(),), &pool)
            .await
            .unwrap();
        assert_eq!(ids, vec![(1,), (2,), (5,), (6,)], "{d:?}");

        // Rounding half away from zero: 2 / 3 and -2 / 3 (quantity 3, price ±2).
        let signed = Line::query()
            .filter(Line::id().eq(1))
            .values(
                (
                    (Line::unit_price() - Line::unit_price() + dec("2")) / Line::quantity(),
                    (Line::unit_price() - Line::unit_price() - dec("2")) / Line::quantity(),
                ),
                &pool,
            )
            .await
            .unwrap();
        assert_eq!(
            (signed[0].0.to_string(), signed[0].1.to_string()),
            (
                "0.66666666666666666667".to_owned(),
                "-0.66666666666666666667".to_owned()
            ),
            "{d:?}"
        );

        // Division by zero fails the statement on both backends.
        let err = Line::query()
            .values(
                (Line::unit_price() / (Line::quantity() - Line::quantity()),),
                &pool,
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("division by zero"), "{d:?}: {err}");
    }
}

/// MySQL/MariaDB: decimal arithmetic is exact (a bound operand is cast to a `DECIMAL` of its
/// own scale; the server would compute a parameter of unknown type in `DOUBLE`), a quotient
/// keeps the dividend's places plus 20, at most 30, rounded half away from zero (the
/// server's rule, not PostgreSQL's: docs/mysql.md), and a division by zero fails the read as
/// on PostgreSQL (the server's warning 1365 read back), not a silent NULL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimal_arithmetic_on_mysql_is_exact_with_the_servers_quotient_scale() {
    let (_db, pool) = shop(Dialect::Mysql).await;
    // The unit prices are DECIMAL(12, 3): each quotient has 3 + 20 places, worked out by
    // hand.
    let expected = [
        "6.66333333333333333333333",    // 19.99 / 3
        "19.99000000000000000000000",   // 19.99 / 1
        "0.01428571428571428571429",    // 0.10 / 7 (…428|571… rounds up)
        "0.07500000000000000000000",    // 0.15 / 2
        "1.11100000000000000000000",    // 3.333 / 3
        "1000.00100000000000000000000", // 1000.001 / 1
    ];
    let quotient: TypedExpr<Line, BigDecimal> = Line::unit_price() / Line::quantity();
    let got = Line::query()
        .order_by(Line::id().asc())
        .values((quotient,), &pool)
        .await
        .unwrap();
    let got: Vec<String> = got.iter().map(|(q,)| q.to_string()).collect();
    assert_eq!(got, expected);

    // A bound decimal with 30 places stays exact (in DOUBLE it would vanish): line 1 is
    // 19.99 × 3; a result of 30 places reads without its padding zeros.
    let tiny = dec("0.000000000000000000000000000001");
    let sum = Line::query()
        .filter(Line::id().eq(1))
        .values(((Line::unit_price() + tiny) * Line::quantity(),), &pool)
        .await
        .unwrap();
    assert_eq!(sum[0].0.to_string(), "59.970000000000000000000000000003");

    let err = Line::query()
        .values(
            (Line::unit_price() / (Line::quantity() - Line::quantity()),),
            &pool,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("division by zero"), "{err}");
    // The pool goes on working after it.
    assert_eq!(Line::query().count(&pool).await.unwrap(), 6);
}
