use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key)]
    pub id: i64,
    #[chakra(max_length = 20)]
    pub country: String,
    #[chakra(max_length = 20)]
    pub name: String,
}

fn main() {
    // `name` is neither grouped nor aggregated: it cannot be selected.
    let _ = User::query()
        .group_by(User::country())
        .aggregate(User::name());
}
