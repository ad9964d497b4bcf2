//! A blog: users with an optional profile, posts (author required, editor optional),
//! comments, and tags on posts through `post_tags`.
#![allow(dead_code)]

use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 50, unique)]
    pub username: String,
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
    pub editor_id: Option<i64>,
    #[chakra(max_length = 200)]
    pub title: String,
    #[chakra(relation = ForeignKey, foreign_key = "author_id", on_delete = Cascade)]
    pub author: Related<User>,
    #[chakra(relation = ForeignKey, foreign_key = "editor_id", on_delete = SetNull)]
    pub editor: Related<Option<User>>,
    #[chakra(relation = OneToMany, foreign_key = "post_id")]
    pub comments: Related<Vec<Comment>>,
    #[chakra(relation = ManyToMany, through = "post_tags")]
    pub tags: Related<Vec<Tag>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "comments")]
pub struct Comment {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub post_id: i64,
    /// Who wrote it: a user with comments cannot be deleted (RESTRICT).
    pub commenter_id: i64,
    pub body: String,
    #[chakra(relation = ForeignKey, foreign_key = "post_id", on_delete = Cascade)]
    pub post: Related<Post>,
    #[chakra(relation = ForeignKey, foreign_key = "commenter_id", on_delete = Restrict)]
    pub commenter: Related<User>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "tags")]
pub struct Tag {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40, unique)]
    pub name: String,
    #[chakra(relation = ManyToMany, through = "post_tags")]
    pub posts: Related<Vec<Post>>,
}

/// The blog's tables on a fresh database.
pub async fn blog(d: chakra::Dialect) -> (crate::common::TestDb, Pool) {
    let db = crate::common::TestDb::new(d).await;
    let pool = db.pool().await;
    chakra::schema::create_tables(
        &pool,
        &[
            User::meta(),
            Profile::meta(),
            Post::meta(),
            Comment::meta(),
            Tag::meta(),
        ],
        false,
    )
    .await
    .unwrap();
    (db, pool)
}

pub fn user(name: &str) -> User {
    User {
        id: 0,
        username: name.into(),
        ..Default::default()
    }
}

pub fn post(author: &User, title: &str) -> Post {
    Post {
        id: 0,
        author_id: author.id,
        editor_id: None,
        title: title.into(),
        ..Default::default()
    }
}

pub fn comment(post: &Post, by: &User, body: &str) -> Comment {
    Comment {
        id: 0,
        post_id: post.id,
        commenter_id: by.id,
        body: body.into(),
        ..Default::default()
    }
}

/// alice (profile, posts "a1" "a2" tagged rust/python, one comment by bob on a1), bob (no
/// profile, post "b1" edited by alice), carol (nothing).
pub async fn seed(pool: &Pool) -> (Vec<User>, Vec<Post>, Vec<Tag>) {
    let mut users = vec![user("alice"), user("bob"), user("carol")];
    User::insert_many(pool, &mut users).await.unwrap();
    let mut p = Profile {
        id: 0,
        user_id: users[0].id,
        bio: "hi".into(),
        ..Default::default()
    };
    p.save(pool).await.unwrap();
    let mut posts = vec![
        post(&users[0], "a1"),
        post(&users[0], "a2"),
        post(&users[1], "b1"),
    ];
    posts[2].editor_id = Some(users[0].id);
    Post::insert_many(pool, &mut posts).await.unwrap();
    let mut c = comment(&posts[0], &users[1], "nice");
    c.save(pool).await.unwrap();
    let mut tags = vec![
        Tag {
            id: 0,
            name: "rust".into(),
            ..Default::default()
        },
        Tag {
            id: 0,
            name: "python".into(),
            ..Default::default()
        },
    ];
    Tag::insert_many(pool, &mut tags).await.unwrap();
    posts[0]
        .add_related(pool, Post::tags(), &[&tags[0], &tags[1]])
        .await
        .unwrap();
    posts[1]
        .add_related(pool, Post::tags(), &[&tags[0]])
        .await
        .unwrap();
    (users, posts, tags)
}
