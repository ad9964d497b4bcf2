//! `F("name")` / `F("author__age")`: a field of the queried model, or of the one row a chain
//! of single-valued relations points at, resolved against the queried model wherever the
//! lookup that holds it sits (inside `books__pages__gt=F("age")` it is the author's `age`,
//! as in Django).
//!
//! Inside a filter a reference to the queried row is marked ([`mark`]) until the whole tree is
//! lowered ([`super::QNode::lower`] calls [`restore`]), so the `EXISTS` wrappers of the
//! relation hops, which rename their own table's qualifiers to `_rN`, never take it for a
//! column of the related row (a relation from a model to itself).

use crate::error::{Error, Result};
use crate::ir::Expr;
use crate::meta::ModelMeta;
use crate::model_query::field_expr;
use crate::relations::{find_relation, related_value, rename_qualifiers, resolve_relation, Models};
use std::sync::Arc;

/// The prefix of a marked qualifier: not a valid identifier, so a mark that escaped
/// [`restore`] is refused by the compiler rather than read as a table.
const MARK: &str = "\u{0}outer:";

/// The expression of `F(name)` over `root`: a column of `root` (qualified by its table), or
/// for `author__age` a scalar subquery reading `age` from the row `author` points at (NULL
/// when there is none). Every hop must be single-valued: a path through a relation to many
/// rows has no one value, and is refused naming the relation.
pub fn field_ref(models: &dyn Models, root: &Arc<ModelMeta>, name: &str) -> Result<Expr> {
    let parts: Vec<&str> = name.split("__").collect();
    let mut hops = Vec::new();
    let mut cur = root.clone();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if cur.field(part).is_some() || *part == "pk" {
            if !last {
                return Err(Error::InvalidQuery(format!(
                    "F({name:?}): {}.{part} is a field, not a relation; nothing follows it",
                    cur.name
                )));
            }
            break;
        }
        if find_relation(models, &cur, part).is_none() {
            break; // resolve_field names the choices
        }
        let rel = resolve_relation(models, &cur, part)?;
        if last {
            // `F("author")`: the foreign key itself.
            match (&rel.link, rel.is_many()) {
                (crate::relations::Link::Direct { source_field, .. }, false)
                    if rel.source.field(&source_field.name).is_some() =>
                {
                    let f = source_field.clone();
                    let e = field_expr(&cur, &f);
                    return Ok(wrap(hops, e));
                }
                _ => {}
            }
        }
        if rel.is_many() {
            return Err(Error::InvalidQuery(format!(
                "F({name:?}) crosses {}, a relation to many rows, which has no single value; \
                 filter across it with a lookup (`{}__…`) or aggregate it (Count, Sum, …)",
                rel.display(),
                rel.name
            )));
        }
        cur = rel.target.clone();
        hops.push(rel);
        if last {
            let pk = cur
                .single_key("a reference to a related row's key")?
                .clone();
            return Ok(wrap(hops, field_expr(&cur, &pk)));
        }
    }
    let field_name = parts[hops.len()..].join("__");
    let f = super::resolve_field(&cur, &field_name)?.clone();
    Ok(wrap(hops, field_expr(&cur, &f)))
}

/// `F(name)` through relations to many rows, inside a filter on `root`'s own fields
/// (`Author.objects.filter(age__lt=F("books__pages"))`): Django joins the related rows and
/// keeps the rows for which some related row meets the condition. Returns the relation hops
/// up to the last one to many rows (the caller wraps the condition in their `EXISTS`, outer
/// first, with [`wrap_related`]: conditions on the same relation in one `filter()` then meet
/// in one related row, Django's join reuse) and the value read from that row (its
/// columns qualified by its table name, to-one hops after it as scalar subqueries). `None`
/// when the path crosses no relation to many rows. A path back to `root`'s table is
/// refused (the condition could not tell the outer row from the related one).
pub fn field_ref_across(
    models: &dyn Models,
    root: &Arc<ModelMeta>,
    name: &str,
) -> Result<Option<(Vec<crate::relations::ResolvedRelation>, Expr)>> {
    if !crate::relations::joined::crosses_many(models, root, name) {
        return Ok(None);
    }
    let parts: Vec<&str> = name.split("__").collect();
    let mut hops = Vec::new();
    let mut cur = root.clone();
    let mut last_many = 0;
    for part in &parts {
        if cur.field(part).is_some() || *part == "pk" || find_relation(models, &cur, part).is_none()
        {
            break;
        }
        let rel = resolve_relation(models, &cur, part)?;
        if rel.target.table == root.table {
            return Err(Error::InvalidQuery(format!(
                "F({name:?}) on {} leads back to its own table through {}, a relation to many \
                 rows; filter across it with a lookup (`{}__…=F(…)`) instead",
                root.name,
                rel.display(),
                parts[0]
            )));
        }
        cur = rel.target.clone();
        let many = rel.is_many();
        hops.push(rel);
        if many {
            last_many = hops.len();
        }
    }
    let rest_hops = hops.split_off(last_many);
    let target = rest_hops
        .first()
        .map(|r| r.source.clone())
        .unwrap_or_else(|| cur.clone());
    let rest = parts[last_many..].join("__");
    let value = if rest.is_empty() {
        let pk = target.single_key("a reference to the related rows' key")?;
        field_expr(&target, pk)
    } else {
        field_ref(models, &target, &rest)?
    };
    Ok(Some((hops, value)))
}

/// `node` inside the `EXISTS` of each hop of `hops` (the first hop outermost).
pub fn wrap_related(
    hops: Vec<crate::relations::ResolvedRelation>,
    node: super::QNode,
) -> super::QNode {
    hops.into_iter()
        .rev()
        .fold(node, |inner, rel| super::QNode::Related {
            rel: Box::new(rel),
            inner: Some(Box::new(inner)),
        })
}

fn wrap(hops: Vec<crate::relations::ResolvedRelation>, mut e: Expr) -> Expr {
    for hop in hops.iter().rev() {
        e = related_value(hop, e).expect("single-valued relations link directly");
    }
    e
}

/// `e` with its references to `root`'s row marked, so relation hops around it leave them
/// alone; [`super::QNode::lower`] restores them.
pub fn mark(mut e: Expr, root: &ModelMeta) -> Expr {
    let table = root.table.clone();
    rename_qualifiers(&mut e, &|q| (q == table).then(|| format!("{MARK}{table}")));
    e
}

/// Marked references back to their table's name.
pub fn restore(e: &mut Expr) {
    rename_qualifiers(e, &|q| q.strip_prefix(MARK).map(str::to_owned));
}
