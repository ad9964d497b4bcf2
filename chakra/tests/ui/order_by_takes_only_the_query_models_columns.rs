use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Debug, Clone, Model)]
pub struct Post {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
}

fn main() {
    let _ = User::query().order_by(Post::id().desc());
}
