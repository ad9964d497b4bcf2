//! Prefetch levels and `select_related` rows read by the generated row readers (issue 20),
//! on SQLite, PostgreSQL and MariaDB, through a pool, a transaction, a session's `Tx`, a
//! `Database`, a `Scope` and its routed pool: rows stored by hand-written SQL come back as the objects written here in plain
//! Rust (NULL foreign keys as `None`, empty levels as empty lists, a row shared by several
//! parents copied with its own loaded relations), and as the same objects the `Value`-row
//! path the Python door uses builds from the same plan. A prefetched or joined table whose
//! column type drifted is a `Decode` error naming the model and field (or the join table's
//! key column). Relations to composite-key models are refused by name
//! (`composite_key_relations.rs`), so no prefetch or join runs over a composite key.

mod blog;
mod common;

use blog::{blog, Comment, Post, Profile, Tag, User};
use chakra::databases::Databases;
use chakra::prelude::*;
use common::ALL3;

/// alice (1, profile), bob (2), carol (3, nothing); posts 10 "a1" and 11 "a2" by alice (11
/// edited by bob), 12 "b1" by bob edited by alice; comments on 10 (two) and 12; tags rust
/// and python on 10, rust on 11, "unused" on nothing.
async fn hand_written(pool: &Pool) {
    for sql in [
        "INSERT INTO users (id, username) VALUES (1, 'alice'), (2, 'bob'), (3, 'carol')",
        "INSERT INTO profiles (id, user_id, bio) VALUES (1, 1, 'hi')",
        "INSERT INTO posts (id, author_id, editor_id, title) VALUES \
         (10, 1, NULL, 'a1'), (11, 1, 2, 'a2'), (12, 2, 1, 'b1')",
        "INSERT INTO comments (id, post_id, commenter_id, body) VALUES \
         (100, 10, 2, 'nice'), (101, 10, 3, 'ok'), (102, 12, 1, 'yes')",
        "INSERT INTO tags (id, name) VALUES (1000, 'rust'), (1001, 'python'), (1002, 'unused')",
    ] {
        pool.batch_execute(sql).await.unwrap();
    }
    let posts = Post::query()
        .order_by(Post::id().asc())
        .all(pool)
        .await
        .unwrap();
    let tags = Tag::query()
        .order_by(Tag::id().asc())
        .all(pool)
        .await
        .unwrap();
    posts[0]
        .add_related(pool, Post::tags(), &[&tags[0], &tags[1]])
        .await
        .unwrap();
    posts[1]
        .add_related(pool, Post::tags(), &[&tags[0]])
        .await
        .unwrap();
}

/// The same query's objects through the `Value`-row path (`chakra::load`, the Python
/// door's), for comparison.
async fn by_values<M: Model>(pool: &Pool, q: &Query<M>) -> Vec<M> {
    let plan = q.load_plan().unwrap();
    let mut exec = pool;
    let loaded = chakra::load::run(&mut exec, &plan).await.unwrap();
    chakra::model::RelatedRows::root(loaded)
        .build_all::<M>()
        .unwrap()
}

/// Runs `q` both ways; the typed objects, after checking both print the same.
async fn both<M: Model + std::fmt::Debug>(pool: &Pool, q: Query<M>, d: chakra::Dialect) -> Vec<M> {
    let typed = q.clone().all(pool).await.unwrap();
    let values = by_values(pool, &q).await;
    assert_eq!(format!("{typed:?}"), format!("{values:?}"), "{d:?}");
    typed
}

fn titles(posts: &[Post]) -> Vec<(i64, &str)> {
    posts.iter().map(|p| (p.id, p.title.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_prefetch_gives_the_rows_sql_stored() {
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        hand_written(&pool).await;

        // Nested levels, a nullable foreign key, a many-to-many, an empty level (carol).
        let q = User::query()
            .prefetch_related(User::posts().then(Post::comments()))
            .prefetch_related(User::posts().then(Post::tags()))
            .prefetch_related(User::posts().then(Post::editor()))
            .order_by(User::id().asc());
        let users = both(&pool, q, d).await;
        assert_eq!(users.len(), 3, "{d:?}");
        let alice = users[0].posts.get().unwrap();
        assert_eq!(titles(alice), [(10, "a1"), (11, "a2")], "{d:?}");
        let c: Vec<(i64, i64, &str)> = alice[0]
            .comments
            .get()
            .unwrap()
            .iter()
            .map(|c| (c.id, c.commenter_id, c.body.as_str()))
            .collect();
        assert_eq!(c, [(100, 2, "nice"), (101, 3, "ok")], "{d:?}");
        assert!(alice[1].comments.get().unwrap().is_empty(), "{d:?}");
        let t: Vec<&str> = alice[0]
            .tags
            .get()
            .unwrap()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(t, ["rust", "python"], "{d:?}");
        assert_eq!(alice[0].editor_id, None, "{d:?}");
        assert!(alice[0].editor.get().unwrap().is_none(), "{d:?}: NULL key");
        let ed = alice[1].editor.get().unwrap().as_ref().unwrap();
        assert_eq!((ed.id, ed.username.as_str()), (2, "bob"), "{d:?}");
        // Not asked for stays unloaded on the prefetched objects.
        assert!(ed.posts.get().is_err(), "{d:?}");
        let bob = users[1].posts.get().unwrap();
        assert_eq!(titles(bob), [(12, "b1")], "{d:?}");
        assert!(bob[0].tags.get().unwrap().is_empty(), "{d:?}");
        assert!(users[2].posts.get().unwrap().is_empty(), "{d:?}: carol");

        // A foreign key shared by several parents: each post gets its own copy of alice,
        // with her profile (a level under the shared rows) copied too.
        let q = Post::query()
            .prefetch_related(Post::author().then(User::profile()))
            .order_by(Post::id().asc());
        let posts = both(&pool, q, d).await;
        for (p, (author, bio)) in
            posts
                .iter()
                .zip([("alice", Some("hi")), ("alice", Some("hi")), ("bob", None)])
        {
            let a = p.author.get().unwrap();
            assert_eq!(a.username, author, "{d:?}");
            let profile = a.profile.get().unwrap().as_ref();
            assert_eq!(profile.map(|p| p.bio.as_str()), bio, "{d:?}");
        }

        // The other side of the many-to-many: post 10 under two tags, with its author; a
        // tag with no post has an empty list.
        let q = Tag::query()
            .prefetch_related(Tag::posts().then(Post::author()))
            .order_by(Tag::id().asc());
        let tags = both(&pool, q, d).await;
        let per_tag: Vec<Vec<(i64, &str)>> = tags
            .iter()
            .map(|t| titles(t.posts.get().unwrap()))
            .collect();
        assert_eq!(
            per_tag,
            [vec![(10, "a1"), (11, "a2")], vec![(10, "a1")], vec![]],
            "{d:?}"
        );
        assert_eq!(
            tags[1].posts.get().unwrap()[0]
                .author
                .get()
                .unwrap()
                .username,
            "alice",
            "{d:?}"
        );

        // No parents: no level runs, nothing fails.
        let q = User::query()
            .filter(User::id().eq(999))
            .prefetch_related(User::posts().then(Post::comments()));
        assert!(both(&pool, q, d).await.is_empty(), "{d:?}");
        // Parents without children: the level below has no keys.
        let q = User::query()
            .filter(User::id().eq(3))
            .prefetch_related(User::posts().then(Post::comments()));
        let carol = both(&pool, q, d).await;
        assert!(carol[0].posts.get().unwrap().is_empty(), "{d:?}");

        // A filtered prefetch, and prefetch levels under a select_related join.
        let q = User::query()
            .prefetch_filtered(
                User::posts(),
                Post::query()
                    .filter(Post::title().ne("a1"))
                    .order_by(Post::title().desc()),
            )
            .order_by(User::id().asc());
        let users = both(&pool, q, d).await;
        assert_eq!(titles(users[0].posts.get().unwrap()), [(11, "a2")], "{d:?}");
        let q = Comment::query()
            .select_related(Comment::post())
            .prefetch_related(Comment::post().then(Post::tags()))
            .order_by(Comment::id().asc());
        let comments = both(&pool, q, d).await;
        let p = comments[0].post.get().unwrap();
        assert_eq!((p.id, p.tags.get().unwrap().len()), (10, 2), "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_select_related_gives_the_rows_sql_stored() {
    for d in ALL3 {
        let (db, pool) = blog(d).await;
        hand_written(&pool).await;

        // A required key (INNER), a nullable one (LEFT), and a reverse one-to-one below the
        // required one (LEFT from there on).
        let q = Post::query()
            .select_related(Post::author().then_one(User::profile()))
            .select_related(Post::editor())
            .order_by(Post::id().asc());
        let posts = both(&pool, q.clone(), d).await;
        let got: Vec<(i64, &str, Option<&str>, Option<&str>)> = posts
            .iter()
            .map(|p| {
                let a = p.author.get().unwrap();
                (
                    p.id,
                    a.username.as_str(),
                    a.profile.get().unwrap().as_ref().map(|pr| pr.bio.as_str()),
                    p.editor
                        .get()
                        .unwrap()
                        .as_ref()
                        .map(|e| e.username.as_str()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (10, "alice", Some("hi"), None),
                (11, "alice", Some("hi"), Some("bob")),
                (12, "bob", None, Some("alice")),
            ],
            "{d:?}"
        );
        assert!(posts[0].comments.get().is_err(), "{d:?}: not asked for");

        // The reverse side: carol and bob have no profile.
        let q = User::query()
            .select_related(User::profile())
            .order_by(User::id().asc());
        let users = both(&pool, q, d).await;
        let bios: Vec<Option<(i64, &str)>> = users
            .iter()
            .map(|u| {
                u.profile
                    .get()
                    .unwrap()
                    .as_ref()
                    .map(|p| (p.user_id, p.bio.as_str()))
            })
            .collect();
        assert_eq!(bios, [Some((1, "hi")), None, None], "{d:?}");

        // A joined model's own prefetch, and a filter with no rows.
        let q = Profile::query()
            .select_related(Profile::user())
            .prefetch_related(Profile::user().then(User::posts()));
        let profiles = both(&pool, q, d).await;
        let u = profiles[0].user.get().unwrap();
        assert_eq!(titles(u.posts.get().unwrap()), [(10, "a1"), (11, "a2")]);
        let q = Post::query()
            .filter(Post::id().eq(999))
            .select_related(Post::author());
        assert!(both(&pool, q, d).await.is_empty(), "{d:?}");

        // In a transaction, through a `Database` and a `Scope`: the same objects.
        let want = format!("{posts:?}");
        let q = Post::query()
            .select_related(Post::author().then_one(User::profile()))
            .select_related(Post::editor())
            .prefetch_related(Post::comments())
            .order_by(Post::id().asc());
        let with_comments = format!("{:?}", q.clone().all(&pool).await.unwrap());
        let mut tx = pool.begin().await.unwrap();
        let in_tx = Post::query()
            .select_related(Post::author().then_one(User::profile()))
            .select_related(Post::editor())
            .order_by(Post::id().asc())
            .all(&mut tx)
            .await
            .unwrap();
        assert_eq!(format!("{in_tx:?}"), want, "{d:?}");
        assert_eq!(
            format!("{:?}", q.clone().all(&mut tx).await.unwrap()),
            with_comments,
            "{d:?}"
        );
        tx.rollback().await.unwrap();
        // A session's transaction (`&Tx`).
        let session = Session::new(&pool);
        let in_session = session
            .transaction(|tx| {
                let q = q.clone();
                async move { q.all(&tx).await }
            })
            .await
            .unwrap();
        assert_eq!(format!("{in_session:?}"), with_comments, "{d:?}");
        let dbs = Databases::builder()
            .database("default", &db.url)
            .connect()
            .await
            .unwrap();
        let database = dbs.get("default").unwrap();
        let through_db = q.clone().all(database).await.unwrap();
        assert_eq!(format!("{through_db:?}"), with_comments, "{d:?}");
        let scope = database.scope();
        let through_scope = q.clone().all(&scope).await.unwrap();
        assert_eq!(format!("{through_scope:?}"), with_comments, "{d:?}");
        let routed = scope.routed_pool();
        let through_routed = q.all(&routed).await.unwrap();
        assert_eq!(format!("{through_routed:?}"), with_comments, "{d:?}");
        let one = Post::get(&scope, 12).await.unwrap();
        assert_eq!((one.id, one.title.as_str()), (12, "b1"), "{d:?}");
    }
}

fn assert_named(e: &chakra::Error, column: &str, words: &[&str]) {
    let msg = e.to_string();
    assert!(
        matches!(e, chakra::Error::Decode { column: c, .. } if c == column),
        "{msg}"
    );
    for w in words {
        assert!(msg.contains(w), "{w:?} not in {msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drifted_column_in_a_prefetched_table_is_named_on_postgres() {
    // Tables made by hand: posts.title an integer, post_tags.post_id a numeric.
    let db = common::TestDb::postgres().await;
    let pool = db.pool().await;
    pool.batch_execute(
        "CREATE TABLE users (id bigint PRIMARY KEY, username text NOT NULL); \
         CREATE TABLE posts (id bigint PRIMARY KEY, author_id bigint NOT NULL, \
           editor_id bigint, title integer NOT NULL); \
         CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL); \
         CREATE TABLE post_tags (post_id numeric NOT NULL, tag_id bigint NOT NULL); \
         INSERT INTO users VALUES (1, 'alice'); \
         INSERT INTO posts VALUES (10, 1, NULL, 5); \
         INSERT INTO tags VALUES (1000, 'rust'); \
         INSERT INTO post_tags VALUES (10, 1000);",
    )
    .await
    .unwrap();
    let e = User::query()
        .prefetch_related(User::posts())
        .all(&pool)
        .await
        .unwrap_err();
    assert_named(&e, "Post.title", &["Post.title", "integer"]);

    pool.batch_execute("ALTER TABLE posts ALTER COLUMN title TYPE text")
        .await
        .unwrap();
    let e = Post::query()
        .prefetch_related(Post::tags())
        .all(&pool)
        .await
        .unwrap_err();
    assert_named(&e, "post_tags.post_id", &["post_tags.post_id", "numeric"]);

    // A joined model's column: users.username an integer.
    pool.batch_execute(
        "ALTER TABLE users ALTER COLUMN username TYPE integer USING 7;          CREATE TABLE profiles (id bigint PRIMARY KEY, user_id bigint NOT NULL, bio text NOT NULL)",
    )
    .await
    .unwrap();
    let e = Post::query()
        .select_related(Post::author())
        .all(&pool)
        .await
        .unwrap_err();
    assert_named(&e, "User.username", &["User.username", "integer"]);
    let e = Profile::query()
        .select_related(Profile::user())
        .prefetch_related(Profile::user().then(User::posts()))
        .all(&pool)
        .await;
    assert!(e.unwrap().is_empty(), "no profile, no user read");
}
