//! Subqueries placed in an enclosing query: `Exists(qs)`, `Subquery(qs.values("x")[:1])` and
//! `field__in=qs.values("id")` (Python), `exists(query)`, `query.subquery(col)` and
//! `col.in_query(…)` (Rust). `OuterRef("field")` inside the subquery names a field of the
//! enclosing model and is resolved here, when the subquery is placed; one level of nesting
//! (an `OuterRef` refers to the query the subquery is placed in).

use crate::error::{Error, Result};
use crate::ir::walk::{walk_select, VisitMut};
use crate::ir::{Expr, Select, Source};
use crate::lookup::resolve_field;
use crate::meta::ModelMeta;
use crate::model_query::field_expr;

/// Places `inner` in a query over `outer`: each `OuterRef(name)` becomes `outer`'s column;
/// when both read the same table, the inner one is aliased (`_sq1`, `_sq2`, … past any alias
/// already inside) so the outer column stays reachable. Fails, naming the model, for an
/// `OuterRef` to a field `outer` does not have.
pub fn embed(mut inner: Select, outer: &ModelMeta) -> Result<Select> {
    if let Source::Table { name, alias: None } = &inner.from {
        if *name == outer.table {
            let table = name.clone();
            let mut n = Aliases(0);
            walk_select(&mut inner, &mut n);
            let alias = format!("_sq{}", n.0 + 1);
            inner.from = Source::aliased(table.clone(), alias.clone());
            crate::relations::exists::rename_in_select(&mut inner, &|q: &str| {
                (q == table).then(|| alias.clone())
            });
        }
    }
    let mut r = Resolver { outer, error: None };
    walk_select(&mut inner, &mut r);
    match r.error {
        Some(e) => Err(e),
        None => Ok(inner),
    }
}

/// `EXISTS (inner)` in a query over `outer`.
pub fn exists(mut inner: Select, outer: &ModelMeta) -> Result<Expr> {
    // The rows' existence is all that counts: no ordering, one constant-free column kept.
    inner.order_by.clear();
    inner.columns.truncate(1);
    Ok(Expr::Exists(Box::new(embed(inner, outer)?)))
}

/// `(inner)` as a value in a query over `outer`: `inner` must select one column
/// (`qs.values("x")`); it should match at most one row (`[:1]`), or the database fails the
/// statement.
pub fn scalar(inner: Select, outer: &ModelMeta) -> Result<Expr> {
    if inner.columns.len() != 1 {
        return Err(Error::InvalidQuery(format!(
            "a subquery used as a value selects one column (qs.values(\"field\")), not {}",
            inner.columns.len()
        )));
    }
    Ok(Expr::Subquery(Box::new(embed(inner, outer)?)))
}

/// Counts the `_sqN` aliases already in a select (the next one gets a higher number).
struct Aliases(u32);

impl VisitMut for Aliases {
    fn source(&mut self, s: &mut Source) {
        let alias = match s {
            Source::Table { alias, .. } => alias.as_deref(),
            Source::Subquery { alias, .. } => Some(alias.as_str()),
        };
        if let Some(n) = alias
            .and_then(|a| a.strip_prefix("_sq"))
            .and_then(|d| d.parse::<u32>().ok())
        {
            self.0 = self.0.max(n);
        }
    }
}

struct Resolver<'m> {
    outer: &'m ModelMeta,
    error: Option<Error>,
}

impl VisitMut for Resolver<'_> {
    fn expr(&mut self, e: &mut Expr) {
        if let Expr::OuterRef(name) = e {
            match resolve_field(self.outer, name) {
                Ok(f) => *e = field_expr(self.outer, f),
                Err(err) => {
                    if self.error.is_none() {
                        self.error = Some(err);
                    }
                }
            }
        }
    }
}
