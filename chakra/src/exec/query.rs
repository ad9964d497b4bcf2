//! [`DynQuery`]: a compiled statement as a diesel query node. Diesel writes the placeholders
//! and caches the prepared statement keyed on SQL text and bind types. How each backend
//! binds a value is in its room (`dialect::<d>::binds`).

use crate::sql::CompiledQuery;
use diesel::query_builder::{Query, QueryId};
use diesel::sql_types::Untyped;

/// A compiled statement borrowed as a diesel query. `walk_ast` is pure: diesel runs it
/// several times per execution (SQL text, binds, cache key).
pub struct DynQuery<'a>(pub &'a CompiledQuery);

impl QueryId for DynQuery<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for DynQuery<'_> {
    type SqlType = Untyped;
}

/// Diesel's synchronous `load`/`execute`, for SQLite connections run inline.
impl<C> diesel::RunQueryDsl<C> for DynQuery<'_> {}
