use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub username: String,
    #[chakra(relation = OneToMany, foreign_key = "author_id")]
    pub posts: Related<Vec<Post>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "posts")]
pub struct Post {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    #[chakra(relation = ForeignKey, foreign_key = "author_id")]
    pub author: Related<User>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "tags")]
pub struct Tag {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub name: String,
}

fn main() {
    let _ = User::query().select_related(User::posts());
}
