//! The type contract, checked in the core before any SQL, the same on SQLite and PostgreSQL:
//! a decimal with more digits than its column keeps is refused (never rounded), NaN and
//! infinities are refused, strings over `max_length` are refused; nothing is written.

mod common;

use bigdecimal::BigDecimal;
use chakra::prelude::*;
use common::ALL3;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Model)]
#[chakra(table = "prices")]
pub struct Price {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(precision = 6, scale = 2)]
    pub amount: BigDecimal,
    pub ratio: f64,
    #[chakra(max_length = 5)]
    pub code: String,
}

/// `Price` over a table Chakra did not create (see the last test).
#[derive(Debug, Clone, Model)]
#[chakra(table = "real_prices")]
pub struct RealPrice {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(precision = 6, scale = 2)]
    pub amount: BigDecimal,
    pub ratio: f64,
    #[chakra(max_length = 5)]
    pub code: String,
}

fn price(amount: &str, ratio: f64, code: &str) -> Price {
    Price {
        id: 0,
        amount: BigDecimal::from_str(amount).unwrap(),
        ratio,
        code: code.into(),
    }
}

/// The statements on `"prices"` the executor ran (the statement log's listener is
/// process-wide; the other test here reads a table of another name).
fn statement_log() -> Arc<Mutex<Vec<String>>> {
    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let to = sent.clone();
    chakra::exec::log::set_listener(
        Some(Arc::new(move |r: chakra::exec::log::StatementRecord| {
            if r.sql.contains("\"prices\"") {
                to.lock().unwrap().push(r.sql);
            }
        })),
        false,
    );
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_do_not_fit_are_refused_before_any_sql() {
    let statements = statement_log();
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Price::meta()], false)
            .await
            .unwrap();
        let mut ok = price("1234.50", 0.5, "abc");
        ok.save(&pool).await.unwrap();
        let cases = [
            (price("1.23456", 0.5, "abc"), "amount", "after the point"),
            (price("123456789", 0.5, "abc"), "amount", "before the point"),
            (price("12345.6", 0.5, "abc"), "amount", "before the point"),
            (price("1.5", f64::NAN, "abc"), "ratio", "NaN"),
            (price("1.5", f64::INFINITY, "abc"), "ratio", "inf"),
            (price("1.5", 0.5, "abcdef"), "code", "max_length"),
            (price("1.5", 0.5, "a\0b"), "code", "NUL"),
        ];
        for (mut p, field, why) in cases {
            statements.lock().unwrap().clear();
            let err = p.save(&pool).await.unwrap_err();
            match &err {
                Error::BadValue {
                    model,
                    field: f,
                    reason,
                    ..
                } => {
                    assert_eq!(
                        (model.as_str(), f.as_str()),
                        ("Price", field),
                        "{d:?}: {err}"
                    );
                    assert!(
                        reason.as_deref().unwrap_or("").contains(why),
                        "{d:?}: {err}"
                    );
                }
                other => panic!("{d:?}: expected BadValue, got {other}"),
            }
            // Updates of an existing row are held to the same rule.
            let mut changed = ok.clone();
            changed.amount = p.amount.clone();
            changed.ratio = p.ratio;
            changed.code = p.code.clone();
            assert!(matches!(
                changed.save(&pool).await,
                Err(Error::BadValue { .. })
            ));
            let sent = statements.lock().unwrap().clone();
            assert!(
                sent.is_empty(),
                "{d:?}: {field}: statements were sent: {sent:?}"
            );
        }
        // The capture does see statements: the read below is one.
        statements.lock().unwrap().clear();
        let rows = Price::query().all(&pool).await.unwrap();
        assert_eq!(statements.lock().unwrap().len(), 1, "{d:?}");
        assert_eq!(rows.len(), 1, "{d:?}: nothing else was written");
        assert_eq!(rows[0].amount, BigDecimal::from_str("1234.50").unwrap());
        assert_eq!(rows[0].code, "abc");
    }
}

/// A decimal field over a SQLite column that holds REAL values (a table Chakra did not
/// create: NUMERIC affinity stores `0.01` as a double) reads back as the decimal written,
/// not the double's binary expansion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimals_stored_as_real_by_sqlite_read_back_exact() {
    let db = common::TestDb::sqlite().await;
    let pool = db.pool().await;
    pool.batch_execute(
        "CREATE TABLE real_prices (id INTEGER PRIMARY KEY, amount NUMERIC NOT NULL, \
         ratio REAL NOT NULL, code TEXT NOT NULL); \
         INSERT INTO real_prices VALUES (1, 0.01, 0.5, 'a'), (2, 1234.56, 0.5, 'b'), (3, 7, 0.5, 'c')",
    )
    .await
    .unwrap();
    let rows = RealPrice::query()
        .order_by(RealPrice::id())
        .all(&pool)
        .await
        .unwrap();
    let amounts: Vec<String> = rows.iter().map(|p| p.amount.to_string()).collect();
    assert_eq!(amounts, ["0.01", "1234.56", "7"]);
}
