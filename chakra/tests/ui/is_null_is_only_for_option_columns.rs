use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub username: String,
    pub nickname: Option<String>,
}

fn main() {
    // Fine: `nickname` is an Option column.
    let _ = User::query().filter(User::nickname().is_null());
    // Not fine: `username` can never be NULL.
    let _ = User::query().filter(User::username().is_null());
}
