// An expression index lists Chakra expressions (a field, or lower/upper/length of one), read
// when the model compiles: anything else is an error at the attribute.
use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "people")]
#[chakra(index(name = "people_name_trim", expressions = "trim(name)"))]
pub struct Person {
    #[chakra(primary_key)]
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "pets")]
#[chakra(unique(name = "pets_name_sql", expressions = "lower(name) || 'x'"))]
pub struct Pet {
    #[chakra(primary_key)]
    pub id: i64,
    pub name: String,
}

fn main() {}
