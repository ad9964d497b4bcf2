//! `Session::commit` batches the new rows of one model into one INSERT and writes the
//! generated keys back in the order the models were added; keyed saves run together
//! (pipelined UPDATEs) in the order added; deletes and rows of related models keep the order
//! they were added in. Statements are counted from the
//! process-wide statement listener, so everything runs in one test function.

mod blog;
mod common;

use blog::{blog, post, user, Post, Tag, User};
use chakra::exec::log::{set_listener, StatementRecord};
use chakra::prelude::*;
use common::BOTH;
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<String>>>;

/// The statements run since the last call whose text starts with `INSERT`, `UPDATE` or
/// `DELETE` (transaction control left out), failed ones marked `FAILED `.
fn writes(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
        .into_iter()
        .filter(|s| {
            let s = s.strip_prefix("FAILED ").unwrap_or(s);
            s.starts_with("INSERT") || s.starts_with("UPDATE") || s.starts_with("DELETE")
        })
        .collect()
}

fn tag(name: &str) -> Tag {
    Tag {
        id: 0,
        name: name.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_commit_batches_new_rows_per_model() {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    set_listener(
        Some(Arc::new(move |r: StatementRecord| {
            // A failed statement is logged too, marked here so tests can say which failed.
            let mark = if r.error.is_some() { "FAILED " } else { "" };
            sink.lock().unwrap().push(format!("{mark}{}", r.sql))
        })),
        false,
    );
    for d in BOTH {
        let (_db, pool) = blog(d).await;

        // 500 new users: one INSERT, keys written back in the order added.
        let mut users: Vec<User> = (0..500).map(|i| user(&format!("u{i:03}"))).collect();
        let session = Session::new(&pool);
        for u in users.iter_mut() {
            session.add(u);
        }
        session.commit().await.unwrap();
        let w = writes(&log);
        assert_eq!(w.len(), 1, "{d:?}: one INSERT for 500 new rows: {w:?}");
        let stored = User::query()
            .order_by(User::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(stored.len(), 500);
        for (mine, theirs) in users.iter().zip(&stored) {
            assert!(mine.id > 0);
            assert_eq!(
                (mine.id, &mine.username),
                (theirs.id, &theirs.username),
                "{d:?}"
            );
        }

        // Unrelated models interleaved: one INSERT each.
        let mut more: Vec<User> = (0..3).map(|i| user(&format!("v{i}"))).collect();
        let mut tags: Vec<Tag> = (0..3).map(|i| tag(&format!("t{i}"))).collect();
        let session = Session::new(&pool);
        for (u, t) in more.iter_mut().zip(tags.iter_mut()) {
            session.add(u);
            session.add(t);
        }
        session.commit().await.unwrap();
        let w = writes(&log);
        assert_eq!(w.len(), 2, "{d:?}: users and tags, one INSERT each: {w:?}");
        for u in &more {
            let got = User::get(&pool, u.id).await.unwrap();
            assert_eq!(got.username, u.username);
        }
        for t in &tags {
            assert_eq!(Tag::get(&pool, t.id).await.unwrap().name, t.name);
        }
        writes(&log);

        // Related models interleaved keep their order: user, post, user, post.
        let author = users[0].clone();
        let mut a = user("w0");
        let mut p0 = post(&author, "p0");
        let mut b = user("w1");
        let mut p1 = post(&author, "p1");
        let session = Session::new(&pool);
        session.add(&mut a);
        session.add(&mut p0);
        session.add(&mut b);
        session.add(&mut p1);
        session.commit().await.unwrap();
        let w = writes(&log);
        assert_eq!(w.len(), 4, "{d:?}: related rows are not reordered: {w:?}");
        assert!(a.id > 0 && b.id > a.id && p0.id > 0 && p1.id > p0.id);

        // A keyed save and a delete end the batch: insert, update, delete, insert.
        let mut c = user("x0");
        let mut e = user("x1");
        let mut renamed = users[1].clone();
        renamed.username = "renamed".into();
        let gone = users[2].clone();
        let session = Session::new(&pool);
        session.add(&mut c);
        session.add(&mut renamed);
        session.delete(&gone);
        session.add(&mut e);
        session.commit().await.unwrap();
        let w = writes(&log);
        let verbs: Vec<&str> = w.iter().map(|s| &s[..6]).collect();
        // The delete first carries out the models' CASCADE / SET NULL on the rows
        // referencing the user (posts, comments, profiles…), then deletes the user.
        let n = verbs.len();
        assert!(n >= 4, "{d:?}: {w:?}");
        assert_eq!(&verbs[..2], ["INSERT", "UPDATE"], "{d:?}: {w:?}");
        assert!(
            w[n - 2].starts_with("DELETE FROM \"users\""),
            "{d:?}: {w:?}"
        );
        assert!(
            verbs[2..n - 1]
                .iter()
                .all(|v| *v == "DELETE" || *v == "UPDATE"),
            "{d:?}: {w:?}"
        );
        assert_eq!(verbs[n - 1], "INSERT", "{d:?}: {w:?}");
        assert!(c.id > 0 && e.id > c.id);
        assert_eq!(
            User::get(&pool, users[1].id).await.unwrap().username,
            "renamed"
        );

        // A failing batch writes nothing and leaves the models untouched.
        let mut ok = user("y0");
        let mut dup = user("u000");
        let session = Session::new(&pool);
        session.add(&mut ok);
        session.add(&mut dup);
        let err = session.commit().await.unwrap_err();
        assert!(
            matches!(err, chakra::Error::UniqueViolation(_)),
            "{d:?}: {err:?}"
        );
        assert_eq!((ok.id, dup.id), (0, 0));
        assert_eq!(
            User::query()
                .filter(User::username().eq("y0"))
                .count(&pool)
                .await
                .unwrap(),
            0
        );
        writes(&log);

        // Keyed saves one after another: UPDATEs by key, pipelined on PostgreSQL. A save whose
        // row is gone undoes the pipeline (a savepoint) and the run is written one save at a
        // time, the missing row inserted in its place: the rows end as if each save had run
        // alone, in order.
        let mut renames: Vec<User> = users[10..20].to_vec();
        for (i, u) in renames.iter_mut().enumerate() {
            u.username = format!("renamed{i}");
        }
        let mut ghost = user("ghost");
        ghost.id = 900_000;
        // The same row saved twice in one run: the later save wins.
        let mut twice = users[30].clone();
        twice.username = "first".into();
        let mut again = users[30].clone();
        again.username = "second".into();
        let session = Session::new(&pool);
        let (head, tail) = renames.split_at_mut(4);
        for u in head.iter_mut() {
            session.add(u);
        }
        session.add(&mut ghost);
        session.add(&mut twice);
        for u in tail.iter_mut() {
            session.add(u);
        }
        session.add(&mut again);
        session.commit().await.unwrap();
        let w = writes(&log);
        let verbs: Vec<&str> = w.iter().map(|s| &s[..6]).collect();
        // PostgreSQL sends the run's 13 UPDATEs at once, rolls them back, then writes the run
        // one save at a time; SQLite writes one at a time from the start.
        let mut expected = if d == chakra::Dialect::Postgres {
            vec!["UPDATE"; 13]
        } else {
            Vec::new()
        };
        expected.extend(vec!["UPDATE"; 5]);
        expected.push("INSERT");
        expected.extend(vec!["UPDATE"; 8]);
        assert_eq!(verbs, expected, "{d:?}: {w:?}");
        assert_eq!(ghost.id, 900_000);
        assert_eq!(User::get(&pool, 900_000).await.unwrap().username, "ghost");
        for u in &renames {
            assert_eq!(User::get(&pool, u.id).await.unwrap().username, u.username);
        }
        assert_eq!(
            User::get(&pool, users[30].id).await.unwrap().username,
            "second",
            "{d:?}: saves of one row run in the order added"
        );

        // A missing row that the saves after it reference (a foreign key): in the pipeline
        // those UPDATEs fail on the reference, the run is rolled back to its savepoint and
        // written one save at a time, and the commit succeeds, as the saves would one by one.
        let mut owner = user("owner");
        owner.id = 900_001;
        let mut moved: Vec<Post> = (0..4).map(|i| post(&author, &format!("q{i}"))).collect();
        Post::insert_many(&pool, &mut moved).await.unwrap();
        writes(&log);
        for p in moved.iter_mut() {
            p.author_id = 900_001;
        }
        let session = Session::new(&pool);
        session.add(&mut owner);
        for p in moved.iter_mut() {
            session.add(p);
        }
        session.commit().await.unwrap();
        assert_eq!(User::get(&pool, 900_001).await.unwrap().username, "owner");
        for p in &moved {
            assert_eq!(
                Post::get(&pool, p.id).await.unwrap().author_id,
                900_001,
                "{d:?}"
            );
        }
        let w = writes(&log);
        let verbs: Vec<&str> = w
            .iter()
            .map(|s| {
                if s.starts_with("FAILED ") {
                    &s[..13]
                } else {
                    &s[..6]
                }
            })
            .collect();
        // PostgreSQL: the owner's UPDATE (no row), then the first post's fails on the foreign
        // key (logged as failed), the savepoint is rolled back, and the run goes one by one.
        let mut expected = if d == chakra::Dialect::Postgres {
            vec!["UPDATE", "FAILED UPDATE"]
        } else {
            Vec::new()
        };
        expected.extend(["UPDATE", "INSERT", "UPDATE", "UPDATE", "UPDATE", "UPDATE"]);
        assert_eq!(verbs, expected, "{d:?}: {w:?}");

        // A keyed save that fails mid-run (a duplicate username) fails the commit with its
        // own error, not a later statement's, and writes nothing.
        let mut fine = users[40].clone();
        fine.username = "fine".into();
        let mut clash = users[41].clone();
        clash.username = users[42].username.clone();
        let mut after = users[43].clone();
        after.username = "after".into();
        let session = Session::new(&pool);
        session.add(&mut fine);
        session.add(&mut clash);
        session.add(&mut after);
        let err = session.commit().await.unwrap_err();
        assert!(
            matches!(err, chakra::Error::UniqueViolation(_)),
            "{d:?}: {err:?}"
        );
        for i in [40, 41, 43] {
            assert_eq!(
                User::get(&pool, users[i].id).await.unwrap().username,
                users[i].username,
                "{d:?}: nothing of the failed commit stays"
            );
        }
        writes(&log);
    }
    set_listener(None, false);
}
