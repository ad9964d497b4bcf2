//! Relationships from the Rust front door, on SQLite and PostgreSQL: foreign keys in the
//! schema (CASCADE, SET NULL, RESTRICT, orphans refused), `select_related`,
//! `prefetch_related` (nested, many-to-many, filtered), filters across relations, explicit
//! loading, and eager results equal to explicit ones.

mod blog;
mod common;

use blog::{blog, comment, post, seed, user, Comment, Post, Profile, Tag, User};
use chakra::prelude::*;
use common::ALL3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_has_foreign_keys_and_join_table() {
    let tables = chakra::schema::tables_of(&[User::meta(), Post::meta(), Tag::meta()]).unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.table.as_str()).collect();
    assert_eq!(names, ["users", "posts", "tags", "post_tags"]);
    let sql = chakra::sql::ddl::create_tables(&tables, chakra::Dialect::Postgres, false).unwrap();
    let posts = sql
        .iter()
        .find(|s| s.starts_with("CREATE TABLE \"posts\""))
        .unwrap();
    assert!(
        posts.contains(
            "\"author_id\" BIGINT NOT NULL CONSTRAINT \"posts_author_id_fkey\" REFERENCES \"users\" (\"id\") ON DELETE CASCADE"
        ),
        "{posts}"
    );
    assert!(
        posts.contains("REFERENCES \"users\" (\"id\") ON DELETE SET NULL"),
        "{posts}"
    );
    assert!(sql
        .contains(&"CREATE INDEX \"posts_author_id_idx\" ON \"posts\" (\"author_id\")".to_owned()));
    let pt = sql
        .iter()
        .find(|s| s.starts_with("CREATE TABLE \"post_tags\""))
        .unwrap();
    assert!(pt.contains("PRIMARY KEY (\"post_id\", \"tag_id\")"), "{pt}");
    assert!(sql.contains(
        &"CREATE INDEX \"post_tags_tag_id_idx\" ON \"post_tags\" (\"tag_id\")".to_owned()
    ));
    // The profile's key is unique (one profile per user).
    let p = chakra::schema::tables_of(&[User::meta(), Profile::meta()]).unwrap();
    assert!(p[1].field("user_id").unwrap().unique);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_refused_and_deletes_follow_on_delete() {
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        let (users, posts, _) = seed(&pool).await;
        // A post pointing at no user.
        let mut orphan = post(&users[0], "orphan");
        orphan.author_id = 9_999;
        let err = orphan.save(&pool).await.unwrap_err();
        assert!(matches!(err, Error::ForeignKeyViolation(_)), "{d:?}: {err}");
        assert_eq!(Post::query().count(&pool).await.unwrap(), 3, "{d:?}");

        // RESTRICT: bob has a comment, so he cannot be deleted; nothing is.
        let err = users[1].delete(&pool).await.unwrap_err();
        match &err {
            Error::DeleteRestricted(v) => {
                if d == chakra::Dialect::Postgres {
                    assert_eq!(v.constraint.as_deref(), Some("comments_commenter_id_fkey"));
                } else {
                    assert_eq!(v.table.as_deref(), Some("users"), "{v:?}");
                }
            }
            other => panic!("{d:?}: expected DeleteRestricted, got {other}"),
        }
        assert_eq!(User::query().count(&pool).await.unwrap(), 3, "{d:?}");
        assert_eq!(Post::query().count(&pool).await.unwrap(), 3, "{d:?}");

        // SET NULL: deleting alice's... alice wrote a1/a2 (CASCADE) and edited b1 (SET NULL).
        // First remove bob's comment on a1 so only alice's cascade is in play.
        Comment::query().delete(&pool).await.unwrap();
        users[0].delete(&pool).await.unwrap();
        let left = Post::query().all(&pool).await.unwrap();
        assert_eq!(left.len(), 1, "{d:?}: a1 and a2 cascaded");
        assert_eq!(left[0].id, posts[2].id);
        assert_eq!(left[0].editor_id, None, "{d:?}: b1's editor set to NULL");
        // The profile cascaded, the join rows of a1/a2 too.
        assert_eq!(Profile::query().count(&pool).await.unwrap(), 0);
        let tags = Tag::query()
            .prefetch_related(Tag::posts())
            .all(&pool)
            .await
            .unwrap();
        assert!(
            tags.iter().all(|t| t.posts.get().unwrap().is_empty()),
            "{d:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_related_joins_and_gives_none_where_missing() {
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        seed(&pool).await;
        let users = User::query()
            .select_related(User::profile())
            .order_by(User::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(
            users.len(),
            3,
            "{d:?}: a LEFT JOIN keeps users without a profile"
        );
        assert_eq!(users[0].profile.get().unwrap().as_ref().unwrap().bio, "hi");
        assert!(users[1].profile.get().unwrap().is_none());
        // Not loaded stays an error naming the relation.
        let err = users[0].posts.get().unwrap_err();
        assert!(err.to_string().contains("User.posts"), "{err}");

        let posts = Post::query()
            .select_related(Post::author().then_one(User::profile()))
            .select_related(Post::editor())
            .order_by(Post::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(posts.len(), 3);
        let a1 = &posts[0];
        let author = a1.author.get().unwrap();
        assert_eq!(author.username, "alice");
        assert_eq!(author.profile.get().unwrap().as_ref().unwrap().bio, "hi");
        assert!(a1.editor.get().unwrap().is_none());
        let b1 = &posts[2];
        assert_eq!(b1.author.get().unwrap().username, "bob");
        assert!(b1.author.get().unwrap().profile.get().unwrap().is_none());
        assert_eq!(b1.editor.get().unwrap().as_ref().unwrap().username, "alice");

        let plan = Post::query()
            .select_related(Post::author().then_one(User::profile()))
            .load_plan()
            .unwrap();
        let sql = chakra::compile(&Statement::Select(plan.select), d)
            .unwrap()
            .sql();
        assert!(sql.contains("INNER JOIN \"users\" AS \"_s1\""), "{sql}");
        assert!(
            sql.contains("LEFT OUTER JOIN \"profiles\" AS \"_s2\""),
            "{sql}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetch_nested_many_to_many_and_filtered() {
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        let (_, _, tags) = seed(&pool).await;
        let users = User::query()
            .prefetch_related(User::posts().then(Post::comments()))
            .prefetch_related(User::posts().then(Post::tags()))
            .order_by(User::id().asc())
            .all(&pool)
            .await
            .unwrap();
        let alice = &users[0];
        let posts = alice.posts.get().unwrap();
        let titles: Vec<&str> = posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["a1", "a2"], "{d:?}");
        assert_eq!(posts[0].comments.get().unwrap()[0].body, "nice");
        assert!(posts[1].comments.get().unwrap().is_empty());
        let t: Vec<&str> = posts[0]
            .tags
            .get()
            .unwrap()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(t, ["rust", "python"]);
        assert!(users[2].posts.get().unwrap().is_empty(), "carol has none");

        // The other side of the many-to-many shares rows between parents.
        let tg = Tag::query()
            .prefetch_related(Tag::posts())
            .order_by(Tag::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(tg[0].posts.get().unwrap().len(), 2);
        assert_eq!(tg[1].posts.get().unwrap().len(), 1);
        assert_eq!(tg[0].id, tags[0].id);

        // Filtered and ordered.
        let users = User::query()
            .prefetch_filtered(
                User::posts(),
                Post::query()
                    .filter(Post::title().ne("a1"))
                    .order_by(Post::title().desc()),
            )
            .order_by(User::id().asc())
            .all(&pool)
            .await
            .unwrap();
        let titles: Vec<&str> = users[0]
            .posts
            .get()
            .unwrap()
            .iter()
            .map(|p| p.title.as_str())
            .collect();
        assert_eq!(titles, ["a2"]);

        // A prefetched foreign key: parents share one author row.
        let posts = Post::query()
            .prefetch_related(Post::author())
            .prefetch_related(Post::editor())
            .order_by(Post::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(posts[0].author.get().unwrap().username, "alice");
        assert_eq!(posts[1].author.get().unwrap().username, "alice");
        assert!(posts[0].editor.get().unwrap().is_none());
        assert_eq!(
            posts[2].editor.get().unwrap().as_ref().unwrap().username,
            "alice"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_cross_relations() {
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        seed(&pool).await;
        let names = |us: Vec<User>| us.into_iter().map(|u| u.username).collect::<Vec<_>>();
        // Forward.
        let ps = Post::query()
            .filter(Post::author().any(User::username().starts_with("a")))
            .order_by(Post::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(ps.len(), 2, "{d:?}");
        // Reverse: alice has two posts containing "a" but appears once.
        let us = User::query()
            .filter(User::posts().any(Post::title().contains("a")))
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(names(us), ["alice"], "{d:?}");
        // exclude: no post matches.
        let us = User::query()
            .exclude(User::posts().any(Post::title().contains("a")))
            .order_by(User::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(names(us), ["bob", "carol"], "{d:?}");
        // No related row at all.
        let us = User::query()
            .filter(User::posts().is_empty())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(names(us), ["carol"], "{d:?}");
        // Many-to-many, nested.
        let us = User::query()
            .filter(User::posts().any(Post::tags().any(Tag::name().eq("python"))))
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(names(us), ["alice"], "{d:?}");
        // Self-consistent nesting through the same table twice (post → author → posts).
        let ps = Post::query()
            .filter(Post::author().any(User::posts().any(Post::title().eq("b1"))))
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(ps.len(), 1, "{d:?}");
        assert_eq!(ps[0].title, "b1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eager_equals_explicit_and_many_to_many_writes() {
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        let (users, posts, tags) = seed(&pool).await;
        let eager = User::query()
            .prefetch_related(User::posts())
            .order_by(User::id().asc())
            .all(&pool)
            .await
            .unwrap();
        for u in &eager {
            let explicit = u
                .related(User::posts())
                .order_by(Post::id().asc())
                .all(&pool)
                .await
                .unwrap();
            let a: Vec<i64> = u.posts.get().unwrap().iter().map(|p| p.id).collect();
            let b: Vec<i64> = explicit.iter().map(|p| p.id).collect();
            assert_eq!(a, b, "{d:?}: {}", u.username);
        }
        // Adding an existing link is a no-op; remove one; clear.
        let n = posts[0]
            .add_related(&pool, Post::tags(), &[&tags[0], &tags[1]])
            .await
            .unwrap();
        assert_eq!(n, 0, "{d:?}");
        let n = posts[2]
            .add_related(&pool, Post::tags(), &[&tags[1], &tags[1]])
            .await
            .unwrap();
        assert_eq!(n, 1, "{d:?}");
        let n = posts[0]
            .remove_related(&pool, Post::tags(), Some(&[&tags[0]]))
            .await
            .unwrap();
        assert_eq!(n, 1);
        let left = posts[0].related(Post::tags()).all(&pool).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].name, "python");
        posts[0]
            .remove_related(&pool, Post::tags(), None)
            .await
            .unwrap();
        assert_eq!(
            posts[0].related(Post::tags()).count(&pool).await.unwrap(),
            0
        );
        assert_eq!(
            users[0].related(User::posts()).count(&pool).await.unwrap(),
            2
        );
        let _ = comment(&posts[0], &users[0], "x");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetch_over_many_parents_has_no_bind_limit() {
    // SQLite refuses more than 32,766 bound variables per statement (999 in older builds):
    // the parents' keys are one bound value.
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        let mut users: Vec<User> = (0..5_000).map(|i| user(&format!("u{i}"))).collect();
        User::insert_many(&pool, &mut users).await.unwrap();
        let mut posts: Vec<Post> = users.iter().step_by(2).map(|u| post(u, "p")).collect();
        Post::insert_many(&pool, &mut posts).await.unwrap();
        let loaded = User::query()
            .prefetch_related(User::posts())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(loaded.len(), 5_000);
        let with: usize = loaded.iter().map(|u| u.posts.get().unwrap().len()).sum();
        assert_eq!(with, 2_500, "{d:?}");
    }
}

#[test]
fn select_related_of_a_one_to_many_is_refused_at_run_time_by_name() {
    // The typed API refuses it at compile time (tests/ui); the path API refuses by name.
    let q = chakra::dsl::ModelQuery::new(User::meta().clone());
    let spec = chakra::dsl::LoadSpec {
        select_related: vec!["posts".into()],
        prefetch: vec![],
    };
    let err = chakra::dsl::LoadPlan::build(
        &chakra::model::registry::models_with(User::meta()),
        &q,
        &spec,
    )
    .unwrap_err();
    assert!(err.to_string().contains("prefetch_related"), "{err}");
    let spec = chakra::dsl::LoadSpec {
        select_related: vec!["nope".into()],
        prefetch: vec![],
    };
    let err = chakra::dsl::LoadPlan::build(
        &chakra::model::registry::models_with(User::meta()),
        &q,
        &spec,
    )
    .unwrap_err();
    assert!(err.to_string().contains("posts, profile"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_related_fills_one_object() {
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        let (users, posts, _) = seed(&pool).await;
        let mut p = Post::get(&pool, posts[0].id).await.unwrap();
        assert!(p.author.get().is_err());
        p.load_related(&pool, Post::author()).await.unwrap();
        p.load_related(&pool, Post::comments()).await.unwrap();
        assert_eq!(p.author.get().unwrap().username, "alice", "{d:?}");
        assert_eq!(p.comments.get().unwrap().len(), 1);
        let mut u = User::get(&pool, users[0].id).await.unwrap();
        u.load_related(&pool, User::posts().then(Post::tags()))
            .await
            .unwrap();
        let tags: usize = u
            .posts
            .get()
            .unwrap()
            .iter()
            .map(|p| p.tags.get().unwrap().len())
            .sum();
        assert_eq!(tags, 3, "{d:?}");
        // A row deleted meanwhile is NotFound, not an empty relation.
        let mut gone = users[2].clone();
        gone.delete(&pool).await.unwrap();
        let err = gone.load_related(&pool, User::posts()).await.unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
    }
}
