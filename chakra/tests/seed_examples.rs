//! The Rust examples of `seeds/cross-language-support.md`, written as in the seed, run on
//! SQLite and PostgreSQL, asserting what each example claims.

mod common;
mod fixtures;

use chakra::prelude::*;
use chakra::Dialect;
use common::TARGETS_MYSQL;
use fixtures::{seeded, user, Post, Profile, User};

/// Inserts alice, bob, anna (inactive) and carol with balances 500, 300, 0, 0.
async fn add_users(pool: &Pool) -> Vec<User> {
    let mut users = vec![user("alice"), user("bob"), user("anna"), user("carol")];
    users[0].balance = 500;
    users[1].balance = 300;
    users[2].is_active = false;
    User::insert_many(pool, &mut users).await.unwrap();
    users
}

/// "Model Definition": the struct compiles as written; its `Related<Vec<Post>>` field is not
/// a column and stays unloaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_definition() {
    let meta = User::meta();
    assert_eq!(meta.table, "users");
    let names: Vec<&str> = meta.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "username",
            "email",
            "created_at",
            "is_active",
            "balance"
        ]
    );
    assert_eq!(meta.relations.len(), 2);
    assert_eq!(meta.relations[0].target, "Post");
    assert_eq!(meta.relations[1].target, "Profile");
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        add_users(&pool).await;
        let u = User::get(&pool, 1).await.unwrap();
        let err = u.posts.get().unwrap_err();
        assert!(matches!(err, Error::NotLoaded { .. }), "{d:?}: {err}");
        assert!(err.to_string().contains("not loaded"), "{err}");
        assert!(err.to_string().contains("User.posts"), "{err}");
        assert_eq!(User::posts().name(), "posts");
    }
}

async fn basic_queries(pool: Pool) -> chakra::Result<()> {
    // Get by ID
    let user = User::get(&pool, 1).await?;
    assert_eq!(user.id, 1);
    assert_eq!(user.username, "alice");

    // Filter
    let users = User::query()
        .filter(User::username().starts_with("a"))
        .filter(User::is_active().eq(true))
        .all(&pool)
        .await?;
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["alice"], "anna starts with a but is inactive");

    // Order and limit
    let users = User::query()
        .order_by(User::created_at().desc())
        .limit(10)
        .all(&pool)
        .await?;
    assert_eq!(users.len(), 4);
    assert!(users.windows(2).all(|w| w[0].created_at >= w[1].created_at));

    // Count
    let count = User::query()
        .filter(User::is_active().eq(true))
        .count(&pool)
        .await?;
    assert_eq!(count, 3);
    Ok(())
}

/// "Basic Queries": get by id, filter, order and limit, count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_queries_on_both_backends() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        add_users(&pool).await;
        // Give the users distinct creation times, newest last.
        for (i, id) in [1i64, 2, 3, 4].into_iter().enumerate() {
            let at = chrono::Utc::now() - chrono::Duration::minutes(10 - i as i64);
            User::query()
                .filter(User::id().eq(id))
                .update()
                .set(User::created_at(), at)
                .execute(&pool)
                .await
                .unwrap();
        }
        basic_queries(pool.clone())
            .await
            .unwrap_or_else(|e| panic!("{d:?}: {e}"));
        let newest = User::query()
            .order_by(User::created_at().desc())
            .first(&pool)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(newest.username, "carol", "{d:?}");
        let missing = User::get(&pool, 99).await.unwrap_err();
        assert!(
            matches!(missing, Error::NotFound { .. }),
            "{d:?}: {missing}"
        );
        assert!(missing.to_string().contains("User"), "{missing}");
    }
}

async fn creating_records(pool: Pool) -> chakra::Result<i64> {
    let session = Session::new(&pool);

    let mut user = User {
        id: 0,
        username: "alice".into(),
        email: "alice@example.com".into(),
        ..Default::default()
    };

    session.add(&mut user);
    session.commit().await?;

    println!("Created user with ID: {}", user.id);
    Ok(user.id)
}

/// "Creating Records": the session inserts the user and writes the generated id back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_records_assigns_ids() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let id = creating_records(pool.clone()).await.unwrap();
        assert!(id > 0, "{d:?}: id {id}");
        let stored = User::get(&pool, id).await.unwrap();
        assert_eq!(stored.username, "alice");
        assert_eq!(stored.email, "alice@example.com");
        assert!(stored.is_active, "declared default true");
        assert_eq!(stored.balance, 0);
        let age = chrono::Utc::now() - stored.created_at;
        assert!(
            age.num_seconds().abs() < 60,
            "{d:?}: created_at {}",
            stored.created_at
        );
        // A second user gets the next id.
        let mut bob = user("bob");
        let session = Session::new(&pool);
        session.add(&mut bob);
        session.commit().await.unwrap();
        assert!(bob.id > id, "{d:?}");
    }
}

/// A session dropped without `commit` writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_session_writes_nothing() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        {
            let session = Session::new(&pool);
            let mut u = user("ghost");
            session.add(&mut u);
            assert_eq!(session.pending_len(), 1);
            drop(session);
            assert_eq!(u.id, 0, "nothing was written, so no id came back");
        }
        assert_eq!(User::query().count(&pool).await.unwrap(), 0, "{d:?}");
    }
}

async fn transfer(pool: Pool) -> chakra::Result<()> {
    let session = Session::new(&pool);

    session
        .transaction(|tx| async move {
            let mut user1 = tx.get::<User>(1).await?.unwrap();
            let mut user2 = tx.get::<User>(2).await?.unwrap();

            user1.balance -= 100;
            user2.balance += 100;

            Ok(())
        })
        .await?;
    Ok(())
}

async fn balances(pool: &Pool) -> (i64, i64) {
    let a = User::get(pool, 1).await.unwrap().balance;
    let b = User::get(pool, 2).await.unwrap().balance;
    (a, b)
}

/// "Transactions": the transfer moves 100 from user 1 to user 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_moves_100() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        add_users(&pool).await;
        assert_eq!(balances(&pool).await, (500, 300));
        transfer(pool.clone()).await.unwrap();
        assert_eq!(balances(&pool).await, (400, 400), "{d:?}");
    }
}

/// A transfer whose closure fails after changing both balances moves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_transfer_moves_nothing() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        add_users(&pool).await;
        let session = Session::new(&pool);
        let result: chakra::Result<()> = session
            .transaction(|tx| async move {
                let mut user1 = tx.get::<User>(1).await?.unwrap();
                let mut user2 = tx.get::<User>(2).await?.unwrap();
                user1.balance -= 100;
                user2.balance += 100;
                // A write that did reach the database inside the transaction.
                User::query()
                    .filter(User::id().eq(3))
                    .update()
                    .set(User::balance(), 999)
                    .execute(&tx)
                    .await?;
                Err(Error::InvalidQuery("insufficient funds".into()))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(balances(&pool).await, (500, 300), "{d:?}");
        assert_eq!(User::get(&pool, 3).await.unwrap().balance, 0, "{d:?}");
        assert_eq!(
            pool.status().size,
            pool.status().available,
            "{d:?}: connection returned"
        );
    }
}

/// A transfer whose closure panics moves nothing, and the panic reaches the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_transfer_moves_nothing() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        add_users(&pool).await;
        let p = pool.clone();
        let joined = tokio::spawn(async move {
            let session = Session::new(&p);
            session
                .transaction(|tx| async move {
                    let mut user1 = tx.get::<User>(1).await?.unwrap();
                    user1.balance -= 100;
                    drop(user1);
                    User::query()
                        .filter(User::id().eq(2))
                        .update()
                        .set(User::balance(), 0)
                        .execute(&tx)
                        .await?;
                    if d.dialect() == Dialect::Sqlite
                        || d.dialect() == Dialect::Postgres
                        || d.dialect() == Dialect::Mysql
                    {
                        panic!("boom");
                    }
                    Ok(())
                })
                .await
        })
        .await;
        assert!(joined.unwrap_err().is_panic());
        assert_eq!(balances(&pool).await, (500, 300), "{d:?}");
    }
}

/// The seed's "Relationships" example, as written; returns what it prints.
async fn relationships(pool: Pool) -> chakra::Result<Vec<String>> {
    let mut printed = Vec::new();
    // Eager loading with JOIN
    let users = User::query()
        .select_related(User::profile())
        .all(&pool)
        .await?;
    for user in &users {
        if let Some(p) = user.profile.get()? {
            printed.push(format!("{} has a profile: {}", user.username, p.bio));
        }
    }

    // Eager loading with separate queries
    let users = User::query()
        .prefetch_related(User::posts())
        .all(&pool)
        .await?;

    for user in &users {
        for post in user.posts.get()? {
            println!("{}: {}", user.username, post.title);
            printed.push(format!("{}: {}", user.username, post.title));
        }
    }
    Ok(printed)
}

/// "Relationships": select_related gives each user its profile (or none) in one query,
/// prefetch_related gives each user its posts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relationships_load_profiles_and_posts() {
    for d in TARGETS_MYSQL {
        let (_db, pool) = seeded(d).await;
        let users = add_users(&pool).await;
        let mut profile = Profile {
            id: 0,
            user_id: users[1].id,
            bio: "likes trains".into(),
            ..Default::default()
        };
        profile.save(&pool).await.unwrap();
        let mut posts = vec![
            Post {
                id: 0,
                author_id: users[0].id,
                title: "Hello".into(),
                ..Default::default()
            },
            Post {
                id: 0,
                author_id: users[0].id,
                title: "Again".into(),
                ..Default::default()
            },
            Post {
                id: 0,
                author_id: users[3].id,
                title: "Mine".into(),
                ..Default::default()
            },
        ];
        Post::insert_many(&pool, &mut posts).await.unwrap();
        let printed = relationships(pool.clone())
            .await
            .unwrap_or_else(|e| panic!("{d:?}: {e}"));
        assert_eq!(
            printed,
            [
                "bob has a profile: likes trains",
                "alice: Hello",
                "alice: Again",
                "carol: Mine"
            ],
            "{d:?}"
        );
    }
}
