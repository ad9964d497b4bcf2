use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(default = "now()")]
    pub name: String,
}

fn main() {}
