//! [`Sqlite`]: SQLite's SQL hooks.

use super::values;
use crate::dialect::SqlHooks;
use chakra_dsl::{Value, ValueType};

/// SQLite 3.35+ (the unit type its hooks are implemented on).
#[derive(Debug, Clone, Copy)]
pub struct Sqlite;

impl SqlHooks for Sqlite {
    fn title(&self) -> &'static str {
        "SQLite"
    }

    fn max_binds(&self) -> usize {
        32_766
    }

    fn to_storage(&self, v: Value) -> Value {
        values::to_storage(v)
    }

    fn bool_literal(&self, b: bool) -> &'static str {
        if b {
            "1"
        } else {
            "0"
        }
    }

    /// SQLite takes no parentheses around a member, and gives the operators equal
    /// precedence (left to right already).
    fn parenthesised_compound_members(&self) -> bool {
        false
    }

    /// Decimals are stored as text and datetimes in several written forms.
    fn stored_order_differs(&self, ty: &ValueType) -> bool {
        matches!(ty, ValueType::Decimal | ValueType::DateTime)
    }
}
