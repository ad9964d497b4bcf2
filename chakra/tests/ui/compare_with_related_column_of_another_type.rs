use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub username: String,
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
    // An i64 column compared with a related row's text column.
    let _ = Post::query().filter(Post::id().gt(Post::author().value(User::username())));
}
