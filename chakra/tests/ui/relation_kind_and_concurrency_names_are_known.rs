use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "authors")]
pub struct Author {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(relation = OneToFew, foreign_key = "author_id")]
    pub books: Related<Vec<Book>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "books")]
pub struct Book {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    #[chakra(version, unchecked)]
    pub edition: i64,
}

fn main() {}
