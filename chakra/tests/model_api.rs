//! The model-level API on both backends: `get`, `save` (insert and update), `delete`,
//! `insert_many`, and the query terminals `first`, `one`, `count`, `exists`, `update`,
//! `delete`.

mod common;
mod fixtures;

use chakra::prelude::*;
use common::TARGETS_MYSQL;
use fixtures::{seeded, user, Post, User};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_inserts_then_updates() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let mut u = user("alice");
        u.save(&pool).await.unwrap();
        assert_eq!(u.id, 1, "{d:?}");
        u.email = "new@example.com".into();
        u.balance = 42;
        u.save(&pool).await.unwrap();
        assert_eq!(u.id, 1, "an update keeps the key");
        let got = User::get(&pool, 1).await.unwrap();
        assert_eq!(
            (got.email.as_str(), got.balance),
            ("new@example.com", 42),
            "{d:?}"
        );
        assert_eq!(User::query().count(&pool).await.unwrap(), 1);
        // A key that no row has: save inserts it with that key.
        let mut v = user("victor");
        v.id = 50;
        v.save(&pool).await.unwrap();
        assert_eq!(
            User::get(&pool, 50).await.unwrap().username,
            "victor",
            "{d:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_by_primary_key() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let mut u = user("alice");
        u.save(&pool).await.unwrap();
        u.delete(&pool).await.unwrap();
        assert!(!User::query().exists(&pool).await.unwrap(), "{d:?}");
        let err = u.delete(&pool).await.unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{d:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_many_writes_keys_back_in_order() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let mut users: Vec<User> = (0..250).map(|i| user(&format!("u{i:03}"))).collect();
        User::insert_many(&pool, &mut users).await.unwrap();
        for (i, u) in users.iter().enumerate() {
            assert_eq!(u.id, i as i64 + 1, "{d:?}");
            let stored = User::get(&pool, u.id).await.unwrap();
            assert_eq!(stored.username, u.username);
        }
        let mut posts: Vec<Post> = users
            .iter()
            .take(3)
            .map(|u| Post {
                id: 0,
                author_id: u.id,
                title: format!("by {}", u.username),
                author: Default::default(),
            })
            .collect();
        Post::insert_many(&pool, &mut posts).await.unwrap();
        assert_eq!(posts[2].id, 3);
        User::insert_many(&pool, &mut []).await.unwrap();
    }
}

/// `insert_all`: no RETURNING, nothing written back, the count returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_all_returns_the_count_and_writes_nothing_back() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let users: Vec<User> = (0..1200).map(|i| user(&format!("n{i:04}"))).collect();
        assert_eq!(
            User::insert_all(&pool, &users).await.unwrap(),
            1200,
            "{d:?}"
        );
        assert!(users.iter().all(|u| u.id == 0));
        assert_eq!(User::query().count(&pool).await.unwrap(), 1200, "{d:?}");
        assert_eq!(User::insert_all(&pool, &[]).await.unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_one_count_exists_update_delete() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let mut users = vec![user("ann"), user("bea"), user("cy")];
        User::insert_many(&pool, &mut users).await.unwrap();
        let by_name = |n: &'static str| User::query().filter(User::username().eq(n));
        assert_eq!(by_name("bea").one(&pool).await.unwrap().id, 2);
        let none = by_name("zed").one(&pool).await.unwrap_err();
        assert!(matches!(none, Error::NotFound { .. }), "{d:?}: {none}");
        let many = User::query().one(&pool).await.unwrap_err();
        assert!(
            matches!(many, Error::MultipleObjectsReturned { count: 3, .. }),
            "{d:?}: {many}"
        );
        assert!(by_name("zed").first(&pool).await.unwrap().is_none());
        let first = User::query()
            .order_by(User::username().desc())
            .first(&pool)
            .await
            .unwrap();
        assert_eq!(first.unwrap().username, "cy");
        assert_eq!(User::query().count(&pool).await.unwrap(), 3);
        assert_eq!(
            User::query().limit(2).count(&pool).await.unwrap(),
            2,
            "{d:?}"
        );
        assert!(by_name("ann").exists(&pool).await.unwrap());
        let n = User::query()
            .filter(User::username().ne("ann"))
            .update()
            .set(User::is_active(), false)
            .set(User::balance(), 7)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 2);
        let inactive = User::query()
            .filter(!User::is_active())
            .filter(User::balance().eq(7))
            .count(&pool)
            .await
            .unwrap();
        assert_eq!(inactive, 2, "{d:?}");
        // A sliced update touches only the chosen rows.
        let n = User::query()
            .order_by(User::id().desc())
            .limit(1)
            .update()
            .set(User::balance(), 100)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(User::get(&pool, 3).await.unwrap().balance, 100, "{d:?}");
        let err = User::query().update().execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("sets nothing"), "{err}");
        assert_eq!(by_name("ann").delete(&pool).await.unwrap(), 1);
        assert_eq!(User::query().count(&pool).await.unwrap(), 2, "{d:?}");
    }
}
