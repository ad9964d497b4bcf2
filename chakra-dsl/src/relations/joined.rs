//! Relation paths through relations to many rows in `order_by` and `values` (Django's
//! answer): `order_by("books__title")` and `values("name", "books__title")` LEFT OUTER JOIN
//! the related rows, so a row repeats once per related row and stays once, with NULL, when
//! it has none. Paths that only cross relations to one row keep their scalar subquery
//! ([`super::related_value`]): one row each, whatever the query.
//!
//! Joins are kept on the query ([`PathJoin`]), one per relation path prefix and reused by
//! every `order_by`/`values` name through it (Django reuses them too: ordering by the
//! column `values` selects does not multiply the rows again). Aliases are `_o1`, `_o2`, …
//! (a many-to-many's join table `_o1j`). A join only an ordering needs is dropped when the
//! ordering is (`order_by()` again) and is not counted by `count()`, as Django's `count()`
//! clears the ordering; a join `values()` reads is counted.

use super::{field_as, find_relation, resolve_relation, Link, Models};
use crate::error::{Error, Result};
use crate::ir::{Expr, Join, JoinKind, Source};
use crate::meta::ModelMeta;
use std::sync::Arc;

/// One LEFT OUTER JOIN of a relation path from the queried model.
#[derive(Debug, Clone, PartialEq)]
pub struct PathJoin {
    /// The relation names from the queried model (`books`, `books__tags`).
    pub path: String,
    /// The alias of the related rows.
    pub alias: String,
    /// The joins, in order (a many-to-many: its join table, then the target).
    pub joins: Vec<Join>,
    /// True when a `values()` column reads through it (then `count()` keeps it); false when
    /// only an ordering does.
    pub counted: bool,
    /// The joined row's primary-key columns (a tie-breaker that makes the order of the
    /// repeated rows total, for reads in chunks): every key field of a composite key; empty
    /// for a model without one.
    pub key: Vec<Expr>,
}

/// True when `name` (a `values`/`order_by` name of `root`) crosses a relation to many rows
/// before its last part (`books__title`, `books`, `author__books__pages`).
pub fn crosses_many(models: &dyn Models, root: &Arc<ModelMeta>, name: &str) -> bool {
    let mut cur = root.clone();
    for part in name.split("__") {
        if cur.field(part).is_some() || part == "pk" || find_relation(models, &cur, part).is_none()
        {
            return false;
        }
        let Ok(rel) = resolve_relation(models, &cur, part) else {
            return false;
        };
        if rel.is_many() {
            return true;
        }
        cur = rel.target.clone();
    }
    false
}

/// The column `name` reads over the joined related rows (`books__title`: the joined book's
/// title; `books`: the joined book's primary key), adding the joins it needs to `joins`
/// (reusing those already there). `counted` marks them as read by `values()`.
pub fn joined_value(
    models: &dyn Models,
    root: &Arc<ModelMeta>,
    joins: &mut Vec<PathJoin>,
    name: &str,
    counted: bool,
) -> Result<Expr> {
    let parts: Vec<&str> = name.split("__").collect();
    let mut cur = root.clone();
    let mut qualifier = root.table.clone();
    let mut path = String::new();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if cur.field(part).is_some() || *part == "pk" {
            if !last {
                return Err(Error::InvalidQuery(format!(
                    "{name:?}: {}.{part} is a field, not a relation; nothing follows it",
                    cur.name
                )));
            }
            let f = crate::lookup::resolve_field(&cur, part)?;
            return Ok(field_as(&qualifier, f));
        }
        let rel = resolve_relation(models, &cur, part)?;
        if !path.is_empty() {
            path.push_str("__");
        }
        path.push_str(part);
        let alias = match joins.iter_mut().find(|j| j.path == path) {
            Some(j) => {
                j.counted |= counted;
                j.alias.clone()
            }
            None => {
                let alias = format!("_o{}", joins.len() + 1);
                let target = &rel.target;
                let hop = match &rel.link {
                    Link::Direct {
                        source_field,
                        target_field,
                    } => vec![Join {
                        kind: JoinKind::Left,
                        source: Source::aliased(target.table.clone(), alias.clone()),
                        on: field_as(&alias, target_field).eq(field_as(&qualifier, source_field)),
                    }],
                    Link::Through {
                        table,
                        source_key,
                        source_column,
                        target_column,
                        target_key,
                    } => {
                        let j = format!("{alias}j");
                        let col = |c: &str, key| super::column_as(&j, c, key);
                        vec![
                            Join {
                                kind: JoinKind::Left,
                                source: Source::aliased(table.clone(), j.clone()),
                                on: col(source_column, source_key)
                                    .eq(field_as(&qualifier, source_key)),
                            },
                            Join {
                                kind: JoinKind::Left,
                                source: Source::aliased(target.table.clone(), alias.clone()),
                                on: field_as(&alias, target_key).eq(col(target_column, target_key)),
                            },
                        ]
                    }
                };
                joins.push(PathJoin {
                    path: path.clone(),
                    alias: alias.clone(),
                    joins: hop,
                    counted,
                    key: target
                        .primary_key_fields()
                        .into_iter()
                        .map(|pk| field_as(&alias, pk))
                        .collect(),
                });
                alias
            }
        };
        cur = rel.target.clone();
        qualifier = alias;
        if last {
            let pk = cur.single_key(&format!("the relation path {name:?}"))?;
            return Ok(field_as(&qualifier, pk));
        }
    }
    Err(Error::InvalidQuery(format!("{name:?} names no field")))
}
