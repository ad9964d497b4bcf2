//! Subqueries, two front doors: `chakra::exists`, `chakra::in_query`, `Query::subquery` and
//! `eq_outer` (Rust) build the same IR and SQL as the lookup parser given `OuterRef` operands
//! and `chakra_dsl::subquery` (what the Python door's `Exists`, `Subquery`, `OuterRef` and
//! `field__in=qs.values(…)` call), and select the same rows on SQLite and PostgreSQL.

mod blog;
mod common;

use blog::{blog, seed, Post, User};
use chakra::dsl::lookup::{filter_kwargs, LookupArg, Operand};
use chakra::dsl::{Expr, ModelQuery, SelectItem, Statement, ValueType};
use chakra::prelude::*;
use chakra::{compile, Dialect};
use common::ALL3;

/// What the Python door builds for `Post.objects.filter(<key>=OuterRef(<outer>))`.
fn inner_by_names(key: &str, outer: &str) -> ModelQuery {
    let f = filter_kwargs(
        Post::meta(),
        vec![(
            key.to_owned(),
            LookupArg::Scalar(Operand::Expr(Expr::OuterRef(outer.to_owned()))),
        )],
    )
    .unwrap()
    .lower();
    ModelQuery::new(Post::meta().clone()).filter(f)
}

fn users_where(cond: Expr) -> Statement {
    let mq = ModelQuery::new(User::meta().clone()).filter(cond);
    let id = mq.column("id").unwrap();
    Statement::Select(mq.order_by(id, false).select_fields(&["username"]).unwrap())
}

async fn names(pool: &Pool, stmt: &Statement) -> Vec<String> {
    pool.fetch(stmt)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exists_in_query_and_scalar_subqueries_from_both_doors() {
    // EXISTS, correlated.
    let typed =
        chakra::exists::<Post, User>(Post::query().filter(Post::author_id().eq_outer(User::id())))
            .into_ir();
    let by_names =
        chakra::dsl::subquery::exists(inner_by_names("author_id", "pk").select(), User::meta())
            .unwrap();
    assert_eq!(typed, by_names);
    // The same table inside and out: the inner one is aliased.
    let same = chakra::exists::<User, User>(User::query().filter(User::id().lt_outer(User::id())));
    let sql = compile(&users_where(same.clone().into_ir()), Dialect::Postgres)
        .unwrap()
        .sql();
    assert!(
        sql.contains(r#"FROM "users" AS "_sq1" WHERE "_sq1"."id" < "users"."id""#),
        "{sql}"
    );
    // IN (SELECT …).
    let in_typed = chakra::in_query(
        User::id(),
        Post::query().filter(Post::title().ends_with("1")),
        Post::author_id(),
    )
    .into_ir();
    let mut sel = ModelQuery::new(Post::meta().clone())
        .filter(
            filter_kwargs(
                Post::meta(),
                vec![(
                    "title__endswith".into(),
                    LookupArg::Scalar(Operand::Value("1".into())),
                )],
            )
            .unwrap()
            .lower(),
        )
        .select_fields(&["author_id"])
        .unwrap();
    sel.columns = vec![SelectItem::new(
        Expr::col("posts", "author_id", ValueType::I64),
        ValueType::I64,
    )];
    let in_names = filter_kwargs(
        User::meta(),
        vec![(
            "id__in".into(),
            LookupArg::Scalar(Operand::Expr(
                chakra::dsl::subquery::scalar(sel, User::meta()).unwrap(),
            )),
        )],
    )
    .unwrap()
    .lower();
    assert_eq!(in_typed, in_names);
    // A value: each user's latest title.
    let latest = Post::query()
        .filter(Post::author_id().eq_outer(User::id()))
        .order_by(Post::id().desc())
        .limit(1)
        .subquery::<User, _>(Post::title());

    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        seed(&pool).await;
        let with_posts = names(&pool, &users_where(typed.clone())).await;
        assert_eq!(with_posts, ["alice", "bob"], "{d:?}");
        assert_eq!(
            names(&pool, &users_where(by_names.clone())).await,
            with_posts,
            "{d:?}"
        );
        assert_eq!(
            names(&pool, &users_where(typed.clone().not())).await,
            ["carol"],
            "{d:?}"
        );
        assert_eq!(
            names(&pool, &users_where(same.clone().into_ir())).await,
            ["bob", "carol"],
            "{d:?}"
        );
        assert_eq!(
            names(&pool, &users_where(in_typed.clone())).await,
            ["alice", "bob"],
            "{d:?}"
        );
        let mq = ModelQuery::new(User::meta().clone());
        let id = mq.column("id").unwrap();
        let mut sel = mq.order_by(id, false).select_fields(&["username"]).unwrap();
        sel.columns
            .push(SelectItem::new(latest.clone().into_ir(), ValueType::Text));
        let rows = pool.fetch(&Statement::Select(sel)).await.unwrap();
        let got: Vec<(String, Option<String>)> = rows
            .into_iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().to_owned(),
                    r[1].as_str().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("alice".into(), Some("a2".into())),
                ("bob".into(), Some("b1".into())),
                ("carol".into(), None)
            ],
            "{d:?}"
        );
    }
}

/// An `OuterRef` that never found its enclosing query is a named error at compile time.
#[test]
fn an_unresolved_outer_ref_is_named() {
    let e = compile(
        &users_where(
            Expr::col("users", "id", ValueType::I64)
                .cmp(chakra::dsl::CmpOp::Eq, Expr::OuterRef("id".into())),
        ),
        Dialect::Sqlite,
    )
    .unwrap_err();
    assert!(e.to_string().contains("OuterRef(\"id\")"), "{e}");
}

/// The ids a condition selects, in id order: the statement the Python test compiles with
/// `Model.objects.filter(…).order_by("id").values_list("id", flat=True)`.
fn ids_where(meta: &std::sync::Arc<chakra::dsl::ModelMeta>, cond: Expr) -> Statement {
    let mq = ModelQuery::new(meta.clone()).filter(cond);
    let id = mq.column("id").unwrap();
    Statement::Select(mq.order_by(id, false).select_fields(&["id"]).unwrap())
}

/// Subquery cases for the Python door: each written as Python (evaluated by
/// `python-ext/tests/test_front_doors.py` with `Exists`, `OuterRef`, `Subquery`, `User` and
/// `Post` in scope) and with the Rust door, whose SQL is recorded in
/// `tests/front_doors/subqueries.json` (regenerate with
/// `CHAKRA_BLESS=1 cargo test -p chakra --test subqueries`).
#[test]
fn subquery_golden_cases_for_the_python_door() {
    let posts_by_outer = || Post::query().filter(Post::author_id().eq_outer(User::id()));
    let cases: Vec<(&str, &str, Expr)> = vec![
        (
            "exists_correlated",
            r#"User.objects.filter(Exists(Post.objects.filter(author=OuterRef("pk"))))"#,
            chakra::exists::<Post, User>(posts_by_outer()).into_ir(),
        ),
        (
            "not_exists",
            r#"User.objects.filter(~Exists(Post.objects.filter(author=OuterRef("pk"))))"#,
            chakra::exists::<Post, User>(posts_by_outer())
                .into_ir()
                .not(),
        ),
        (
            "exists_same_table",
            r#"User.objects.filter(Exists(User.objects.filter(id__lt=OuterRef("id"))))"#,
            chakra::exists::<User, User>(User::query().filter(User::id().lt_outer(User::id())))
                .into_ir(),
        ),
        (
            "in_queryset",
            r#"User.objects.filter(id__in=Post.objects.filter(title__endswith="1").values("author"))"#,
            chakra::in_query(
                User::id(),
                Post::query().filter(Post::title().ends_with("1")),
                Post::author_id(),
            )
            .into_ir(),
        ),
    ];
    let golden: Vec<serde_json::Value> = cases
        .into_iter()
        .map(|(name, python, cond)| {
            let stmt = ids_where(User::meta(), cond);
            serde_json::json!({
                "name": name,
                "python": python,
                "postgres": compile(&stmt, Dialect::Postgres).unwrap().sql(),
                "sqlite": compile(&stmt, Dialect::Sqlite).unwrap().sql(),
            })
        })
        .collect();
    common::golden::check(
        "subqueries.json",
        &serde_json::Value::from(golden),
        "subqueries",
    );
}
