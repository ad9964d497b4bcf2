use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub username: String,
}

fn main() {
    let _ = User::query().values_statement((lower(User::id()),));
}
