//! A room per dialect: everything that differs between the databases Chakra runs on lives
//! in the dialect's folder ([`sqlite`], [`postgres`]); the code outside keeps the
//! dialect-free logic and calls into them.

pub mod postgres;
pub mod sqlite;
