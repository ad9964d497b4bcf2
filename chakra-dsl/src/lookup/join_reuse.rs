//! Django's join reuse inside one `filter()` call: every condition of the call on the same
//! relation to many rows, in AND and OR branches alike, reads one joined related row (one
//! JOIN per relation for the whole call, a LEFT JOIN where a branch can hold without it).
//! AND-level conditions already meet in one `EXISTS` when lowered ([`super::QNode`]); this
//! covers a relation that also appears inside an OR branch:
//! `filter(Q(books__pages__gt=1000) | Q(name="x"), books__title="y")` keeps the authors with
//! one book that is titled "y" and either long or by an author named "x".
//!
//! Such a tree `T` becomes `EXISTS (related row r: T[r]) OR (NOT EXISTS (any related row)
//! AND T[NULL])`: `T[r]` reads every condition on the relation from the one row `r`,
//! `T[NULL]` reads them from the NULL row of a LEFT JOIN (so `isnull=True` holds there and a
//! comparison is unknown, as in SQL). Conditions under a negation stay apart (Django runs a
//! negated condition on a relation to many rows as its own subquery). Recursively, relations
//! from the related row are shared the same way. A relation back to a table already on the
//! path is left as it is (its columns could not be told apart).

use super::build::Condition;
use super::QNode;
use crate::ir::{ColumnRef, Expr};
use crate::relations::ResolvedRelation;
use crate::value::Value;

/// `node` (one `filter()` call's tree, not negated) with each relation that is read both in
/// an OR branch and elsewhere hoisted into one related row (see the module documentation).
pub fn share_joins(node: QNode) -> QNode {
    share(node, &mut Vec::new())
}

fn share(mut node: QNode, outer: &mut Vec<String>) -> QNode {
    loop {
        let mut seen: Vec<(ResolvedRelation, usize, bool)> = Vec::new();
        occurrences(&node, false, &mut seen);
        let Some((rel, ..)) = seen.into_iter().find(|(rel, n, in_or)| {
            *n >= 2
                && *in_or
                && rel.target.table != rel.source.table
                && !outer.contains(&rel.target.table)
        }) else {
            return node;
        };
        let row = replace(&node, &rel, true);
        let null = replace(&node, &rel, false);
        outer.push(rel.source.table.clone());
        let row = share(row, outer);
        outer.pop();
        let any = QNode::Related {
            rel: Box::new(rel.clone()),
            inner: None,
        };
        node = QNode::Or(vec![
            QNode::Related {
                rel: Box::new(rel),
                inner: Some(Box::new(row)),
            },
            QNode::And(vec![QNode::Not(Box::new(any)), null]),
        ]);
    }
}

fn same(a: &ResolvedRelation, b: &ResolvedRelation) -> bool {
    a.name == b.name && a.source.name == b.source.name
}

/// The `isnull` form `lookup::across` builds (`NOT EXISTS any OR EXISTS cond`): one
/// occurrence of its relation, not an OR branch.
fn promoted(items: &[QNode]) -> Option<&ResolvedRelation> {
    match items {
        [QNode::Not(none), QNode::Related {
            rel,
            inner: Some(_),
        }] if matches!(none.as_ref(), QNode::Related { rel: r, inner: None } if same(r, rel)) => {
            Some(rel)
        }
        _ => None,
    }
}

/// Counts the relations read in not-negated positions of `node` (not inside their own
/// related rows), and whether one is inside an OR branch.
fn occurrences(node: &QNode, in_or: bool, seen: &mut Vec<(ResolvedRelation, usize, bool)>) {
    let mut note =
        |rel: &ResolvedRelation, in_or: bool| match seen.iter_mut().find(|(r, ..)| same(r, rel)) {
            Some(s) => {
                s.1 += 1;
                s.2 |= in_or;
            }
            None => seen.push((rel.clone(), 1, in_or)),
        };
    match node {
        QNode::Leaf(_) | QNode::Not(_) => {}
        QNode::Related { rel, .. } => note(rel, in_or),
        QNode::Or(items) => match promoted(items) {
            Some(rel) => note(rel, in_or),
            None => {
                for i in items {
                    occurrences(i, true, seen);
                }
            }
        },
        QNode::And(items) => {
            for i in items {
                occurrences(i, in_or, seen);
            }
        }
    }
}

/// `node` with the conditions on `rel` read from one related row (`row`) or from the NULL
/// row of a LEFT JOIN (not `row`).
fn replace(node: &QNode, rel: &ResolvedRelation, row: bool) -> QNode {
    match node {
        QNode::Leaf(_) | QNode::Not(_) => node.clone(),
        QNode::Related { rel: r, inner } if same(r, rel) => match (inner, row) {
            // "A related row exists": true of the row, false of the NULL row.
            (None, true) => QNode::And(Vec::new()),
            (None, false) => QNode::Or(Vec::new()),
            (Some(inner), true) => (**inner).clone(),
            (Some(inner), false) => {
                let mut expr = inner.lower();
                let table = rel.target.table.clone();
                nulled(&mut expr, &table);
                QNode::Leaf(Condition {
                    nullable: vec![expr.clone()],
                    expr,
                })
            }
        },
        QNode::Related { .. } => node.clone(),
        QNode::And(items) => QNode::And(items.iter().map(|i| replace(i, rel, row)).collect()),
        QNode::Or(items) => QNode::Or(items.iter().map(|i| replace(i, rel, row)).collect()),
    }
}

/// Every column of `table` in `e` (the related row) replaced by a NULL of its type.
fn nulled(e: &mut Expr, table: &str) {
    struct Nulls<'a>(&'a str);
    impl crate::ir::walk::VisitMut for Nulls<'_> {
        fn expr(&mut self, e: &mut Expr) {
            if let Expr::Column(ColumnRef {
                table: Some(t), ty, ..
            }) = e
            {
                if t == self.0 {
                    *e = Expr::Value(Value::Null(ty.clone()));
                }
            }
        }
    }
    crate::ir::walk::walk_expr(e, &mut Nulls(table));
}
