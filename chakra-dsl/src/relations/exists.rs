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
use crate::ir::{Expr, Join, JoinKind, Select, Source};

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

/// `(SELECT expr FROM target AS _r1 WHERE <link to outer row>)`: a value read from the one
/// row a single-valued relation (`Link::Direct`: a foreign key, a one-to-one) points at, NULL
/// when there is none. `expr` ranges over `rel.target`, qualified by its table name; the
/// outer row is `rel.source`, qualified by its table name. `None` for a relation through a
/// join table.
pub fn related_value(rel: &ResolvedRelation, mut expr: Expr) -> Option<Expr> {
    let Link::Direct {
        source_field,
        target_field,
    } = &rel.link
    else {
        return None;
    };
    let target_table = rel.target.table.clone();
    let alias = format!("{TARGET}1");
    rename_qualifiers(&mut expr, &|q| bumped(q));
    rename_qualifiers(&mut expr, &|q| (q == target_table).then(|| alias.clone()));
    let ty = expr.value_type()?;
    let mut s = Select::from(Source::aliased(target_table.clone(), alias.clone())).column(expr, ty);
    s.add_filter(field_as(&alias, target_field).eq(field_as(&rel.source.table, source_field)));
    Some(Expr::Subquery(Box::new(s)))
}

/// Renames column qualifiers and source aliases in `e` (subqueries included) wherever `f`
/// returns a new name.
pub fn rename_qualifiers(e: &mut Expr, f: &dyn Fn(&str) -> Option<String>) {
    crate::ir::walk::walk_expr(e, &mut Renamer(f));
}

/// [`rename_qualifiers`] over a whole select.
pub(crate) fn rename_in_select(s: &mut Select, f: &dyn Fn(&str) -> Option<String>) {
    crate::ir::walk::walk_select(s, &mut Renamer(f));
}

struct Renamer<'a>(&'a dyn Fn(&str) -> Option<String>);

impl crate::ir::walk::VisitMut for Renamer<'_> {
    fn expr(&mut self, e: &mut Expr) {
        if let Expr::Column(c) = e {
            if let Some(new) = c.table.as_deref().and_then(self.0) {
                c.table = Some(new);
            }
        }
    }

    fn source(&mut self, s: &mut Source) {
        let alias = match s {
            Source::Table { alias, .. } => alias.as_mut(),
            Source::Subquery { alias, .. } => Some(alias),
        };
        if let Some(a) = alias {
            if let Some(new) = (self.0)(a) {
                *a = new;
            }
        }
    }
}
