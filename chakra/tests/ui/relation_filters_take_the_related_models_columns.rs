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
    // A condition over an unrelated model inside a relation filter.
    let _ = User::query().filter(User::posts().any(Tag::name().eq("x")));
    // And a column of a related model used directly, without its relation.
    let _ = Post::query().filter(User::username().eq("x"));
}
