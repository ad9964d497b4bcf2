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
//! Keys that cross relations (`author__username`, `posts__title__contains`,
//! `tags__name`, `posts__isnull`) go through [`across`]: the relation hops become
//! [`QNode::Related`] (`EXISTS`) around the condition built on the related model.
//!
//! [`Expr`]: crate::ir::Expr

mod build;
mod join_reuse;
mod kinds;
mod outer;
mod parse;
mod q;
#[cfg(test)]
mod tests;

pub use build::{coerce_value, nullable_columns, Condition, LookupArg, Operand};
pub use join_reuse::share_joins;
pub use kinds::{choices_for, Lookup, Transform, ALL_LOOKUPS, ALL_TRANSFORMS};
pub use outer::{
    field_ref, field_ref_across, mark as mark_outer, restore as restore_outer, wrap_related,
};
pub(crate) use parse::valid_json_key;
pub use parse::{parse, resolve_field, ArgShape, ParsedLookup};
pub use q::QNode;

use crate::error::{Error, Result};
use crate::meta::ModelMeta;
use crate::relations::{split_path, Models};
use std::sync::Arc;

/// The node for one `key=value` filter against `meta`, crossing relations: `leaf(model,
/// key)` builds the condition of a plain field key on `model` (the front door converts its
/// value there), `isnull()` reads the boolean of a `<relation>__isnull` key. A key on the
/// model's own fields is just `leaf(meta, key)`.
pub fn across<E: From<Error>>(
    models: &dyn Models,
    meta: &Arc<ModelMeta>,
    key: &str,
    leaf: impl FnOnce(&Arc<ModelMeta>, &str) -> Result<QNode, E>,
    isnull: impl FnOnce() -> Result<bool, E>,
) -> Result<QNode, E> {
    let Some(path) = split_path(models, meta, key)? else {
        return leaf(meta, key);
    };
    let mut hops = path.hops.into_iter().rev();
    // `editor__age__isnull=True`, `books__title=None`, `books=None`, `books__tags__isnull=True`:
    // as in Django (LEFT JOINs), a missing related row at any hop matches too.
    let mut or_none = false;
    let mut node = if path.isnull {
        let last = hops.next().expect("isnull paths end at a relation");
        let any = QNode::Related {
            rel: Box::new(last),
            inner: None,
        };
        if isnull()? {
            or_none = true;
            QNode::Not(Box::new(any))
        } else {
            any
        }
    } else {
        leaf(&path.model, &path.rest)?
    };
    or_none |= holds_on_missing_row(&node);
    for hop in hops {
        let related = QNode::Related {
            rel: Box::new(hop.clone()),
            inner: Some(Box::new(node)),
        };
        node = if or_none {
            let none = QNode::Related {
                rel: Box::new(hop),
                inner: None,
            };
            QNode::Or(vec![QNode::Not(Box::new(none)), related])
        } else {
            related
        };
    }
    Ok(node)
}

/// True for a condition a related row that is not there satisfies in Django, which joins
/// with a LEFT JOIN for it: `IS NULL` (`__isnull=True`, `=None`).
fn holds_on_missing_row(node: &QNode) -> bool {
    matches!(
        node,
        QNode::Leaf(Condition {
            expr: crate::ir::Expr::IsNull { negated: false, .. },
            ..
        })
    )
}

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
