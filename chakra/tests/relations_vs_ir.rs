//! Filters across relations, two front doors: each case is written as the Python front
//! door's keyword arguments (`posts__title__contains="a"`, parsed by
//! `chakra_dsl::lookup::across`, what `chakra._chakra` calls) and with the Rust typed DSL
//! (`User::posts().any(Post::title().contains("a"))`). Both must build the same IR, compile
//! to the same SQL and select the same rows on SQLite and PostgreSQL.
//!
//! The cases are written to `tests/front_doors/relations.json` for the Python package's
//! test (`python-ext/tests/test_front_doors.py`). Regenerate with
//! `CHAKRA_BLESS=1 cargo test -p chakra --test relations_vs_ir`.

mod blog;
mod common;

use blog::{blog, seed, Comment, Post, Profile, Tag, User};
use chakra::dsl::lookup::{across, condition, LookupArg, Operand, QNode};
use chakra::dsl::{Error as DslError, ModelMeta, ModelQuery};
use chakra::prelude::*;
use chakra::{compile, Dialect};
use common::ALL3;
use serde_json::{json, Value as J};
use std::sync::Arc;

/// A case: the model queried, the keyword arguments, exclude or filter, the typed
/// condition, and the usernames / post titles it selects.
struct Case {
    name: &'static str,
    model: &'static str,
    kwargs: J,
    exclude: bool,
    typed: Expr,
    expect: Vec<&'static str>,
}

fn models() -> Vec<Arc<ModelMeta>> {
    [
        User::meta(),
        Profile::meta(),
        Post::meta(),
        Comment::meta(),
        Tag::meta(),
    ]
    .into_iter()
    .cloned()
    .collect()
}

fn cases() -> Vec<Case> {
    fn user(q: Query<User>) -> Expr {
        q.model_query().filter.clone().unwrap()
    }
    fn post(q: Query<Post>) -> Expr {
        q.model_query().filter.clone().unwrap()
    }
    let c = |name, model, kwargs, exclude, typed, expect: &[&'static str]| Case {
        name,
        model,
        kwargs,
        exclude,
        typed,
        expect: expect.to_vec(),
    };
    vec![
        c(
            "forward",
            "Post",
            json!([["author__username__startswith", "a"]]),
            false,
            post(Post::query().filter(Post::author().any(User::username().starts_with("a")))),
            &["a1", "a2"],
        ),
        c(
            "reverse_once_per_row",
            "User",
            json!([["posts__title__contains", "a"]]),
            false,
            user(User::query().filter(User::posts().any(Post::title().contains("a")))),
            &["alice"],
        ),
        c(
            "reverse_exclude",
            "User",
            json!([["posts__title__contains", "a"]]),
            true,
            user(User::query().exclude(User::posts().any(Post::title().contains("a")))),
            &["bob", "carol"],
        ),
        c(
            "reverse_isnull",
            "User",
            json!([["posts__isnull", true]]),
            false,
            user(User::query().filter(User::posts().is_empty())),
            &["carol"],
        ),
        c(
            "reverse_not_isnull",
            "User",
            json!([["posts__isnull", false]]),
            false,
            user(User::query().filter(User::posts().exists())),
            &["alice", "bob"],
        ),
        c(
            "many_to_many",
            "Post",
            json!([["tags__name", "python"]]),
            false,
            post(Post::query().filter(Post::tags().any(Tag::name().eq("python")))),
            &["a1"],
        ),
        c(
            "nested",
            "User",
            json!([["posts__tags__name", "python"]]),
            false,
            user(
                User::query().filter(User::posts().any(Post::tags().any(Tag::name().eq("python")))),
            ),
            &["alice"],
        ),
        c(
            "same_related_row",
            "User",
            json!([["posts__title", "a2"], ["posts__comments__body", "nice"]]),
            false,
            user(
                User::query().filter(
                    User::posts().any(
                        Post::title()
                            .eq("a2")
                            .and(Post::comments().any(Comment::body().eq("nice"))),
                    ),
                ),
            ),
            &[],
        ),
        c(
            "key_itself",
            "Post",
            json!([["author", 2]]),
            false,
            post(Post::query().filter(Post::author_id().eq(2))),
            &["b1"],
        ),
        c(
            "nullable_key_isnull",
            "Post",
            json!([["editor__isnull", true]]),
            false,
            post(Post::query().filter(Post::editor_id().is_null())),
            &["a1", "a2"],
        ),
        c(
            "reverse_one_to_one",
            "User",
            json!([["profile__bio", "hi"]]),
            false,
            user(User::query().filter(User::profile().any(Profile::bio().eq("hi")))),
            &["alice"],
        ),
        c(
            "through_the_same_table",
            "Post",
            json!([["author__posts__title", "b1"]]),
            false,
            post(
                Post::query().filter(Post::author().any(User::posts().any(Post::title().eq("b1")))),
            ),
            &["b1"],
        ),
    ]
}

fn value(j: &J) -> Value {
    match j {
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::I64(n.as_i64().expect("integer")),
        J::String(s) => Value::Text(s.clone()),
        other => panic!("unsupported {other}"),
    }
}

fn from_lookups(c: &Case) -> Expr {
    let all = models();
    let meta = all.iter().find(|m| m.name == c.model).unwrap().clone();
    let mut nodes = Vec::new();
    for pair in c.kwargs.as_array().unwrap() {
        let (k, v) = (pair[0].as_str().unwrap(), &pair[1]);
        let node = across::<DslError>(
            &all,
            &meta,
            k,
            |m, key| {
                condition(m, key, LookupArg::Scalar(Operand::Value(value(v)))).map(QNode::Leaf)
            },
            || Ok(v.as_bool().unwrap()),
        )
        .unwrap();
        nodes.push(node);
    }
    let mut node = QNode::And(nodes);
    if c.exclude {
        node = QNode::Not(Box::new(node));
    }
    node.lower()
}

fn select_pks(model: &str, filter: Expr) -> Statement {
    let meta = models().into_iter().find(|m| m.name == model).unwrap();
    let mq = ModelQuery::new(meta).filter(filter);
    let id = mq.column("id").unwrap();
    Statement::Select(mq.order_by(id, false).select_fields(&["id"]).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relation_lookups_and_typed_dsl_build_the_same_query() {
    let mut golden = Vec::new();
    for c in cases() {
        let lookups = from_lookups(&c);
        assert_eq!(lookups, c.typed, "{}: IR differs", c.name);
        let pg = compile(&select_pks(c.model, c.typed.clone()), Dialect::Postgres).unwrap();
        let lite = compile(&select_pks(c.model, c.typed.clone()), Dialect::Sqlite).unwrap();
        golden.push(json!({
            "name": c.name,
            "model": c.model,
            "kwargs": c.kwargs,
            "exclude": c.exclude,
            "expect": c.expect,
            "postgres": pg.sql(),
            "sqlite": lite.sql(),
        }));
    }
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        seed(&pool).await;
        for c in cases() {
            let rows = pool
                .fetch(&select_pks(c.model, c.typed.clone()))
                .await
                .unwrap();
            let ids: Vec<i64> = rows.iter().map(|r| r[0].as_i64().unwrap()).collect();
            let got: Vec<String> = if c.model == "User" {
                let mut v = Vec::new();
                for id in ids {
                    v.push(User::get(&pool, id).await.unwrap().username);
                }
                v
            } else {
                let mut v = Vec::new();
                for id in ids {
                    v.push(Post::get(&pool, id).await.unwrap().title);
                }
                v
            };
            assert_eq!(got, c.expect, "{} on {d:?}", c.name);
        }
    }
    common::golden::check(
        "relations.json",
        &serde_json::Value::from(golden),
        "relations_vs_ir",
    );
}
