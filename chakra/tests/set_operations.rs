//! Set operations (`union`, `union_all`, `intersection`, `difference`) and `explain` on
//! SQLite and PostgreSQL. Expected rows are computed in plain Rust from the rows the test
//! writes, with set operations over their names.

mod common;

use chakra::prelude::*;
use chakra::sql::compile;
use chakra::Dialect;
use common::BOTH;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "setop_items")]
pub struct SetItem {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub name: String,
    pub rank: i32,
    pub kind: String,
}

fn items() -> Vec<SetItem> {
    [
        ("a", 3, "x"),
        ("b", 1, "y"),
        ("c", 5, "x"),
        ("d", 5, "y"),
        ("e", 2, "x"),
        ("f", 4, "z"),
    ]
    .into_iter()
    .map(|(n, r, k)| SetItem {
        id: 0,
        name: n.into(),
        rank: r,
        kind: k.into(),
    })
    .collect()
}

fn names(rows: &[SetItem]) -> Vec<String> {
    rows.iter().map(|r| r.name.clone()).collect()
}

fn set(rows: &[SetItem], keep: impl Fn(&SetItem) -> bool) -> BTreeSet<String> {
    rows.iter()
        .filter(|r| keep(r))
        .map(|r| r.name.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_operations_match_plain_sets() {
    for d in BOTH {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[SetItem::meta()], false)
            .await
            .unwrap();
        let mut rows = items();
        SetItem::insert_many(&pool, &mut rows).await.unwrap();
        let high = || SetItem::query().filter(SetItem::rank().gt(2));
        let xs = || SetItem::query().filter(SetItem::kind().eq("x"));
        let zs = || SetItem::query().filter(SetItem::kind().eq("z"));
        let is_high = |r: &SetItem| r.rank > 2;
        let is_x = |r: &SetItem| r.kind == "x";

        // UNION: no duplicates (a and c are both high and x), ordered by name descending.
        let got = high()
            .order_by(SetItem::rank().asc())
            .union(xs())
            .unwrap()
            .order_by(SetItem::name().desc())
            .all(&pool)
            .await
            .unwrap();
        let want: Vec<String> = set(&rows, |r| is_high(r) || is_x(r))
            .into_iter()
            .rev()
            .collect();
        assert_eq!(names(&got), want, "{d:?}");

        // UNION ALL keeps both copies; count() counts the combined rows.
        let all = high().union_all(xs()).unwrap();
        let n_all =
            rows.iter().filter(|r| is_high(r)).count() + rows.iter().filter(|r| is_x(r)).count();
        assert_eq!(
            all.clone().count(&pool).await.unwrap(),
            n_all as u64,
            "{d:?}"
        );
        assert_eq!(all.all(&pool).await.unwrap().len(), n_all);
        let n_union = set(&rows, |r| is_high(r) || is_x(r)).len();
        assert_eq!(
            high().union(xs()).unwrap().count(&pool).await.unwrap(),
            n_union as u64
        );

        let got = high().intersection(xs()).unwrap().all(&pool).await.unwrap();
        let got: BTreeSet<String> = names(&got).into_iter().collect();
        assert_eq!(got, set(&rows, |r| is_high(r) && is_x(r)), "{d:?}");

        let got = high().difference(xs()).unwrap().all(&pool).await.unwrap();
        let got: BTreeSet<String> = names(&got).into_iter().collect();
        assert_eq!(got, set(&rows, |r| is_high(r) && !is_x(r)), "{d:?}");

        // Left to right on both backends: (high ∪ z) ∩ x, although PostgreSQL binds
        // INTERSECT tighter than UNION.
        let got = zs()
            .union(high())
            .unwrap()
            .intersection(xs())
            .unwrap()
            .order_by(SetItem::name().asc())
            .all(&pool)
            .await
            .unwrap();
        let want: Vec<String> = set(&rows, |r| (r.kind == "z" || is_high(r)) && is_x(r))
            .into_iter()
            .collect();
        assert_eq!(names(&got), want, "{d:?}");

        // Ordering and slicing of the combined rows.
        let got = high()
            .union(xs())
            .unwrap()
            .order_by(SetItem::rank().desc())
            .order_by(SetItem::name().asc())
            .limit(2)
            .offset(1)
            .all(&pool)
            .await
            .unwrap();
        let mut both: Vec<&SetItem> = rows.iter().filter(|r| is_high(r) || is_x(r)).collect();
        both.sort_by(|a, b| b.rank.cmp(&a.rank).then(a.name.cmp(&b.name)));
        let want: Vec<String> = both[1..3].iter().map(|r| r.name.clone()).collect();
        assert_eq!(names(&got), want, "{d:?}");
        let first = high()
            .union(xs())
            .unwrap()
            .order_by(SetItem::name().asc())
            .first(&pool)
            .await
            .unwrap();
        assert_eq!(first.map(|r| r.name), Some("a".to_owned()));

        assert!(high()
            .intersection(zs())
            .unwrap()
            .exists(&pool)
            .await
            .unwrap());
        assert!(!xs()
            .intersection(zs())
            .unwrap()
            .exists(&pool)
            .await
            .unwrap());
        assert_eq!(
            xs().intersection(zs()).unwrap().count(&pool).await.unwrap(),
            0
        );

        // A sliced member is refused before any SQL: SQLite cannot slice a member.
        let err = high().limit(1).union(xs()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidQuery(m) if m.contains("sliced")),
            "{err:?}"
        );
        let err = high().union(xs().offset(1)).unwrap_err();
        assert!(matches!(&err, Error::InvalidQuery(m) if m.contains("sliced")));

        // explain(): the database's own plan text for the statement.
        let plan = high().union(xs()).unwrap().explain(&pool).await.unwrap();
        let plain = high().explain(&pool).await.unwrap();
        match d {
            Dialect::Postgres => {
                assert!(plain.contains("Seq Scan on setop_items"), "{plain}");
                assert!(
                    plan.contains("Unique") || plan.contains("HashAggregate"),
                    "{plan}"
                );
            }
            Dialect::Sqlite => {
                assert!(plain.contains("SCAN setop_items"), "{plain}");
                assert!(
                    plan.contains("COMPOUND") || plan.contains("UNION"),
                    "{plan}"
                );
            }
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        }
    }
}

#[test]
fn compound_sql_per_dialect() {
    let q = SetItem::query()
        .filter(SetItem::rank().gt(2))
        .union(SetItem::query().filter(SetItem::kind().eq("x")))
        .unwrap()
        .intersection(SetItem::query())
        .unwrap()
        .order_by(SetItem::name().desc())
        .limit(3);
    let cols = r#""setop_items"."id", "setop_items"."name", "setop_items"."rank", "setop_items"."kind" FROM "setop_items""#;
    let pg = compile(&q.to_statement(), Dialect::Postgres).unwrap();
    assert_eq!(
        pg.parts.concat(),
        format!(
            "((SELECT {cols} WHERE \"setop_items\".\"rank\" > ) UNION (SELECT {cols} WHERE \
             \"setop_items\".\"kind\" = )) INTERSECT (SELECT {cols}) ORDER BY 2 DESC LIMIT "
        )
    );
    let lite = compile(&q.to_statement(), Dialect::Sqlite).unwrap();
    assert_eq!(
        lite.parts.concat(),
        format!(
            "SELECT {cols} WHERE \"setop_items\".\"rank\" >  UNION SELECT {cols} WHERE \
             \"setop_items\".\"kind\" =  INTERSECT SELECT {cols} ORDER BY 2 DESC NULLS FIRST \
             LIMIT CAST( AS INTEGER)"
        )
    );
    // Shapes that differ are a named error, not a database error.
    let mut bad = SetItem::query().model_query().select();
    bad.compound.push(chakra_dsl::CompoundPart {
        op: chakra_dsl::SetOp::Except,
        all: false,
        select: SetItem::query()
            .model_query()
            .select_fields(&["name"])
            .unwrap(),
    });
    let err = compile(&bad.into(), Dialect::Sqlite).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery(m) if m.contains("different columns")),
        "{err:?}"
    );

    // Statements that would apply to the first member only are refused on a combined query.
    let member = SetItem::query().model_query().member_select(None).unwrap();
    let combined = SetItem::query()
        .model_query()
        .clone()
        .combine(chakra_dsl::SetOp::Union, false, member)
        .unwrap();
    for err in [
        combined.delete().unwrap_err(),
        combined.update(vec![]).unwrap_err(),
        combined.aggregate(vec![]).unwrap_err(),
    ] {
        assert!(
            matches!(&err, Error::InvalidQuery(m) if m.contains("on a combined SetItem query")),
            "{err:?}"
        );
    }
}

mod blog;

/// The compound statement both doors build for `first.<op>(members…)` over `values_list`
/// of `fields`, ordered by `order` (descending with `-`).
fn compound_values(
    first: &Query<blog::User>,
    members: Vec<(chakra::dsl::SetOp, bool, Query<blog::User>)>,
    fields: &[&str],
    order: &str,
) -> chakra::dsl::Statement {
    let mut mq = first.model_query().clone();
    for (op, all, m) in members {
        let member = m.model_query().member_select(Some(fields)).unwrap();
        mq = mq.combine(op, all, member).unwrap();
    }
    let mq = mq.order_by_name(order).unwrap();
    chakra::dsl::Statement::Select(mq.select_fields(fields).unwrap())
}

/// Set operations for the Python door: each case written as Python (evaluated by
/// `python-ext/tests/test_set_operations.py` with `User` in scope) and through the Rust
/// door's queries and the core's compound node, whose SQL is recorded in
/// `tests/front_doors/set_operations.json` (regenerate with
/// `CHAKRA_BLESS=1 cargo test -p chakra --test set_operations`).
#[test]
fn set_operation_golden_cases_for_the_python_door() {
    use blog::User;
    use chakra::dsl::SetOp;
    let a = || User::query().filter(User::username().eq("alice"));
    let late = || User::query().filter(User::id().gt(1));
    let early = || User::query().filter(User::id().lt(3));
    let cases = vec![
        (
            "union",
            r#"User.objects.filter(username="alice").values_list("id", flat=True).union(User.objects.filter(id__gt=1).values_list("id", flat=True)).order_by("-id")"#,
            compound_values(&a(), vec![(SetOp::Union, false, late())], &["id"], "-id"),
        ),
        (
            "union_all_then_difference",
            r#"User.objects.filter(id__gt=1).values_list("id", "username").union(User.objects.filter(id__lt=3).values_list("id", "username"), all=True).difference(User.objects.filter(username="alice").values_list("id", "username")).order_by("username")"#,
            compound_values(
                &late(),
                vec![(SetOp::Union, true, early()), (SetOp::Except, false, a())],
                &["id", "username"],
                "username",
            ),
        ),
        (
            "intersection",
            r#"User.objects.filter(id__gt=1).values_list("id", flat=True).intersection(User.objects.filter(id__lt=3).values_list("id", flat=True)).order_by("id")"#,
            compound_values(
                &late(),
                vec![(SetOp::Intersect, false, early())],
                &["id"],
                "id",
            ),
        ),
    ];
    let golden: Vec<serde_json::Value> = cases
        .into_iter()
        .map(|(name, python, stmt)| {
            serde_json::json!({
                "name": name,
                "python": python,
                "postgres": compile(&stmt, Dialect::Postgres).unwrap().sql(),
                "sqlite": compile(&stmt, Dialect::Sqlite).unwrap().sql(),
            })
        })
        .collect();
    common::golden::check(
        "set_operations.json",
        &serde_json::Value::from(golden),
        "set_operations",
    );
}
