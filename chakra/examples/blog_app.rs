//! The example app in Rust: the models of `migrations/` (users, profiles, posts, comments,
//! tags), each checked at compile time against the top-level `schema.rs` that
//! `chakra migrate schema` generates from the migrations alone.
//!
//! - `cargo run -p chakra --example blog_app -- migrate …` is the `chakra` CLI with these
//!   models registered (`migrate make` diffs them against the migrations).
//! - `cargo run -p chakra --example blog_app -- demo` writes a user, a profile, posts, a
//!   comment and tags, then reads them back with their relations.
//! - `cargo run -p chakra --example blog_app -- show` prints every user with their posts.

use chakra::prelude::*;
use chrono::{DateTime, Utc};

#[path = "../../schema.rs"]
mod schema;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users", app = "users", schema = crate::schema::users)]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 50, unique)]
    pub username: String,
    #[chakra(max_length = 255, default = "")]
    pub email: String,
    #[chakra(default = "now()")]
    pub created_at: DateTime<Utc>,
    #[chakra(default = true)]
    pub is_active: bool,
    #[chakra(default = 0)]
    pub balance: i64,
    #[chakra(relation = OneToMany, foreign_key = "author_id")]
    pub posts: Related<Vec<Post>>,
    #[chakra(relation = OneToOne, foreign_key = "user_id")]
    pub profile: Related<Option<Profile>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "profiles", app = "profiles", schema = crate::schema::profiles)]
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
#[chakra(table = "posts", app = "posts", schema = crate::schema::posts)]
pub struct Post {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    #[chakra(max_length = 200)]
    pub title: String,
    #[chakra(relation = ForeignKey, foreign_key = "author_id", on_delete = Cascade)]
    pub author: Related<User>,
    #[chakra(relation = OneToMany, foreign_key = "post_id")]
    pub comments: Related<Vec<Comment>>,
    #[chakra(relation = ManyToMany, through = "posts_tags")]
    pub tags: Related<Vec<Tag>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "comments", app = "comments", schema = crate::schema::comments)]
pub struct Comment {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub post_id: i64,
    pub author_id: i64,
    pub body: String,
    #[chakra(default = "now()")]
    pub created_at: DateTime<Utc>,
    #[chakra(relation = ForeignKey, foreign_key = "post_id", on_delete = Cascade)]
    pub post: Related<Post>,
    #[chakra(relation = ForeignKey, foreign_key = "author_id", on_delete = Cascade)]
    pub author: Related<User>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "tags", app = "tags", schema = crate::schema::tags)]
pub struct Tag {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 50, unique)]
    pub name: String,
    #[chakra(relation = ManyToMany, through = "posts_tags")]
    pub posts: Related<Vec<Post>>,
}

async fn demo(pool: &Pool) -> chakra::Result<()> {
    let mut user = User {
        id: 0,
        username: "rustacean".into(),
        email: "rust@example.com".into(),
        balance: 100,
        ..Default::default()
    };
    user.save(pool).await?;
    let mut profile = Profile {
        id: 0,
        user_id: user.id,
        bio: "written from Rust".into(),
        ..Default::default()
    };
    profile.save(pool).await?;
    let mut posts = vec![
        Post {
            id: 0,
            author_id: user.id,
            title: "Migrations shared by Rust and Python".into(),
            ..Default::default()
        },
        Post {
            id: 0,
            author_id: user.id,
            title: "Relationships".into(),
            ..Default::default()
        },
    ];
    Post::insert_many(pool, &mut posts).await?;
    let mut comment = Comment {
        id: 0,
        post_id: posts[0].id,
        author_id: user.id,
        body: "first!".into(),
        ..Default::default()
    };
    comment.save(pool).await?;
    let mut tags = vec![
        Tag {
            id: 0,
            name: "rust".into(),
            ..Default::default()
        },
        Tag {
            id: 0,
            name: "orm".into(),
            ..Default::default()
        },
    ];
    Tag::insert_many(pool, &mut tags).await?;
    posts[0]
        .add_related(pool, Post::tags(), &[&tags[0], &tags[1]])
        .await?;
    println!(
        "Rust wrote user {} with 2 posts, a comment and 2 tags",
        user.id
    );
    show(pool).await
}

async fn show(pool: &Pool) -> chakra::Result<()> {
    let users = User::query()
        .select_related(User::profile())
        .prefetch_related(User::posts().then(Post::comments()))
        .prefetch_related(User::posts().then(Post::tags()))
        .order_by(User::id().asc())
        .all(pool)
        .await?;
    for u in &users {
        let bio = u.profile.get()?.as_ref().map(|p| p.bio.as_str());
        println!("{} <{}> profile: {bio:?}", u.username, u.email);
        for p in u.posts.get()? {
            let tags: Vec<&str> = p.tags.get()?.iter().map(|t| t.name.as_str()).collect();
            println!(
                "  {:?} tags {tags:?}, {} comment(s)",
                p.title,
                p.comments.get()?.len()
            );
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some(cmd @ ("demo" | "show")) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let result = rt.block_on(async {
                let pool = Pool::connect_default().await?;
                if cmd == "demo" {
                    demo(&pool).await
                } else {
                    show(&pool).await
                }
            });
            match result {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        _ => chakra::cli::run(),
    }
}
