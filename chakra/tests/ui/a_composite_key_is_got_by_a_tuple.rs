use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "memberships")]
pub struct Membership {
    #[chakra(primary_key)]
    pub team_id: i64,
    #[chakra(primary_key)]
    pub user_id: i64,
}

async fn by_one_value(pool: &Pool) {
    let _ = Membership::get(pool, 1i64).await;
}

fn main() {}
