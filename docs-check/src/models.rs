//! The models the documentation's examples use, the same tables as
//! `python-ext/tests/docs_models.py` (the Python side of the docs check).

use bigdecimal::BigDecimal;
use chakra::prelude::*;
use chrono::{DateTime, NaiveDate, Utc};

/// The seed's `User`, with the `is_active` and `balance` its examples use.
#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    /// Key.
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    /// Unique login name.
    #[chakra(max_length = 50, unique)]
    pub username: String,
    /// Mail address.
    #[chakra(max_length = 255)]
    pub email: String,
    /// When the row was made.
    #[chakra(default = "now()")]
    pub created_at: DateTime<Utc>,
    /// Whether the account is in use.
    #[chakra(default = true)]
    pub is_active: bool,
    /// Money, in whole units (the seed's transfer example).
    #[chakra(default = 0)]
    pub balance: i64,
    /// The user's posts.
    #[chakra(relation = OneToMany, foreign_key = "author_id")]
    pub posts: Related<Vec<Post>>,
    /// The user's profile, if any (the key is on `Profile`).
    #[chakra(relation = OneToOne, foreign_key = "user_id")]
    pub profile: Related<Option<Profile>>,
}

/// One per user at most.
#[derive(Debug, Clone, Model)]
#[chakra(table = "profiles")]
pub struct Profile {
    /// Key.
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    /// The user's key.
    pub user_id: i64,
    /// Free text.
    #[chakra(max_length = 200)]
    pub bio: String,
    /// The user.
    #[chakra(relation = OneToOne, foreign_key = "user_id", on_delete = Cascade)]
    pub user: Related<User>,
}

/// A post: an author, maybe an editor, tags.
#[derive(Debug, Clone, Model)]
#[chakra(table = "posts")]
pub struct Post {
    /// Key.
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    /// The author's key.
    #[chakra(index)]
    pub author_id: i64,
    /// The editor's key, if any.
    pub editor_id: Option<i64>,
    /// Title.
    #[chakra(max_length = 200)]
    pub title: String,
    /// The author (deleting a user deletes their posts).
    #[chakra(
        relation = ForeignKey,
        foreign_key = "author_id",
        back_populates = "posts",
        on_delete = Cascade
    )]
    pub author: Related<User>,
    /// The editor (deleting that user leaves the post without one).
    #[chakra(relation = ForeignKey, foreign_key = "editor_id", on_delete = SetNull)]
    pub editor: Related<Option<User>>,
    /// Tags, through `post_tags`.
    #[chakra(relation = ManyToMany, through = "post_tags")]
    pub tags: Related<Vec<Tag>>,
}

/// A tag on posts.
#[derive(Debug, Clone, Model)]
#[chakra(table = "tags")]
pub struct Tag {
    /// Key.
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    /// Unique name.
    #[chakra(max_length = 40, unique)]
    pub name: String,
    /// The posts with this tag.
    #[chakra(relation = ManyToMany, through = "post_tags")]
    pub posts: Related<Vec<Post>>,
}

/// A bank account (the aggregate examples).
#[derive(Debug, Clone, Model)]
#[chakra(table = "accounts")]
pub struct Account {
    /// Key.
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    /// Two-letter country code.
    #[chakra(max_length = 2)]
    pub country: String,
    /// Money, exact.
    #[chakra(precision = 12, scale = 2)]
    pub balance: BigDecimal,
    /// Whether the account is open.
    #[chakra(default = true)]
    pub active: bool,
    /// The day it was opened.
    pub opened: NaiveDate,
}

/// A row with text, a number, JSON and an array (the expression and JSON examples).
#[derive(Debug, Clone, Model)]
#[chakra(table = "things")]
pub struct Thing {
    /// Key.
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    /// Name.
    #[chakra(max_length = 100)]
    pub name: String,
    /// Optional nickname.
    #[chakra(max_length = 100)]
    pub nick: Option<String>,
    /// A number.
    pub n: Option<i64>,
    /// A JSON document.
    pub data: serde_json::Value,
    /// Labels.
    pub tags: Vec<String>,
}

/// A sensor reading (the `DISTINCT ON` example).
#[derive(Debug, Clone, Model)]
#[chakra(table = "readings")]
pub struct Reading {
    /// Key.
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    /// Which sensor.
    #[chakra(max_length = 40)]
    pub sensor: String,
    /// When.
    pub taken_at: DateTime<Utc>,
    /// What it read.
    pub value: f64,
}

/// A member, unique by email (the upsert examples).
#[derive(Debug, Clone, Model)]
#[chakra(table = "members")]
pub struct Member {
    /// Key.
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    /// Unique mail address.
    #[chakra(max_length = 255, unique)]
    pub email: String,
    /// Display name.
    #[chakra(max_length = 100)]
    pub name: String,
    /// How often they came.
    #[chakra(default = 0)]
    pub visits: i64,
}
