//! [`SqlHooks`]: what differs between dialects in the SQL the compilers write, as small
//! methods whose default body is the standard-SQL form; each dialect's room implements it
//! for its unit type and overrides only where it differs. [`Dialect::sql`] hands out the
//! `&'static` implementation, so a call costs one indirect call and allocates nothing.

use super::{postgres, sqlite, Dialect};
use chakra_dsl::{Value, ValueType};

/// The per-dialect hooks of the SQL compilers (`crate::sql`).
pub trait SqlHooks: Sync {
    /// The database's name as written in messages (`SQLite`, `PostgreSQL`).
    fn title(&self) -> &'static str;

    /// Appends the placeholder of bind `n` (1-based) to `out`: `?` in standard SQL.
    fn placeholder(&self, out: &mut String, n: usize) {
        let _ = n;
        out.push('?');
    }

    /// The most bind parameters one statement may carry.
    fn max_binds(&self) -> usize;

    /// A canonical value in the form this backend stores and binds it: unchanged by default.
    fn to_storage(&self, v: Value) -> Value {
        v
    }

    /// A boolean as an SQL literal (DDL takes no parameters): `TRUE`/`FALSE`.
    fn bool_literal(&self, b: bool) -> &'static str {
        if b {
            "TRUE"
        } else {
            "FALSE"
        }
    }

    /// Whether the members of a compound select (`UNION`, …) are written in parentheses
    /// (and the left side nested, so `INTERSECT` binds as written): true in standard SQL.
    fn parenthesised_compound_members(&self) -> bool {
        true
    }

    /// Whether sorting the stored column of type `ty` directly would not order its values
    /// (SQLite's text decimals and datetimes): false by default.
    fn stored_order_differs(&self, ty: &ValueType) -> bool {
        let _ = ty;
        false
    }
}

impl Dialect {
    /// The dialect's SQL hooks (a `&'static` table: no allocation per call).
    #[inline]
    pub fn sql(self) -> &'static dyn SqlHooks {
        match self {
            Dialect::Postgres => &postgres::Postgres,
            Dialect::Sqlite => &sqlite::Sqlite,
        }
    }
}
