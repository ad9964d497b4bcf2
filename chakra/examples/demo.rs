//! The README's demo: the seed's Rust examples (model, queries, session, transaction) on the
//! default database (`CHAKRA_DATABASE_URL`, else `chakra.toml`, else `sqlite://chakra.db`).

use chakra::prelude::*;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,

    #[chakra(max_length = 50, unique)]
    pub username: String,

    #[chakra(max_length = 255)]
    pub email: String,

    #[chakra(default = "now()")]
    pub created_at: DateTime<Utc>,

    #[chakra(default = true)]
    pub is_active: bool,

    #[chakra(default = 0)]
    pub balance: i64,

    // Relationships
    #[chakra(relation = OneToMany, foreign_key = "author_id")]
    pub posts: Related<Vec<Post>>,

    #[chakra(relation = OneToOne, foreign_key = "user_id")]
    pub profile: Related<Option<Profile>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "profiles")]
pub struct Profile {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub user_id: i64,
    #[chakra(max_length = 200)]
    pub bio: String,
    #[chakra(relation = OneToOne, foreign_key = "user_id", on_delete = Cascade)]
    pub user: Related<User>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "posts")]
pub struct Post {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    #[chakra(max_length = 200)]
    pub title: String,
    #[chakra(relation = ForeignKey, foreign_key = "author_id", on_delete = Cascade)]
    pub author: Related<User>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> chakra::Result<()> {
    let pool = Pool::connect_default().await?;
    println!("connected: {:?}", pool.dialect());
    let models = [User::meta(), Profile::meta(), Post::meta()];
    chakra::schema::drop_tables(&pool, &models).await?;
    chakra::schema::create_tables(&pool, &models, false).await?;

    // Creating records
    let session = Session::new(&pool);
    let mut alice = User {
        id: 0,
        username: "alice".into(),
        email: "alice@example.com".into(),
        balance: 500,
        ..Default::default()
    };
    let mut albert = User {
        username: "albert".into(),
        email: "albert@example.com".into(),
        ..Default::default()
    };
    session.add(&mut alice);
    session.add(&mut albert);
    session.commit().await?;
    println!("Created users with IDs: {} and {}", alice.id, albert.id);

    // Basic queries
    let user = User::get(&pool, 1).await?;
    println!(
        "get(1): {} <{}> created {}",
        user.username, user.email, user.created_at
    );
    let users = User::query()
        .filter(User::username().starts_with("al"))
        .filter(User::is_active().eq(true))
        .order_by(User::username().asc())
        .all(&pool)
        .await?;
    println!(
        "active users starting with \"al\": {:?}",
        users.iter().map(|u| &u.username).collect::<Vec<_>>()
    );
    let count = User::query()
        .filter(User::is_active().eq(true))
        .count(&pool)
        .await?;
    println!("active users: {count}");

    // Transactions: the balance transfer of the seed.
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
    let balances: Vec<(String, i64)> = User::query()
        .order_by(User::id().asc())
        .all(&pool)
        .await?
        .into_iter()
        .map(|u| (u.username, u.balance))
        .collect();
    println!("after the transfer: {balances:?}");

    // Relationships: posts and a profile, loaded eagerly.
    let mut posts = vec![
        Post {
            id: 0,
            author_id: alice.id,
            title: "Hello from Rust".into(),
            ..Default::default()
        },
        Post {
            id: 0,
            author_id: alice.id,
            title: "Relationships".into(),
            ..Default::default()
        },
    ];
    Post::insert_many(&pool, &mut posts).await?;
    let mut profile = Profile {
        id: 0,
        user_id: albert.id,
        bio: "writes Python".into(),
        ..Default::default()
    };
    profile.save(&pool).await?;

    // Eager loading with JOIN
    let users = User::query()
        .select_related(User::profile())
        .order_by(User::id().asc())
        .all(&pool)
        .await?;
    for user in &users {
        match user.profile.get()? {
            Some(p) => println!("{}: profile {:?}", user.username, p.bio),
            None => println!("{}: no profile", user.username),
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
        }
    }

    // Filtering across a relation: users with a post whose title contains "Rust".
    let writers = User::query()
        .filter(User::posts().any(Post::title().contains("Rust")))
        .all(&pool)
        .await?;
    println!(
        "wrote about Rust: {:?}",
        writers.iter().map(|u| &u.username).collect::<Vec<_>>()
    );

    // A post pointing at no user is refused by the foreign key.
    let mut orphan = Post {
        id: 0,
        author_id: 999,
        title: "orphan".into(),
        ..Default::default()
    };
    if let Err(e) = orphan.save(&pool).await {
        println!("orphan post rejected: {e}");
    }

    // Bad input is an error that names what is wrong, and writes nothing.
    let mut dup = User {
        username: "alice".into(),
        email: "again@example.com".into(),
        ..Default::default()
    };
    match dup.save(&pool).await {
        Err(e) => println!("duplicate username rejected: {e}"),
        Ok(()) => println!("unexpected: duplicate accepted"),
    }
    Ok(())
}
