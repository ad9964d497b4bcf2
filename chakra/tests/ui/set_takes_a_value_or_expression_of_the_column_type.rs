use bigdecimal::BigDecimal;
use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "products")]
pub struct Product {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(precision = 10, scale = 2)]
    pub price: BigDecimal,
    pub stock: i32,
}

fn main() {
    // A decimal expression into an integer column.
    let _ = Product::query()
        .update()
        .set(Product::stock(), Product::price() * Product::stock());
}
