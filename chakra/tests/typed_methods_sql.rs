//! Every typed method: the SQL it compiles to on PostgreSQL and SQLite (pinned), and the
//! rows it selects on both backends (the same rows on each).

mod common;
mod fixtures;

use chakra::prelude::*;
use chakra::{compile, Dialect};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use common::{TestDb, ALL3};

#[derive(Debug, Clone, Model)]
#[chakra(table = "things")]
pub struct Thing {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
    pub nick: Option<String>,
    pub score: i32,
    pub ratio: f64,
    pub born: NaiveDate,
    pub seen: Option<DateTime<Utc>>,
    pub active: bool,
}

fn things() -> Vec<Thing> {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let t = |y, mo, d, h, mi, s| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap();
    vec![
        Thing {
            id: 0,
            name: "Alpha".into(),
            nick: Some("al".into()),
            score: 10,
            ratio: 0.5,
            born: d(2000, 1, 15),
            seen: Some(t(2024, 3, 5, 10, 20, 30)),
            active: true,
        },
        Thing {
            id: 0,
            name: "beta%".into(),
            nick: None,
            score: 20,
            ratio: 1.5,
            born: d(1999, 12, 31),
            seen: None,
            active: false,
        },
        Thing {
            id: 0,
            name: "Gamma_x".into(),
            nick: Some("GAM".into()),
            score: 30,
            ratio: 2.5,
            born: d(2000, 6, 1),
            seen: Some(t(2023, 11, 20, 23, 59, 1)),
            active: true,
        },
        Thing {
            id: 0,
            name: "ÉCOLE".into(),
            nick: Some("école".into()),
            score: 40,
            ratio: 3.5,
            born: d(2001, 2, 3),
            seen: Some(t(2022, 7, 4, 0, 0, 0)),
            active: true,
        },
    ]
}

/// (method, query, ids it selects)
fn cases() -> Vec<(&'static str, Query<Thing>, Vec<i64>)> {
    let q = Thing::query;
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    vec![
        ("eq", q().filter(Thing::name().eq("Alpha")), vec![1]),
        ("ne", q().filter(Thing::score().ne(10)), vec![2, 3, 4]),
        ("gt", q().filter(Thing::score().gt(20)), vec![3, 4]),
        ("ge", q().filter(Thing::score().ge(20)), vec![2, 3, 4]),
        ("lt", q().filter(Thing::ratio().lt(1.5)), vec![1]),
        ("le", q().filter(Thing::ratio().le(1.5)), vec![1, 2]),
        (
            "is_in",
            q().filter(Thing::score().is_in([10, 30])),
            vec![1, 3],
        ),
        (
            "is_in_empty",
            q().filter(Thing::score().is_in(Vec::<i32>::new())),
            vec![],
        ),
        (
            "between",
            q().filter(Thing::score().between(15, 35)),
            vec![2, 3],
        ),
        (
            "starts_with",
            q().filter(Thing::name().starts_with("Al")),
            vec![1],
        ),
        (
            "starts_with_case",
            q().filter(Thing::name().starts_with("al")),
            vec![],
        ),
        (
            "ends_with_literal_percent",
            q().filter(Thing::name().ends_with("%")),
            vec![2],
        ),
        (
            "contains_literal_underscore",
            q().filter(Thing::name().contains("_")),
            vec![3],
        ),
        ("iexact", q().filter(Thing::name().iexact("alpha")), vec![1]),
        (
            "iexact_unicode",
            q().filter(Thing::name().iexact("école")),
            vec![4],
        ),
        (
            "icontains",
            q().filter(Thing::name().icontains("AMM")),
            vec![3],
        ),
        (
            "istarts_with",
            q().filter(Thing::name().istarts_with("g")),
            vec![3],
        ),
        (
            "iends_with",
            q().filter(Thing::name().iends_with("A")),
            vec![1],
        ),
        ("like", q().filter(Thing::name().like("G%")), vec![3]),
        ("ilike", q().filter(Thing::name().ilike("g%")), vec![3]),
        (
            "regex",
            q().filter(Thing::name().regex("^[A-Z]")),
            vec![1, 3],
        ),
        ("iregex", q().filter(Thing::name().iregex("^B")), vec![2]),
        ("is_null", q().filter(Thing::nick().is_null()), vec![2]),
        (
            "is_not_null",
            q().filter(Thing::nick().is_not_null()),
            vec![1, 3, 4],
        ),
        ("eq_none", q().filter(Thing::nick().eq(None)), vec![2]),
        ("eq_option", q().filter(Thing::nick().eq("GAM")), vec![3]),
        (
            "year",
            q().filter(Thing::born().year().eq(2000)),
            vec![1, 3],
        ),
        ("month", q().filter(Thing::born().month().eq(1)), vec![1]),
        ("day", q().filter(Thing::born().day().eq(31)), vec![2]),
        (
            "week_day",
            q().filter(Thing::born().week_day().eq(7)),
            vec![1, 4],
        ),
        ("hour", q().filter(Thing::seen().hour().eq(10)), vec![1]),
        ("minute", q().filter(Thing::seen().minute().eq(59)), vec![3]),
        ("second", q().filter(Thing::seen().second().eq(1)), vec![3]),
        (
            "date",
            q().filter(Thing::seen().date().eq(d(2023, 11, 20))),
            vec![3],
        ),
        (
            "year_gt",
            q().filter(Thing::seen().year().gt(2022)),
            vec![1, 3],
        ),
        ("bool_column", q().filter(Thing::active()), vec![1, 3, 4]),
        ("bool_eq", q().filter(Thing::active().eq(false)), vec![2]),
        (
            "and",
            q().filter(Thing::active().eq(true).and(Thing::score().gt(10))),
            vec![3, 4],
        ),
        (
            "or",
            q().filter(Thing::score().eq(10).or(Thing::score().eq(40))),
            vec![1, 4],
        ),
        (
            "not",
            q().filter(Thing::score().eq(10).not()),
            vec![2, 3, 4],
        ),
        (
            "operators",
            q().filter((Thing::score().eq(10) | Thing::score().eq(20)) & !Thing::active()),
            vec![2],
        ),
        ("exclude", q().exclude(Thing::score().eq(10)), vec![2, 3, 4]),
        (
            "exclude_nullable",
            q().exclude(Thing::nick().eq("al")),
            vec![2, 3, 4],
        ),
        (
            "exclude_nullable_or",
            q().exclude(Thing::nick().eq("al").or(Thing::nick().eq("GAM"))),
            vec![2, 4],
        ),
        ("arith", q().filter((Thing::score() + 5).gt(30)), vec![3, 4]),
        ("asc", q().order_by(Thing::score().asc()), vec![1, 2, 3, 4]),
        (
            "desc",
            q().order_by(Thing::score().desc()),
            vec![4, 3, 2, 1],
        ),
        (
            "order_by_column",
            q().order_by(Thing::name()).limit(1),
            vec![1],
        ),
        (
            "order_nullable_desc",
            q().order_by(Thing::seen().desc())
                .order_by(Thing::id().asc()),
            vec![2, 1, 3, 4],
        ),
        (
            "limit_offset",
            q().order_by(Thing::id().asc()).limit(2).offset(1),
            vec![2, 3],
        ),
        ("offset", q().order_by(Thing::id().asc()).offset(3), vec![4]),
    ]
}

/// (method, SQL after `SELECT <every column> FROM "things"` on SQLite, same on PostgreSQL)
const PINNED: &[(&str, &str, &str)] = &[
    ("eq", " WHERE \"things\".\"name\" = ?", " WHERE \"things\".\"name\" = $1"),
    ("ne", " WHERE \"things\".\"score\" <> ?", " WHERE \"things\".\"score\" <> $1"),
    ("gt", " WHERE \"things\".\"score\" > ?", " WHERE \"things\".\"score\" > $1"),
    ("ge", " WHERE \"things\".\"score\" >= ?", " WHERE \"things\".\"score\" >= $1"),
    ("lt", " WHERE \"things\".\"ratio\" < ?", " WHERE \"things\".\"ratio\" < $1"),
    ("le", " WHERE \"things\".\"ratio\" <= ?", " WHERE \"things\".\"ratio\" <= $1"),
    ("is_in", " WHERE \"things\".\"score\" IN (SELECT value FROM json_each(?))", " WHERE \"things\".\"score\" = ANY($1)"),
    ("is_in_empty", " WHERE FALSE", " WHERE FALSE"),
    ("between", " WHERE \"things\".\"score\" BETWEEN ? AND ?", " WHERE \"things\".\"score\" BETWEEN $1 AND $2"),
    ("starts_with", " WHERE \"things\".\"name\" LIKE ? ESCAPE '\\'", " WHERE \"things\".\"name\" LIKE $1 ESCAPE '\\'"),
    ("starts_with_case", " WHERE \"things\".\"name\" LIKE ? ESCAPE '\\'", " WHERE \"things\".\"name\" LIKE $1 ESCAPE '\\'"),
    ("ends_with_literal_percent", " WHERE \"things\".\"name\" LIKE ? ESCAPE '\\'", " WHERE \"things\".\"name\" LIKE $1 ESCAPE '\\'"),
    ("contains_literal_underscore", " WHERE \"things\".\"name\" LIKE ? ESCAPE '\\'", " WHERE \"things\".\"name\" LIKE $1 ESCAPE '\\'"),
    ("iexact", " WHERE REPLACE(chakra_lower(\"things\".\"name\"), 'ς', 'σ') LIKE ? ESCAPE '\\'", " WHERE REPLACE(LOWER(\"things\".\"name\"), 'ς', 'σ') LIKE $1 ESCAPE '\\'"),
    ("iexact_unicode", " WHERE REPLACE(chakra_lower(\"things\".\"name\"), 'ς', 'σ') LIKE ? ESCAPE '\\'", " WHERE REPLACE(LOWER(\"things\".\"name\"), 'ς', 'σ') LIKE $1 ESCAPE '\\'"),
    ("icontains", " WHERE REPLACE(chakra_lower(\"things\".\"name\"), 'ς', 'σ') LIKE ? ESCAPE '\\'", " WHERE REPLACE(LOWER(\"things\".\"name\"), 'ς', 'σ') LIKE $1 ESCAPE '\\'"),
    ("istarts_with", " WHERE REPLACE(chakra_lower(\"things\".\"name\"), 'ς', 'σ') LIKE ? ESCAPE '\\'", " WHERE REPLACE(LOWER(\"things\".\"name\"), 'ς', 'σ') LIKE $1 ESCAPE '\\'"),
    ("iends_with", " WHERE REPLACE(chakra_lower(\"things\".\"name\"), 'ς', 'σ') LIKE ? ESCAPE '\\'", " WHERE REPLACE(LOWER(\"things\".\"name\"), 'ς', 'σ') LIKE $1 ESCAPE '\\'"),
    ("like", " WHERE \"things\".\"name\" LIKE ? ESCAPE '\\'", " WHERE \"things\".\"name\" LIKE $1 ESCAPE '\\'"),
    ("ilike", " WHERE REPLACE(chakra_lower(\"things\".\"name\"), 'ς', 'σ') LIKE ? ESCAPE '\\'", " WHERE REPLACE(LOWER(\"things\".\"name\"), 'ς', 'σ') LIKE $1 ESCAPE '\\'"),
    ("regex", " WHERE \"things\".\"name\" REGEXP ?", " WHERE \"things\".\"name\" ~ $1"),
    ("iregex", " WHERE \"things\".\"name\" REGEXP ?", " WHERE \"things\".\"name\" ~* $1"),
    ("is_null", " WHERE \"things\".\"nick\" IS NULL", " WHERE \"things\".\"nick\" IS NULL"),
    ("is_not_null", " WHERE \"things\".\"nick\" IS NOT NULL", " WHERE \"things\".\"nick\" IS NOT NULL"),
    ("eq_none", " WHERE \"things\".\"nick\" IS NULL", " WHERE \"things\".\"nick\" IS NULL"),
    ("eq_option", " WHERE \"things\".\"nick\" = ?", " WHERE \"things\".\"nick\" = $1"),
    ("year", " WHERE (CAST(strftime('%Y', \"things\".\"born\") AS INTEGER)) = ?", " WHERE CAST(FLOOR(EXTRACT(YEAR FROM \"things\".\"born\")) AS BIGINT) = $1"),
    ("month", " WHERE (CAST(strftime('%m', \"things\".\"born\") AS INTEGER)) = ?", " WHERE CAST(FLOOR(EXTRACT(MONTH FROM \"things\".\"born\")) AS BIGINT) = $1"),
    ("day", " WHERE (CAST(strftime('%d', \"things\".\"born\") AS INTEGER)) = ?", " WHERE CAST(FLOOR(EXTRACT(DAY FROM \"things\".\"born\")) AS BIGINT) = $1"),
    ("week_day", " WHERE (CAST(strftime('%w', \"things\".\"born\") AS INTEGER) + 1) = ?", " WHERE CAST(FLOOR(EXTRACT(DOW FROM \"things\".\"born\")) + 1 AS BIGINT) = $1"),
    ("hour", " WHERE (CAST(strftime('%H', chakra_datetime(\"things\".\"seen\")) AS INTEGER)) = ?", " WHERE CAST(FLOOR(EXTRACT(HOUR FROM \"things\".\"seen\" AT TIME ZONE 'UTC')) AS BIGINT) = $1"),
    ("minute", " WHERE (CAST(strftime('%M', chakra_datetime(\"things\".\"seen\")) AS INTEGER)) = ?", " WHERE CAST(FLOOR(EXTRACT(MINUTE FROM \"things\".\"seen\" AT TIME ZONE 'UTC')) AS BIGINT) = $1"),
    ("second", " WHERE (CAST(strftime('%S', chakra_datetime(\"things\".\"seen\")) AS INTEGER)) = ?", " WHERE CAST(FLOOR(EXTRACT(SECOND FROM \"things\".\"seen\" AT TIME ZONE 'UTC')) AS BIGINT) = $1"),
    ("date", " WHERE substr(chakra_datetime(\"things\".\"seen\"), 1, 10) = ?", " WHERE CAST(\"things\".\"seen\" AT TIME ZONE 'UTC' AS DATE) = $1"),
    ("year_gt", " WHERE (CAST(strftime('%Y', chakra_datetime(\"things\".\"seen\")) AS INTEGER)) > ?", " WHERE CAST(FLOOR(EXTRACT(YEAR FROM \"things\".\"seen\" AT TIME ZONE 'UTC')) AS BIGINT) > $1"),
    ("bool_column", " WHERE \"things\".\"active\"", " WHERE \"things\".\"active\""),
    ("bool_eq", " WHERE \"things\".\"active\" = ?", " WHERE \"things\".\"active\" = $1"),
    ("and", " WHERE (\"things\".\"active\" = ?) AND (\"things\".\"score\" > ?)", " WHERE (\"things\".\"active\" = $1) AND (\"things\".\"score\" > $2)"),
    ("or", " WHERE (\"things\".\"score\" = ?) OR (\"things\".\"score\" = ?)", " WHERE (\"things\".\"score\" = $1) OR (\"things\".\"score\" = $2)"),
    ("not", " WHERE NOT (\"things\".\"score\" = ?)", " WHERE NOT (\"things\".\"score\" = $1)"),
    ("operators", " WHERE ((\"things\".\"score\" = ?) OR (\"things\".\"score\" = ?)) AND (NOT (\"things\".\"active\"))", " WHERE ((\"things\".\"score\" = $1) OR (\"things\".\"score\" = $2)) AND (NOT (\"things\".\"active\"))"),
    ("exclude", " WHERE NOT (\"things\".\"score\" = ?)", " WHERE NOT (\"things\".\"score\" = $1)"),
    ("exclude_nullable", " WHERE (NOT (\"things\".\"nick\" = ?)) OR ((\"things\".\"nick\" = ?) IS NULL)", " WHERE (NOT (\"things\".\"nick\" = $1)) OR ((\"things\".\"nick\" = $2) IS NULL)"),
    ("exclude_nullable_or", " WHERE (NOT ((\"things\".\"nick\" = ?) OR (\"things\".\"nick\" = ?))) OR (((\"things\".\"nick\" = ?) OR (\"things\".\"nick\" = ?)) IS NULL)", " WHERE (NOT ((\"things\".\"nick\" = $1) OR (\"things\".\"nick\" = $2))) OR (((\"things\".\"nick\" = $3) OR (\"things\".\"nick\" = $4)) IS NULL)"),
    ("arith", " WHERE (\"things\".\"score\" + ?) > ?", " WHERE (\"things\".\"score\" + $1) > $2"),
    ("asc", " ORDER BY \"things\".\"score\" NULLS LAST", " ORDER BY \"things\".\"score\""),
    ("desc", " ORDER BY \"things\".\"score\" DESC NULLS FIRST", " ORDER BY \"things\".\"score\" DESC"),
    ("order_by_column", " ORDER BY \"things\".\"name\" NULLS LAST LIMIT CAST(? AS INTEGER)", " ORDER BY \"things\".\"name\" LIMIT $1"),
    ("order_nullable_desc", " ORDER BY chakra_datetime(\"things\".\"seen\") DESC NULLS FIRST, \"things\".\"id\" NULLS LAST", " ORDER BY \"things\".\"seen\" DESC, \"things\".\"id\""),
    ("limit_offset", " ORDER BY \"things\".\"id\" NULLS LAST LIMIT CAST(? AS INTEGER) OFFSET ?", " ORDER BY \"things\".\"id\" LIMIT $1 OFFSET $2"),
    ("offset", " ORDER BY \"things\".\"id\" NULLS LAST LIMIT -1 OFFSET ?", " ORDER BY \"things\".\"id\" OFFSET $1"),
];

const SELECT_ALL: &str = "SELECT \"things\".\"id\", \"things\".\"name\", \"things\".\"nick\", \"things\".\"score\", \"things\".\"ratio\", \"things\".\"born\", \"things\".\"seen\", \"things\".\"active\" FROM \"things\"";

#[test]
fn each_method_compiles_to_the_pinned_sql_on_both_dialects() {
    let cases = cases();
    assert_eq!(cases.len(), PINNED.len(), "every case has pinned SQL");
    for ((name, query, _), (pinned_name, sqlite, pg)) in cases.iter().zip(PINNED) {
        assert_eq!(name, pinned_name);
        for (d, want) in [(Dialect::Sqlite, sqlite), (Dialect::Postgres, pg)] {
            let sql = compile(&query.to_statement(), d).unwrap().sql();
            assert_eq!(sql, format!("{SELECT_ALL}{want}"), "{name} on {d:?}");
        }
    }
}

#[test]
fn writes_and_aggregates_compile_to_the_pinned_sql_on_both_dialects() {
    let q = || Thing::query().filter(Thing::score().gt(10));
    let statements: Vec<(&str, Statement, &str, &str)> = vec![
        (
            "count",
            q().model_query().count(),
            "SELECT COUNT(*) FROM \"things\" WHERE \"things\".\"score\" > ?",
            "SELECT COUNT(*) FROM \"things\" WHERE \"things\".\"score\" > $1",
        ),
        (
            "exists",
            q().model_query().exists(),
            "SELECT EXISTS (SELECT 1 FROM \"things\" WHERE \"things\".\"score\" > ?)",
            "SELECT EXISTS (SELECT 1 FROM \"things\" WHERE \"things\".\"score\" > $1)",
        ),
        (
            "update_set",
            q().update().set(Thing::active(), false).to_statement().unwrap(),
            "UPDATE \"things\" SET \"active\" = ? WHERE \"things\".\"score\" > ?",
            "UPDATE \"things\" SET \"active\" = $1 WHERE \"things\".\"score\" > $2",
        ),
        (
            "update_set_expr",
            q().update()
                .set_expr(Thing::score(), Thing::score() * 2)
                .to_statement()
                .unwrap(),
            "UPDATE \"things\" SET \"score\" = (\"things\".\"score\" * ?) WHERE \"things\".\"score\" > ?",
            "UPDATE \"things\" SET \"score\" = (\"things\".\"score\" * $1) WHERE \"things\".\"score\" > $2",
        ),
        (
            "delete",
            q().model_query().delete().unwrap(),
            "DELETE FROM \"things\" WHERE \"things\".\"score\" > ?",
            "DELETE FROM \"things\" WHERE \"things\".\"score\" > $1",
        ),
    ];
    for (name, stmt, sqlite, pg) in statements {
        assert_eq!(
            compile(&stmt, Dialect::Sqlite).unwrap().sql(),
            sqlite,
            "{name}"
        );
        assert_eq!(
            compile(&stmt, Dialect::Postgres).unwrap().sql(),
            pg,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_method_selects_the_same_right_rows_on_both_backends() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        fixtures::create_tables(&pool, &[Thing::meta()]).await;
        let mut rows = things();
        Thing::insert_many(&pool, &mut rows).await.unwrap();
        assert_eq!(rows.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
        for (name, query, want) in cases() {
            let ordered = !query.model_query().order_by.is_empty();
            let mut got: Vec<i64> = query
                .all(&pool)
                .await
                .unwrap_or_else(|e| panic!("{name} on {d:?}: {e}"))
                .iter()
                .map(|t| t.id)
                .collect();
            if !ordered {
                got.sort();
            }
            assert_eq!(got, want, "{name} on {d:?}");
        }
        // The writes and aggregates, run.
        let q = || Thing::query().filter(Thing::score().gt(10));
        assert_eq!(q().count(&pool).await.unwrap(), 3, "{d:?}");
        assert!(q().exists(&pool).await.unwrap(), "{d:?}");
        assert!(!Thing::query()
            .filter(Thing::score().gt(100))
            .exists(&pool)
            .await
            .unwrap());
        let n = q()
            .update()
            .set_expr(Thing::score(), Thing::score() * 2)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 3, "{d:?}");
        let scores: Vec<i32> = Thing::query()
            .order_by(Thing::id())
            .all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|t| t.score)
            .collect();
        assert_eq!(scores, [10, 40, 60, 80], "{d:?}");
        assert_eq!(q().delete(&pool).await.unwrap(), 3, "{d:?}");
        assert_eq!(Thing::query().count(&pool).await.unwrap(), 1, "{d:?}");
    }
}
