//! JSON key and path lookups (`data__plan="pro"`, `data__a__b__gte=3`, `data__tags__0`,
//! `data__has_key`, `isnull`, JSON null), through the one lookup parser both front doors
//! use: the same rows on SQLite and PostgreSQL (a differential test), a value of another
//! JSON type never matching, and named errors before any SQL. On MySQL/MariaDB too, where
//! the key tests (`has_keys`, `has_any_keys`) run and containment is refused by name.

mod common;

use chakra::dsl::lookup::{condition, LookupArg, Operand, QNode};
use chakra::prelude::*;
use common::ALL3;
use serde_json::json;

#[derive(Debug, Clone, Model)]
#[chakra(table = "docs")]
pub struct Doc {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 20)]
    pub name: String,
    pub data: Option<serde_json::Value>,
}

fn arg(v: serde_json::Value) -> LookupArg {
    LookupArg::Scalar(Operand::Value(Value::Json(v)))
}

fn cases() -> Vec<(&'static str, LookupArg, bool, Vec<i64>)> {
    let b = |x: bool| LookupArg::Scalar(Operand::Value(Value::Bool(x)));
    let t = |s: &str| LookupArg::Scalar(Operand::Value(Value::Text(s.into())));
    vec![
        ("data__plan", arg(json!("pro")), false, vec![1]),
        ("data__plan", arg(json!("pro")), true, vec![2, 3, 4]),
        ("data__plan__ne", arg(json!("pro")), false, vec![2]),
        ("data__n__gte", arg(json!(3)), false, vec![1, 2]),
        ("data__n__lt", arg(json!(10)), false, vec![1]),
        ("data__n", arg(json!(3)), false, vec![1]),
        ("data__n", arg(json!(3.0)), false, vec![1]),
        ("data__n", arg(json!("3")), false, vec![3]),
        ("data__ok", arg(json!(true)), false, vec![1]),
        ("data__ok", arg(json!(false)), false, vec![2]),
        ("data__a__b__gt", arg(json!(2)), false, vec![1]),
        ("data__a__b", arg(json!(1)), false, vec![2]),
        ("data__tags__0", arg(json!("x")), false, vec![1]),
        ("data__tags__1", arg(json!("y")), false, vec![1]),
        ("data__has_key", t("plan"), false, vec![1, 2]),
        ("data__a__has_key", t("b"), false, vec![1, 2]),
        ("data__has_key", t("nul"), false, vec![1]),
        ("data__nul", arg(json!(null)), false, vec![1]),
        ("data__nul__isnull", b(false), false, vec![1]),
        ("data__plan__isnull", b(true), false, vec![3, 4]),
        ("data__my-key", arg(json!("v")), false, vec![2]),
        ("data__my key", arg(json!("w")), false, vec![2]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_paths_select_the_same_rows_on_both_backends() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Doc::meta()], false)
            .await
            .unwrap();
        let doc = |name: &str, data| Doc {
            id: 0,
            name: name.into(),
            data,
        };
        let mut rows = vec![
            doc(
                "one",
                Some(json!({"plan": "pro", "n": 3, "ok": true, "a": {"b": 5},
                            "tags": ["x", "y"], "nul": null})),
            ),
            doc(
                "two",
                Some(json!({"plan": "free", "n": 10, "ok": false, "a": {"b": 1},
                            "my-key": "v", "my key": "w"})),
            ),
            doc("three", Some(json!({"n": "3"}))),
            doc("four", None),
        ];
        Doc::insert_many(&pool, &mut rows).await.unwrap();
        for (key, a, exclude, want) in cases() {
            let c = condition(Doc::meta(), key, a).unwrap();
            let mut node = QNode::Leaf(c);
            if exclude {
                node = QNode::Not(Box::new(node));
            }
            let mut mq = chakra::dsl::ModelQuery::new(Doc::meta().clone()).filter(node.lower());
            mq = mq.order_by_name("id").unwrap();
            let stmt = Statement::Select(mq.select_fields(&["id"]).unwrap());
            let got: Vec<i64> = pool
                .fetch(&stmt)
                .await
                .unwrap()
                .iter()
                .map(|r| r[0].as_i64().unwrap())
                .collect();
            assert_eq!(got, want, "{key} (exclude: {exclude}) on {d:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_tests_select_the_same_rows_and_mysql_refuses_containment_by_name() {
    let keys = |v: &[&str]| LookupArg::List(v.iter().map(|k| Value::Text((*k).into())).collect());
    // By hand: 1 has plan, n, a; 2 has plan, n, my key; 3 has n; 4 is NULL. (A top-level
    // array is left out: PostgreSQL's `?&` matches its string elements, SQLite's and MySQL's
    // key tests look at objects only.)
    let cases: Vec<(&str, LookupArg, Vec<i64>)> = vec![
        ("data__has_keys", keys(&["plan", "n"]), vec![1, 2]),
        ("data__has_keys", keys(&["plan", "a"]), vec![1]),
        ("data__has_keys", keys(&["my key"]), vec![2]),
        ("data__has_any_keys", keys(&["a", "my key"]), vec![1, 2]),
        ("data__has_any_keys", keys(&["zzz"]), vec![]),
        ("data__has_any_keys", keys(&["n"]), vec![1, 2, 3]),
    ];
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Doc::meta()], false)
            .await
            .unwrap();
        let doc = |name: &str, data| Doc {
            id: 0,
            name: name.into(),
            data,
        };
        let mut rows = vec![
            doc("one", Some(json!({"plan": "pro", "n": 3, "a": {"b": 5}}))),
            doc("two", Some(json!({"plan": "free", "n": 10, "my key": "w"}))),
            doc("three", Some(json!({"n": "3"}))),
            doc("four", None),
        ];
        Doc::insert_many(&pool, &mut rows).await.unwrap();
        let ids = |node: QNode| {
            let pool = pool.clone();
            async move {
                let mq = chakra::dsl::ModelQuery::new(Doc::meta().clone())
                    .filter(node.lower())
                    .order_by_name("id")
                    .unwrap();
                let stmt = Statement::Select(mq.select_fields(&["id"]).unwrap());
                pool.fetch(&stmt).await.map(|rows| {
                    rows.iter()
                        .map(|r| r[0].as_i64().unwrap())
                        .collect::<Vec<i64>>()
                })
            }
        };
        for (key, arg, want) in cases.clone() {
            let c = condition(Doc::meta(), key, arg).unwrap();
            assert_eq!(ids(QNode::Leaf(c)).await.unwrap(), want, "{key} on {d:?}");
        }
        if d == chakra::Dialect::Mysql {
            let c = condition(
                Doc::meta(),
                "data__contains",
                LookupArg::Scalar(Operand::Value(Value::Json(json!({"n": 3})))),
            )
            .unwrap();
            let e = ids(QNode::Leaf(c)).await.unwrap_err().to_string();
            assert!(e.contains("not yet supported on MySQL"), "{e}");
        }
    }
}

#[test]
fn bad_json_lookups_are_named_errors() {
    let m = Doc::meta();
    // A JSON lookup on a field that is not JSON.
    assert!(matches!(
        condition(m, "name__plan", arg(json!("x"))),
        Err(Error::UnknownLookup { .. })
    ));
    // Ordering a boolean, comparing objects, a bad key.
    assert!(matches!(
        condition(m, "data__ok__gt", arg(json!(true))),
        Err(Error::BadValue { .. })
    ));
    assert!(matches!(
        condition(m, "data__a", arg(json!({"b": 1}))),
        Err(Error::BadValue { .. })
    ));
    assert!(matches!(
        condition(m, "data__a.b", arg(json!(1))),
        Err(Error::UnknownLookup { .. })
    ));
    assert!(matches!(
        condition(m, "data__has_key", arg(json!(1))),
        Err(Error::BadValue { .. })
    ));
}
