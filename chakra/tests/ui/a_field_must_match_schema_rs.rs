use chakra::prelude::*;

// As `chakra migrate schema` writes it.
#[allow(non_camel_case_types)]
mod schema {
    pub mod users {
        pub const TABLE: &str = "users";
        pub type id = i64;
        pub type username = ::std::string::String;
        pub type nickname = ::core::option::Option<::std::string::String>;
    }
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "users", schema = crate::schema::users)]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i32,
    pub username: String,
    pub nickname: String,
    pub email: String,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "people", schema = crate::schema::users)]
pub struct Person {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
}

fn main() {}
