use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "posts")]
pub struct Post {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(relation = ForeignKey, foreign_key = "author_id")]
    pub author: Related<User>,
}

fn main() {}
