//! Aggregates through the typed DSL and through the names the Python front door passes
//! (`ModelQuery::aggregate_expr`), on SQLite and PostgreSQL: the same values and types on
//! both (exact decimal sums and averages, even though SQLite stores decimals as text), NULL
//! over no rows and 0 for counts, `distinct` and `filter`, and named errors before any SQL.

mod common;

use bigdecimal::BigDecimal;
use chakra::dsl::AggFunc;
use chakra::prelude::*;
use chakra::{compile, Dialect};
use chrono::NaiveDate;
use common::ALL3;
use std::str::FromStr;

#[derive(Debug, Clone, Model)]
#[chakra(table = "accounts")]
pub struct Account {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 20)]
    pub country: String,
    #[chakra(precision = 12, scale = 2)]
    pub balance: BigDecimal,
    pub score: i32,
    pub ratio: f64,
    pub opened: NaiveDate,
    pub active: bool,
    pub bonus: Option<i64>,
}

fn dec(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, d).unwrap()
}

fn accounts() -> Vec<Account> {
    let a = |country: &str, balance: &str, score, ratio, opened, active, bonus| Account {
        id: 0,
        country: country.into(),
        balance: dec(balance),
        score,
        ratio,
        opened,
        active,
        bonus,
    };
    vec![
        a("fr", "0.10", 10, 0.5, day(3), true, Some(5)),
        a("fr", "0.20", 20, 0.25, day(1), true, None),
        a("de", "9.50", 30, 0.25, day(2), false, Some(7)),
        a("de", "10.00", 40, 1.0, day(9), true, None),
        a("us", "0.10", 40, 2.0, day(5), true, None),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_aggregates_have_the_same_values_on_both_backends() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Account::meta()], false)
            .await
            .unwrap();

        // Over no rows: counts are 0, everything else None.
        let empty = Account::query()
            .aggregate(
                (
                    count(Account::id()),
                    sum(Account::balance()),
                    avg(Account::score()),
                    max(Account::opened()),
                ),
                &pool,
            )
            .await
            .unwrap();
        assert_eq!(empty, (0, None, None, None), "{d:?}");

        let mut rows = accounts();
        Account::insert_many(&pool, &mut rows).await.unwrap();

        let (n, total, avg_balance, min_balance, max_balance) = Account::query()
            .aggregate(
                (
                    count(Account::id()),
                    sum(Account::balance()),
                    avg(Account::balance()),
                    min(Account::balance()),
                    max(Account::balance()),
                ),
                &pool,
            )
            .await
            .unwrap();
        assert_eq!(n, 5);
        // Exact: 0.10 + 0.20 + 9.50 + 10.00 + 0.10, never through floating point.
        assert_eq!(total, Some(dec("19.90")), "{d:?}");
        assert_eq!(avg_balance, Some(dec("3.98")), "{d:?}");
        assert_eq!(
            avg_balance.unwrap().to_string(),
            "3.9800000000000000",
            "{d:?}"
        );
        // By value, not as text ("10.00" < "9.50" as text).
        assert_eq!(min_balance, Some(dec("0.10")), "{d:?}");
        assert_eq!(max_balance, Some(dec("10.00")), "{d:?}");

        let (sum_score, avg_score, sum_ratio, avg_ratio, min_country, min_opened) =
            Account::query()
                .aggregate(
                    (
                        sum(Account::score()),
                        avg(Account::score()),
                        sum(Account::ratio()),
                        avg(Account::ratio()),
                        min(Account::country()),
                        min(Account::opened()),
                    ),
                    &pool,
                )
                .await
                .unwrap();
        assert_eq!(sum_score, Some(140i64));
        assert_eq!(avg_score, Some(28.0));
        assert_eq!(sum_ratio, Some(4.0));
        assert_eq!(avg_ratio, Some(0.8));
        assert_eq!(min_country.as_deref(), Some("de"));
        assert_eq!(min_opened, Some(day(1)));

        // A repeating average: 16 places, half away from zero, the same on both.
        let (thirds,) = Account::query()
            .filter(Account::country().eq("fr".to_owned()))
            .aggregate((avg(Account::balance()),), &pool)
            .await
            .unwrap();
        assert_eq!(thirds, Some(dec("0.15")));
        let (third,) = Account::query()
            .filter(Account::balance().lt(dec("1")))
            .aggregate((avg(Account::balance()),), &pool)
            .await
            .unwrap();
        assert_eq!(third.unwrap().to_string(), "0.1333333333333333", "{d:?}");

        // distinct, filter, COUNT of a nullable column, COUNT(*).
        let (countries, active, bonuses, all, active_total) = Account::query()
            .aggregate(
                (
                    count(Account::country()).distinct(),
                    count(Account::id()).filter(Account::active()),
                    count(Account::bonus()),
                    count_all(),
                    sum(Account::balance()).filter(Account::active()),
                ),
                &pool,
            )
            .await
            .unwrap();
        assert_eq!((countries, active, bonuses, all), (3, 4, 2, 5), "{d:?}");
        assert_eq!(active_total, Some(dec("10.40")), "{d:?}");

        // A single aggregate is not a tuple; a sliced query is aggregated in a subquery.
        let top_two: Option<i64> = Account::query()
            .order_by(Account::score().desc())
            .limit(2)
            .aggregate(sum(Account::score()), &pool)
            .await
            .unwrap();
        assert_eq!(top_two, Some(80));
        let filtered_out = Account::query()
            .aggregate(
                sum(Account::balance()).filter(Account::score().gt(1000)),
                &pool,
            )
            .await
            .unwrap();
        assert_eq!(filtered_out, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregates_by_name_build_the_typed_ir_and_check_before_sql() {
    let mq = Account::query().model_query().clone();
    let by_name = mq
        .aggregate_expr(AggFunc::Sum, Some("balance"), false, None)
        .unwrap();
    let typed = sum(Account::balance()).into_ir();
    assert_eq!(by_name, typed);
    let by_name = mq
        .aggregate_expr(AggFunc::Count, Some("pk"), true, None)
        .unwrap();
    assert_eq!(by_name, count(Account::id()).distinct().into_ir());

    match mq.aggregate_expr(AggFunc::Sum, Some("country"), false, None) {
        Err(Error::InvalidAggregate {
            model,
            field,
            function,
            ..
        }) => assert_eq!(
            (model.as_str(), field.as_str(), function.as_str()),
            ("Account", "country", "Sum")
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        mq.aggregate_expr(AggFunc::Avg, Some("active"), false, None),
        Err(Error::InvalidAggregate { .. })
    ));
    assert!(matches!(
        mq.aggregate_expr(AggFunc::Max, Some("nope"), false, None),
        Err(Error::UnknownField { .. })
    ));

    let stmt = Account::query()
        .filter(Account::active())
        .aggregate_statement((count(Account::id()), sum(Account::balance())))
        .unwrap();
    assert_eq!(
        compile(&stmt, Dialect::Postgres).unwrap().sql(),
        "SELECT COUNT(\"accounts\".\"id\") AS \"id__count\", SUM(\"accounts\".\"balance\") AS \"balance__sum\" FROM \"accounts\" WHERE \"accounts\".\"active\""
    );
    assert_eq!(
        compile(&stmt, Dialect::Sqlite).unwrap().sql(),
        "SELECT COUNT(\"accounts\".\"id\") AS \"id__count\", chakra_decimal_sum(\"accounts\".\"balance\") AS \"balance__sum\" FROM \"accounts\" WHERE \"accounts\".\"active\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_by_returns_typed_groups_on_both_backends() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Account::meta()], false)
            .await
            .unwrap();
        let mut rows = accounts();
        Account::insert_many(&pool, &mut rows).await.unwrap();

        let groups: Vec<(String, (i64, Option<BigDecimal>))> = Account::query()
            .group_by(Account::country())
            .aggregate((count(Account::id()), sum(Account::balance())))
            .order_by(Account::country().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(
            groups,
            vec![
                ("de".to_owned(), (2, Some(dec("19.50")))),
                ("fr".to_owned(), (2, Some(dec("0.30")))),
                ("us".to_owned(), (1, Some(dec("0.10")))),
            ],
            "{d:?}"
        );

        // HAVING over an aggregate, ORDER BY an aggregate, a tuple key, a WHERE first.
        let busy: Vec<((String, bool), i64)> = Account::query()
            .filter(Account::score().gt(5))
            .group_by((Account::country(), Account::active()))
            .aggregate(count(Account::id()))
            .having(count(Account::id()).expr().ge(2))
            .order_by(sum(Account::score()).expr().desc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(busy, vec![(("fr".to_owned(), true), 2)], "{d:?}");

        let by_max: Vec<(String, Option<i32>)> = Account::query()
            .group_by(Account::country())
            .aggregate(max(Account::score()))
            .order_by(max(Account::score()).expr().desc())
            .order_by(Account::country().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(
            by_max,
            vec![
                ("de".to_owned(), Some(40)),
                ("us".to_owned(), Some(40)),
                ("fr".to_owned(), Some(20)),
            ]
        );
    }
}

#[test]
fn annotations_by_name_match_the_typed_group_by() {
    use chakra::dsl::lookup::{filter_kwargs, LookupArg, Operand};
    let mq = chakra::dsl::ModelQuery::new(Account::meta().clone())
        .group_by_fields(&["country"])
        .unwrap();
    let n = mq
        .aggregate_expr(AggFunc::Count, Some("id"), false, None)
        .unwrap();
    let mq = mq.annotate("n", n).unwrap();
    let meta = mq.annotated_meta();
    let cond = filter_kwargs(
        &meta,
        vec![(
            "n__ge".into(),
            LookupArg::Scalar(Operand::Value(Value::I64(2))),
        )],
    );
    // `ge` is not a lookup name: Django's is `gte`.
    assert!(cond.is_err());
    let cond = filter_kwargs(
        &meta,
        vec![(
            "n__gte".into(),
            LookupArg::Scalar(Operand::Value(Value::I64(2))),
        )],
    )
    .unwrap();
    let mq = mq.filter_annotated(cond.lower());
    let by_name = Statement::Select(mq.select_fields(&["country", "n"]).unwrap());
    let typed = Account::query()
        .group_by(Account::country())
        .aggregate(count(Account::id()).named("n"))
        .having(count(Account::id()).expr().ge(2))
        .to_statement()
        .unwrap();
    assert_eq!(by_name, typed);
    assert_eq!(
        compile(&typed, Dialect::Postgres).unwrap().sql(),
        "SELECT \"accounts\".\"country\", COUNT(\"accounts\".\"id\") AS \"n\" FROM \"accounts\" GROUP BY \"accounts\".\"country\" HAVING COUNT(\"accounts\".\"id\") >= $1"
    );
    // Names that clash are refused.
    let mq = chakra::dsl::ModelQuery::new(Account::meta().clone());
    let e = mq
        .aggregate_expr(AggFunc::Count, Some("id"), false, None)
        .unwrap();
    assert!(matches!(
        mq.annotate("country", e),
        Err(Error::AnnotationConflict { .. })
    ));
}
