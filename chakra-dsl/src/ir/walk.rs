//! A mutable walk over an expression tree, into the selects of subqueries: the one traversal
//! behind renaming qualifiers (`relations::exists`) and resolving `OuterRef`s
//! (`crate::subquery`).

use super::expr::Expr;
use super::select::{Join, OrderBy, Select, SelectItem, Source};

/// What a walk does at each node.
pub trait VisitMut {
    /// Called for every expression, before its children.
    fn expr(&mut self, _e: &mut Expr) {}
    /// Called for every source (`FROM`, joins), after a subquery source's own select.
    fn source(&mut self, _s: &mut Source) {}
}

/// Visits `e` and everything below it.
pub fn walk_expr(e: &mut Expr, v: &mut dyn VisitMut) {
    v.expr(e);
    match e {
        Expr::Column(_) | Expr::Value(_) | Expr::Bool(_) | Expr::CountStar | Expr::OuterRef(_) => {}
        Expr::Aggregate(a) => {
            if let Some(x) = a.arg.as_mut() {
                walk_expr(x, v);
            }
            if let Some(x) = a.filter.as_mut() {
                walk_expr(x, v);
            }
        }
        Expr::Compare { left, right, .. }
        | Expr::Arith { left, right, .. }
        | Expr::Contain { left, right, .. } => {
            walk_expr(left, v);
            walk_expr(right, v);
        }
        Expr::Like { expr, .. }
        | Expr::Regex { expr, .. }
        | Expr::In { expr, .. }
        | Expr::IsNull { expr, .. }
        | Expr::Extract { expr, .. }
        | Expr::DateOf(expr)
        | Expr::Not(expr)
        | Expr::Cast { expr, .. }
        | Expr::JsonPath { expr, .. }
        | Expr::ArrayLen(expr)
        | Expr::ArrayIndex { expr, .. } => walk_expr(expr, v),
        Expr::InSubquery { expr, query } => {
            walk_expr(expr, v);
            walk_select(query, v);
        }
        Expr::Between { expr, low, high } => {
            walk_expr(expr, v);
            walk_expr(low, v);
            walk_expr(high, v);
        }
        Expr::And(items) | Expr::Or(items) | Expr::Row(items) | Expr::Func { args: items, .. } => {
            for i in items {
                walk_expr(i, v);
            }
        }
        Expr::Exists(s) | Expr::Subquery(s) => walk_select(s, v),
        Expr::Case { whens, default, .. } => {
            for (c, x) in whens {
                walk_expr(c, v);
                walk_expr(x, v);
            }
            if let Some(d) = default {
                walk_expr(d, v);
            }
        }
    }
}

fn walk_source(s: &mut Source, v: &mut dyn VisitMut) {
    if let Source::Subquery { query, .. } = s {
        walk_select(query, v);
    }
    v.source(s);
}

/// Visits every source and expression of `s`, subqueries included.
pub fn walk_select(s: &mut Select, v: &mut dyn VisitMut) {
    walk_source(&mut s.from, v);
    for Join { source, on, .. } in &mut s.joins {
        walk_source(source, v);
        walk_expr(on, v);
    }
    for SelectItem { expr, .. } in &mut s.columns {
        walk_expr(expr, v);
    }
    for e in &mut s.distinct_on {
        walk_expr(e, v);
    }
    if let Some(c) = &mut s.filter {
        walk_expr(c, v);
    }
    for g in &mut s.group_by {
        walk_expr(g, v);
    }
    if let Some(c) = &mut s.having {
        walk_expr(c, v);
    }
    for OrderBy { expr, .. } in &mut s.order_by {
        walk_expr(expr, v);
    }
}
