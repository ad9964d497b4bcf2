use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(ordering = "-created, name")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub name: String,
}

fn main() {}
