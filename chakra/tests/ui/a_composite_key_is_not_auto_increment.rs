use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "memberships")]
pub struct Membership {
    #[chakra(primary_key, auto_increment)]
    pub team_id: i64,
    #[chakra(primary_key)]
    pub user_id: i64,
}

fn main() {}
