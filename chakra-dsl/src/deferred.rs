//! Deferred fields (`only("a", "b")` / `defer("c")` in Python): which fields a model query
//! leaves unloaded, and the select that leaves them out. The primary key is always loaded.
//! A deferred column is selected as a typed `NULL` bind, so the row keeps the model's
//! layout (the hydration both doors share) while the column's data is never read or sent.

use crate::ir::{Expr, Select};
use crate::lookup::resolve_field;
use crate::{ModelMeta, Result, Value};

/// The field indices left unloaded by `only(names)`: every field not named, but the primary
/// key. An unknown name is [`crate::Error::UnknownField`].
pub fn only(meta: &ModelMeta, names: &[String]) -> Result<Vec<usize>> {
    let mut keep = vec![false; meta.fields.len()];
    for n in names {
        let f = resolve_field(meta, n)?;
        if let Some(i) = meta.field_index(&f.name) {
            keep[i] = true;
        }
    }
    Ok((0..meta.fields.len())
        .filter(|&i| !keep[i] && !meta.fields[i].primary_key)
        .collect())
}

/// The field indices left unloaded after `defer(names)` on a query already deferring
/// `current`. Deferring the primary key does nothing; an unknown name is
/// [`crate::Error::UnknownField`].
pub fn defer(meta: &ModelMeta, current: &[usize], names: &[String]) -> Result<Vec<usize>> {
    let mut out = current.to_vec();
    for n in names {
        let f = resolve_field(meta, n)?;
        if let Some(i) = meta.field_index(&f.name) {
            if !f.primary_key && !out.contains(&i) {
                out.push(i);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Replaces the deferred fields' columns of a model select (fields first, in declaration
/// order, as `ModelQuery::select` lays them out) by typed NULLs.
pub fn apply(select: &mut Select, meta: &ModelMeta, deferred: &[usize]) {
    for &i in deferred {
        if let (Some(item), Some(f)) = (select.columns.get_mut(i), meta.fields.get(i)) {
            item.expr = Expr::Value(Value::Null(f.ty.value_type()));
        }
    }
}
