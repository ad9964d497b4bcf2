//! Chakra ORM proc-macros. `#[derive(Model)]` arrives with the Rust front door.
