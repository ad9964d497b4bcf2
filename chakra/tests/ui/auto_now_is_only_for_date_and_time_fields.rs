use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
pub struct Note {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(auto_now)]
    pub changed: String,
}

fn main() {}
