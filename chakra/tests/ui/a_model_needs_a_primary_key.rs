use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    pub id: i64,
    pub username: String,
}

fn main() {}
