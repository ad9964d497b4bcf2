//! The Python front door's lookups (`field__lookup=value`, parsed by `chakra_dsl::lookup`)
//! and IR built directly (as the Rust typed DSL lowers it) are the same expressions, compile
//! to the same SQL and return the same rows, on both backends.

mod common;
use chakra::dsl::lookup::{filter_kwargs, LookupArg, Operand, QNode};
use chakra::dsl::*;
use common::fixtures::*;
use common::*;

fn kw(pairs: &[(&str, LookupArg)]) -> Vec<(String, LookupArg)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn v(x: impl Into<Value>) -> LookupArg {
    LookupArg::Scalar(Operand::Value(x.into()))
}

fn active() -> Expr {
    u("active", ValueType::Bool)
}

/// Lookups as Python passes them, whether they are excluded, the same filter built as IR,
/// and the expected usernames.
type Case = (Vec<(String, LookupArg)>, bool, Expr, Vec<&'static str>);

fn cases() -> Vec<Case> {
    vec![
        (
            kw(&[("username__startswith", v("a")), ("active", v(true))]),
            false,
            Expr::And(vec![
                username().like(LikeKind::StartsWith, "a", false),
                active().eq(Expr::val(true)),
            ]),
            vec!["alice", "albert"],
        ),
        (
            kw(&[("age__gte", v(30i64))]),
            false,
            age().cmp(CmpOp::Ge, Expr::val(30i32)),
            vec!["alice", "carol"],
        ),
        (
            kw(&[("age", v(Value::Null(ValueType::I32)))]),
            false,
            age().is_null(),
            vec!["albert"],
        ),
        (
            kw(&[(
                "id__in",
                LookupArg::List(vec![Value::I64(2), Value::I64(4)]),
            )]),
            false,
            uid().is_in(vec![Value::I64(2), Value::I64(4)]),
            vec!["albert", "carol"],
        ),
        (
            kw(&[("username__icontains", v("L"))]),
            false,
            username().like(LikeKind::Contains, "L", true),
            vec!["alice", "albert", "carol"],
        ),
        // exclude(age=30): the NULL age (albert) is kept, as in Django.
        (
            kw(&[("age", v(30i64))]),
            true,
            Expr::Not(Box::new(Expr::And(vec![
                age().eq(Expr::val(30i32)),
                age().is_not_null(),
            ]))),
            vec!["albert", "bob", "carol"],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_lookups_and_ir_give_same_expr_sql_and_rows() {
    let meta = users_meta();
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        seed(&pool).await;
        for (kwargs, exclude, ir, want) in cases() {
            let mut q = filter_kwargs(&meta, kwargs).unwrap();
            if exclude {
                q = QNode::Not(Box::new(q));
            }
            let from_lookups = q.lower();
            assert_eq!(from_lookups, ir, "{d:?}");
            let a = chakra::compile(&names_where(from_lookups).into(), d).unwrap();
            let b = chakra::compile(&names_where(ir).into(), d).unwrap();
            assert_eq!(a.sql(), b.sql());
            let rows = pool.fetch_compiled(&a).await.unwrap();
            assert_eq!(texts(&rows), want, "{d:?} {}", a.sql());
            assert_eq!(rows, pool.fetch_compiled(&b).await.unwrap());
        }
    }
}

/// The seed's "Filter" + "Order and limit" query. The Python test
/// `python-ext/tests/test_front_doors.py` asserts the same SQL for
/// `User.objects.filter(username__startswith="a", is_active=True)
///  .order_by("-created_at").limit(10)`.
#[test]
fn seed_query_sql_is_shared_with_python() {
    let mut id = FieldMeta::new("id", FieldType::Integer);
    id.primary_key = true;
    id.auto_increment = true;
    let meta = std::sync::Arc::new(ModelMeta {
        name: "User".into(),
        table: "users".into(),
        fields: vec![
            id,
            FieldMeta::new(
                "username",
                FieldType::String {
                    max_length: Some(50),
                },
            ),
            FieldMeta::new(
                "email",
                FieldType::String {
                    max_length: Some(255),
                },
            ),
            FieldMeta::new("created_at", FieldType::DateTime),
            FieldMeta::new("is_active", FieldType::Boolean),
            FieldMeta::new("balance", FieldType::Integer),
        ],
        relations: vec![],
    });
    let col = |c: &str, t| Expr::col("users", c, t);
    let ir = Expr::And(vec![
        col("username", ValueType::Text).like(LikeKind::StartsWith, "a", false),
        col("is_active", ValueType::Bool).eq(Expr::val(true)),
    ]);
    let from_lookups = filter_kwargs(
        &meta,
        kw(&[("username__startswith", v("a")), ("is_active", v(true))]),
    )
    .unwrap()
    .lower();
    assert_eq!(from_lookups, ir);
    let q = ModelQuery::new(meta)
        .filter(ir)
        .order_by_name("-created_at")
        .unwrap()
        .limit(10);
    let sql = chakra::compile(&Statement::Select(q.select()), chakra::Dialect::Postgres)
        .unwrap()
        .sql();
    assert_eq!(sql, SEED_QUERY_PG);
}

const SEED_QUERY_PG: &str = "SELECT \"users\".\"id\", \"users\".\"username\", \"users\".\"email\", \"users\".\"created_at\", \"users\".\"is_active\", \"users\".\"balance\" FROM \"users\" WHERE (\"users\".\"username\" LIKE $1 ESCAPE '\\') AND (\"users\".\"is_active\" = $2) ORDER BY \"users\".\"created_at\" DESC LIMIT $3";
