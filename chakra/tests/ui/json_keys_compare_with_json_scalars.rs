use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "things")]
pub struct Thing {
    #[chakra(primary_key)]
    pub id: i64,
    pub data: serde_json::Value,
}

fn main() {
    // A JSON key compares with text, a number or a boolean: not a list.
    let _ = Thing::query().filter(Thing::data().key("tags").eq(vec![1, 2]));
}
