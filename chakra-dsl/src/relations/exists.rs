//! `EXISTS (…)` over a relation: "a related row exists (matching a condition)". Every filter
//! that crosses a relation lowers to this, from both front doors, so a reverse or
//! many-to-many filter returns each row once (a semi-join, not a row-multiplying JOIN) and
//! its negation means "no related row matches" (Django's `exclude`).
//!
//! The related table gets the alias `_r1` (the join table of a many-to-many `_j1`); a
//! condition that itself crosses a relation already holds `_r1`… inside, and those are
//! renumbered one deeper when wrapped, so nested and self-referencing relations never share
//! an alias. The numbering depends only on the shape of the condition, so the same filter
//! written in Python or in Rust compiles to the same SQL.

use super::{column_as, field_as, Link, ResolvedRelation};
use crate::ir::{Expr, Join, JoinKind, OrderBy, Select, SelectItem, Source};

const TARGET: &str = "_r";
const THROUGH: &str = "_j";

fn bumped(alias: &str) -> Option<String> {
    for prefix in [TARGET, THROUGH] {
        if let Some(n) = alias.strip_prefix(prefix) {
            if let Ok(n) = n.parse::<u32>() {
                return Some(format!("{prefix}{}", n + 1));
            }
        }
    }
    None
}

/// `EXISTS (SELECT … FROM target AS _r1 WHERE <link to outer row> AND cond)`.
///
/// `cond` ranges over `rel.target`, its columns qualified by the target's table name (as
/// both front doors build them); `None` asks for any related row. The outer row is
/// `rel.source`, qualified by its table name.
pub fn exists(rel: &ResolvedRelation, cond: Option<Expr>) -> Expr {
    let target_table = rel.target.table.clone();
    let alias = format!("{TARGET}1");
    let join_alias = format!("{THROUGH}1");
    let cond = cond.map(|mut c| {
        rename_qualifiers(&mut c, &|q| bumped(q));
        rename_qualifiers(&mut c, &|q| (q == target_table).then(|| alias.clone()));
        c
    });
    let outer = &rel.source.table;
    let col = field_as;
    let select = match &rel.link {
        Link::Direct {
            source_field,
            target_field,
        } => {
            let mut s = Select::from(Source::aliased(target_table.clone(), alias.clone()))
                .column(col(&alias, target_field), target_field.ty.value_type());
            s.add_filter(col(&alias, target_field).eq(col(outer, source_field)));
            if let Some(c) = cond {
                s.add_filter(c);
            }
            s
        }
        Link::Through {
            table,
            source_key,
            source_column,
            target_column,
            target_key,
        } => {
            let j = |c: &str, key: &crate::meta::FieldMeta| column_as(&join_alias, c, key);
            let mut s = Select::from(Source::aliased(table.clone(), join_alias.clone()))
                .column(j(source_column, source_key), source_key.ty.value_type());
            s.add_filter(j(source_column, source_key).eq(col(outer, source_key)));
            if let Some(c) = cond {
                s.joins.push(Join {
                    kind: JoinKind::Inner,
                    source: Source::aliased(target_table.clone(), alias.clone()),
                    on: col(&alias, target_key).eq(j(target_column, target_key)),
                });
                s.add_filter(c);
            }
            s
        }
    };
    Expr::Exists(Box::new(select))
}

/// Renames column qualifiers and source aliases in `e` (subqueries included) wherever `f`
/// returns a new name.
pub fn rename_qualifiers(e: &mut Expr, f: &dyn Fn(&str) -> Option<String>) {
    match e {
        Expr::Column(c) => {
            if let Some(new) = c.table.as_deref().and_then(f) {
                c.table = Some(new);
            }
        }
        Expr::Value(_) | Expr::Bool(_) | Expr::CountStar => {}
        Expr::Aggregate(a) => {
            if let Some(x) = a.arg.as_mut() {
                rename_qualifiers(x, f);
            }
            if let Some(x) = a.filter.as_mut() {
                rename_qualifiers(x, f);
            }
        }
        Expr::Compare { left, right, .. } | Expr::Arith { left, right, .. } => {
            rename_qualifiers(left, f);
            rename_qualifiers(right, f);
        }
        Expr::Like { expr, .. }
        | Expr::Regex { expr, .. }
        | Expr::In { expr, .. }
        | Expr::IsNull { expr, .. }
        | Expr::Extract { expr, .. }
        | Expr::DateOf(expr)
        | Expr::Not(expr) => rename_qualifiers(expr, f),
        Expr::InSubquery { expr, query } => {
            rename_qualifiers(expr, f);
            rename_in_select(query, f);
        }
        Expr::Between { expr, low, high } => {
            rename_qualifiers(expr, f);
            rename_qualifiers(low, f);
            rename_qualifiers(high, f);
        }
        Expr::And(items) | Expr::Or(items) => {
            for i in items {
                rename_qualifiers(i, f);
            }
        }
        Expr::Exists(s) | Expr::Subquery(s) => rename_in_select(s, f),
        Expr::Func { args, .. } => {
            for a in args {
                rename_qualifiers(a, f);
            }
        }
        Expr::Cast { expr, .. }
        | Expr::JsonPath { expr, .. }
        | Expr::ArrayLen(expr)
        | Expr::ArrayIndex { expr, .. } => rename_qualifiers(expr, f),
        Expr::Contain { left, right, .. } => {
            rename_qualifiers(left, f);
            rename_qualifiers(right, f);
        }
        Expr::Case { whens, default, .. } => {
            for (c, v) in whens {
                rename_qualifiers(c, f);
                rename_qualifiers(v, f);
            }
            if let Some(d) = default {
                rename_qualifiers(d, f);
            }
        }
    }
}

fn rename_source(s: &mut Source, f: &dyn Fn(&str) -> Option<String>) {
    match s {
        Source::Table { alias, .. } => {
            if let Some(new) = alias.as_deref().and_then(f) {
                *alias = Some(new);
            }
        }
        Source::Subquery { query, alias } => {
            rename_in_select(query, f);
            if let Some(new) = f(alias) {
                *alias = new;
            }
        }
    }
}

fn rename_in_select(s: &mut Select, f: &dyn Fn(&str) -> Option<String>) {
    rename_source(&mut s.from, f);
    for j in &mut s.joins {
        rename_source(&mut j.source, f);
        rename_qualifiers(&mut j.on, f);
    }
    for SelectItem { expr, .. } in &mut s.columns {
        rename_qualifiers(expr, f);
    }
    if let Some(c) = &mut s.filter {
        rename_qualifiers(c, f);
    }
    for g in &mut s.group_by {
        rename_qualifiers(g, f);
    }
    if let Some(c) = &mut s.having {
        rename_qualifiers(c, f);
    }
    for OrderBy { expr, .. } in &mut s.order_by {
        rename_qualifiers(expr, f);
    }
}
