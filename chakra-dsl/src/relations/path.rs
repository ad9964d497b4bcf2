//! Lookup keys that cross relations: `author__username__startswith` is the relation hop
//! `author` and the key `username__startswith` on `User`.

use super::{find_relation, resolve_relation, Link, Models, ResolvedRelation};
use crate::error::Result;
use crate::lookup::{Lookup, Transform};
use crate::meta::ModelMeta;
use std::sync::Arc;

/// A lookup key split at its relation hops.
#[derive(Debug, Clone, PartialEq)]
pub struct RelPath {
    /// Relations walked, outermost first (may be empty: `author=5` is `author_id=5`).
    pub hops: Vec<ResolvedRelation>,
    /// The model the rest of the key applies to.
    pub model: Arc<ModelMeta>,
    /// The rest of the key (`username__startswith`), empty when the key asks only whether
    /// related rows exist (`posts__isnull`).
    pub rest: String,
    /// True for `<many relation>__isnull`: the argument says whether there must be no related
    /// row (`True`) or at least one (`False`); `rest` is empty.
    pub isnull: bool,
}

fn is_lookup_word(s: &str) -> bool {
    Lookup::from_name(s).is_some() || Transform::from_name(s).is_some()
}

/// Splits `key` at the relation names it starts with. `None` when its first part is not a
/// relation of `meta` (a plain field key, for the field parser). Unknown relations and
/// models fail with errors naming them.
pub fn split_path(
    models: &dyn Models,
    meta: &Arc<ModelMeta>,
    key: &str,
) -> Result<Option<RelPath>> {
    let parts: Vec<&str> = key.split("__").collect();
    let is_relation = |m: &ModelMeta, p: &str| {
        m.field(p).is_none() && p != "pk" && find_relation(models, m, p).is_some()
    };
    if !is_relation(meta, parts[0]) {
        return Ok(None);
    }
    let mut hops: Vec<ResolvedRelation> = Vec::new();
    let mut cur = meta.clone();
    let mut i = 0;
    while i < parts.len() && is_relation(&cur, parts[i]) {
        let rel = resolve_relation(models, &cur, parts[i])?;
        cur = rel.target.clone();
        hops.push(rel);
        i += 1;
    }
    let rest = &parts[i..];
    let ends_at_relation =
        rest.is_empty() || (is_lookup_word(rest[0]) && cur.field(rest[0]).is_none());
    if !ends_at_relation {
        return Ok(Some(RelPath {
            hops,
            model: cur,
            rest: rest.join("__"),
            isnull: false,
        }));
    }
    let last = hops.pop().expect("at least one hop");
    match (&last.link, last.is_many()) {
        // `author`, `author__in`, `author__isnull`: the foreign key itself.
        (Link::Direct { source_field, .. }, false)
            if !matches!(last.kind, crate::meta::RelationKind::ReverseOneToOne) =>
        {
            let mut key = vec![source_field.name.as_str()];
            key.extend_from_slice(rest);
            Ok(Some(RelPath {
                hops,
                model: last.source.clone(),
                rest: key.join("__"),
                isnull: false,
            }))
        }
        _ if rest == ["isnull"] => {
            hops.push(last);
            Ok(Some(RelPath {
                hops,
                model: cur,
                rest: String::new(),
                isnull: true,
            }))
        }
        // `posts=5`, `tags__in=[…]`: the related rows' primary key.
        _ => {
            let pk = last
                .target
                .primary_key()
                .map(|f| f.name.clone())
                .unwrap_or_else(|| "pk".into());
            let mut key = vec![pk.as_str()];
            key.extend_from_slice(rest);
            let rest = key.join("__");
            hops.push(last);
            Ok(Some(RelPath {
                hops,
                model: cur,
                rest,
                isnull: false,
            }))
        }
    }
}

impl RelPath {
    /// The relation names walked (`author__profile`), for messages.
    pub fn hop_names(&self) -> String {
        self.hops
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join("__")
    }
}
