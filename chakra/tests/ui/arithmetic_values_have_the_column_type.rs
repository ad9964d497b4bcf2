use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "products")]
pub struct Product {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub stock: i32,
}

fn main() {
    let _ = Product::stock() - "2";
}
