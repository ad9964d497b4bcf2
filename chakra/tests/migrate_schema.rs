//! `chakra migrate schema`: the committed `migrate_schema_seed.rs` is what the generator writes
//! for the seed migration, and it compiles; a model's field types unify with its column types
//! (the compile-time check a derive can emit per field).

#[path = "migrate_schema_seed.rs"]
mod schema;

use chakra::migrate::schema_rs::schema_rs;
use chakra::migrate::{parse_migration, State};

/// `users.username` holds a `String`, `users.id` an `i64`: these only compile if so.
const _: fn(schema::users::id) -> i64 = |x| x;
const _: fn(schema::users::username) -> String = |x| x;

#[test]
fn the_committed_schema_is_what_the_generator_writes() {
    let seed = include_str!("../../migrations/users/0001_initial.toml");
    let state = State::replay([&parse_migration(seed, "seed").unwrap()]).unwrap();
    assert_eq!(schema_rs(&state), include_str!("migrate_schema_seed.rs"));
    assert_eq!(schema::users::TABLE, "users");
}
