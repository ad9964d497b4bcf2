//! The `field[__transform…][__lookup]` parser shared by every front door: Python keyword
//! arguments (`username__startswith="a"`) and the Rust string form
//! ([`condition`]`(&meta, "pub_date__year__gt", 2005.into())`) become the same IR [`Expr`].
//!
//! Steps, each failing before any SQL exists:
//! 1. [`parse`]: resolve the key against the model ([`ParsedLookup`]): unknown fields,
//!    lookups and transforms are errors naming the model, the bad part and the choices.
//! 2. The front door converts its value to the [`ArgShape`] the lookup asks for.
//! 3. [`ParsedLookup::build`]: check the value's type and build a [`Condition`].
//! 4. [`QNode`]: AND / OR / NOT trees of conditions, lowered with Django's NULL semantics.
//!
//! Relation traversal (`author__username`) is recognised and refused for now; the parser
//! resolves one part at a time so a later step can walk into the related model.
//!
//! [`Expr`]: crate::ir::Expr

mod build;
mod kinds;
mod parse;
mod q;
#[cfg(test)]
mod tests;

pub use build::{coerce_value, nullable_columns, Condition, LookupArg, Operand};
pub use kinds::{choices_for, Lookup, Transform, ALL_LOOKUPS, ALL_TRANSFORMS};
pub use parse::{parse, resolve_field, ArgShape, ParsedLookup};
pub use q::QNode;

use crate::error::Result;
use crate::meta::ModelMeta;

/// Parses `key` against `meta` and builds its condition from `arg` in one step.
pub fn condition(meta: &ModelMeta, key: &str, arg: impl Into<LookupArg>) -> Result<Condition> {
    parse(meta, key)?.build(arg.into())
}

/// A `filter(**kwargs)` call: every lookup ANDed (in the order given).
pub fn filter_kwargs(meta: &ModelMeta, kwargs: Vec<(String, LookupArg)>) -> Result<QNode> {
    let mut out = Vec::with_capacity(kwargs.len());
    for (k, v) in kwargs {
        out.push(QNode::Leaf(condition(meta, &k, v)?));
    }
    Ok(QNode::And(out))
}
