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
    #[chakra(relation = ForeignKey, foreign_key = "author_id")]
    pub author: Related<User>,
}

fn main() {
    // An expression over users annotating a query over posts.
    let _ = Post::query().annotate(User::posts().count());
}
