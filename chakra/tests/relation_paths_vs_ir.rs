//! Relation paths outside filters, two front doors: ordering by a related row's column,
//! per-row aggregates over a relation, and comparisons with the outer row inside a relation
//! filter, written with the Rust typed DSL and described for the Python door (Django's
//! `order_by("author__username")`, `order_by("posts__id")` (joined: a row per post), `annotate(n=Count("posts")).order_by("n")`,
//! `filter(posts__id__gt=F("id"))`), comparisons with a related row's column
//! (`filter(id__gt=F("author__id"))`), grouping across a relation
//! (`values("author__username").annotate(n=Count("id"))`) and `annotate` on a Rust query
//! (`annotate(n=Count("posts"))`). Each compiles to SQL written to
//! `tests/front_doors/relation_paths.json`, which `python-ext/tests/test_front_doors.py`
//! checks the Python package builds too, and selects the rows written here by hand from the
//! blog's seed on SQLite and PostgreSQL. Regenerate with
//! `CHAKRA_BLESS=1 cargo test -p chakra --test relation_paths_vs_ir`.

mod blog;
mod common;

use blog::{blog, seed, Post, Tag, User};
use chakra::prelude::*;
use chakra::{compile, Dialect};
use common::ALL3;
use serde_json::{json, Value as J};

struct Case {
    name: &'static str,
    model: &'static str,
    /// What the Python door writes: `filter_f` ([key, F name]), `annotate` ({name: [function,
    /// path]}), `order_by` (names).
    python: J,
    statement: Statement,
    /// The ids selected, in order (users alice=1, bob=2, carol=3; posts a1=1, a2=2, b1=3
    /// edited by alice); for a grouped case (`values` in `python`), the rows.
    expect: J,
}

fn ids<M: Model>(q: Query<M>) -> Statement {
    Statement::Select(q.model_query().select_fields(&["id"]).unwrap())
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "order_by_forward_relation",
            model: "Post",
            python: json!({"order_by": ["author__username", "id"]}),
            statement: ids(Post::query()
                .order_by(Post::author().value(User::username()).asc())
                .order_by(Post::id().asc())),
            expect: json!([1, 2, 3]),
        },
        Case {
            name: "order_by_nullable_relation",
            model: "Post",
            python: json!({"order_by": ["editor__username", "id"]}),
            statement: ids(Post::query()
                .order_by(Post::editor().value(User::username()).asc())
                .order_by(Post::id().asc())),
            expect: json!([3, 1, 2]),
        },
        Case {
            name: "order_by_relation_count",
            model: "User",
            python: json!({"annotate": {"n": ["Count", "posts"]}, "order_by": ["n", "id"]}),
            statement: ids(User::query()
                .order_by(User::posts().count().asc())
                .order_by(User::id().asc())),
            expect: json!([3, 2, 1]),
        },
        Case {
            name: "order_by_relation_sum",
            model: "User",
            python: json!({"annotate": {"s": ["Sum", "posts__id"]}, "order_by": ["-s", "id"]}),
            statement: ids(User::query()
                .order_by(User::posts().sum(Post::id()).desc())
                .order_by(User::id().asc())),
            expect: json!([3, 1, 2]),
        },
        Case {
            name: "order_by_each_related_row",
            model: "User",
            python: json!({"order_by": ["posts__id", "id"]}),
            statement: ids(User::query()
                .order_by_each(User::posts(), Post::id(), false)
                .unwrap()
                .order_by(User::id().asc())),
            // alice once per post (1, 2), bob (3), carol without posts last (NULL).
            expect: json!([1, 1, 2, 3]),
        },
        Case {
            name: "order_by_each_related_row_desc",
            model: "User",
            python: json!({"order_by": ["-posts__id", "id"]}),
            statement: ids(User::query()
                .order_by_each(User::posts(), Post::id(), true)
                .unwrap()
                .order_by(User::id().asc())),
            expect: json!([3, 2, 1, 1]),
        },
        Case {
            name: "order_by_each_many_to_many_row",
            model: "Post",
            python: json!({"order_by": ["-tags__name", "id"]}),
            statement: ids(Post::query()
                .order_by_each(Post::tags(), Tag::name(), true)
                .unwrap()
                .order_by(Post::id().asc())),
            // b1 has no tag (NULL first), then rust (a1, a2), then python (a1).
            expect: json!([3, 1, 2, 1]),
        },
        Case {
            name: "filter_with_related_column",
            model: "Post",
            python: json!({"filter_f": ["id__gt", "author__id"], "order_by": ["id"]}),
            statement: ids(Post::query()
                .filter(Post::id().gt(Post::author().value(User::id())))
                .order_by(Post::id().asc())),
            // a2 (2 > alice's 1), b1 (3 > bob's 2); a1 (1) is not above alice's 1.
            expect: json!([2, 3]),
        },
        Case {
            name: "filter_with_nullable_related_column",
            model: "Post",
            python: json!({"filter_f": ["title__gt", "editor__username"], "order_by": ["id"]}),
            statement: ids(Post::query()
                .filter(Post::title().gt(Post::editor().value(User::username())))
                .order_by(Post::id().asc())),
            // Only b1 has an editor (alice): "b1" > "alice"; a NULL editor matches nothing.
            expect: json!([3]),
        },
        Case {
            name: "group_by_related_column",
            model: "Post",
            python: json!({
                "values": ["author__username"],
                "annotate": {"n": ["Count", "id"]},
                "order_by": ["author__username"],
            }),
            statement: Post::query()
                .group_by(named(
                    "author__username",
                    Post::author().value(User::username()),
                ))
                .aggregate(count(Post::id()).named("n"))
                .order_by(Post::author().value(User::username()).asc())
                .to_statement()
                .unwrap(),
            // alice wrote a1 and a2, bob b1; carol wrote nothing (no group).
            expect: json!([["alice", 2], ["bob", 1]]),
        },
        Case {
            name: "annotate_relation_count",
            model: "User",
            python: json!({"models": true, "annotate": {"n": ["Count", "posts"]}, "order_by": ["id"]}),
            // The annotated model query, selecting the id and the annotation (the Python
            // door's User has more fields than the blog's).
            statement: Statement::Select(
                User::query()
                    .annotate(named("n", User::posts().count()))
                    .order_by(User::id().asc())
                    .model_query()
                    .unwrap()
                    .select_fields(&["id", "n"])
                    .unwrap(),
            ),
            // [id, n]: alice wrote 2 posts, bob 1, carol none.
            expect: json!([[1, 2], [2, 1], [3, 0]]),
        },
        Case {
            name: "filter_with_outer_row",
            model: "User",
            python: json!({"filter_f": ["posts__id__gt", "id"], "order_by": ["id"]}),
            statement: ids(User::query()
                .filter(User::posts().any(Post::id().gt_outer(User::id())))
                .order_by(User::id().asc())),
            expect: json!([1, 2]),
        },
    ]
}

/// `annotate` returns each model with its typed values, checked against counts made by
/// hand from the seed; several annotations at once, unnamed ones, and filtering/ordering on
/// an annotated expression.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotate_returns_models_with_typed_values() {
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        let (users, posts, _) = seed(&pool).await;
        let rows: Vec<(User, i64)> = User::query()
            .annotate(named("n", User::posts().count()))
            .order_by(User::id().asc())
            .all(&pool)
            .await
            .unwrap();
        let expected: Vec<(String, i64)> = users
            .iter()
            .map(|u| {
                let n = posts.iter().filter(|p| p.author_id == u.id).count() as i64;
                (u.username.clone(), n)
            })
            .collect();
        let got: Vec<(String, i64)> = rows.iter().map(|(u, n)| (u.username.clone(), *n)).collect();
        assert_eq!(got, expected, "{d:?}");

        // Two values per row, unnamed: the author's name (across the relation) and the
        // post's editor's name (NULL for a1 and a2).
        let rows: Vec<(Post, (String, Option<String>))> = Post::query()
            .annotate((
                Post::author().value(User::username()),
                Post::editor().value(User::username()).nullable(),
            ))
            .order_by(Post::id().asc())
            .all(&pool)
            .await
            .unwrap();
        let got: Vec<(String, String, Option<String>)> = rows
            .into_iter()
            .map(|(p, (a, e))| (p.title, a, e))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a1".to_owned(), "alice".to_owned(), None),
                ("a2".to_owned(), "alice".to_owned(), None),
                ("b1".to_owned(), "bob".to_owned(), Some("alice".to_owned())),
            ],
            "{d:?}"
        );

        // Filter and order on the annotated expression.
        let rows: Vec<(User, i64)> = User::query()
            .annotate(named("n", User::posts().count()))
            .filter(User::posts().count().gt(0))
            .order_by(User::posts().count().desc())
            .all(&pool)
            .await
            .unwrap();
        let got: Vec<(&str, i64)> = rows
            .iter()
            .map(|(u, n)| (u.username.as_str(), *n))
            .collect();
        assert_eq!(got, vec![("alice", 2), ("bob", 1)], "{d:?}");

        // A name taken by a field is refused, naming the model and the name.
        let err = User::query()
            .annotate(named("username", User::posts().count()))
            .all(&pool)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("User") && err.contains("username"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relation_paths_from_both_doors() {
    let mut golden = Vec::new();
    for c in cases() {
        golden.push(json!({
            "name": c.name,
            "model": c.model,
            "python": c.python,
            "expect": c.expect,
            "postgres": compile(&c.statement, Dialect::Postgres).unwrap().sql(),
            "sqlite": compile(&c.statement, Dialect::Sqlite).unwrap().sql(),
        }));
    }
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        seed(&pool).await;
        for c in cases() {
            let rows = pool.fetch(&c.statement).await.unwrap();
            let grouped = c.python.get("values").is_some();
            let grouped = grouped || c.python.get("models").is_some();
            let got: Vec<J> = rows
                .iter()
                .map(|r| {
                    let cells: Vec<J> = r
                        .iter()
                        .map(|v| match v.as_i64() {
                            Some(n) => json!(n),
                            None => json!(v.as_str().unwrap()),
                        })
                        .collect();
                    if grouped {
                        json!(cells)
                    } else {
                        cells[0].clone()
                    }
                })
                .collect();
            assert_eq!(J::Array(got), c.expect, "{} on {d:?}", c.name);
        }
    }
    common::golden::check(
        "relation_paths.json",
        &serde_json::Value::from(golden),
        "relation_paths_vs_ir",
    );
}
