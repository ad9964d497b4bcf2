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
//! from the related row, and the call's other relations, are shared the same way; the
//! related row's columns go under a placeholder qualifier until its `EXISTS` is built, so two
//! relations to one table (`books`, `edited`) stay apart. A relation back to the queried
//! model's table is left as it is (its columns could not be told from the queried row's).

use super::build::Condition;
use super::QNode;
use crate::ir::{ColumnRef, Expr};
use crate::relations::{exists, rename_qualifiers, ResolvedRelation};
use crate::value::Value;

/// `node` (one `filter()` call's tree, not negated) with each relation that is read both in
/// an OR branch and elsewhere hoisted into one related row (see the module documentation).
pub fn share_joins(node: QNode) -> QNode {
    let mut seen = Vec::new();
    occurrences(&node, false, &mut seen);
    let Some((first, ..)) = seen.first() else {
        return node;
    };
    let root = first.source.table.clone();
    share(node, &root, &mut 0)
}

/// The qualifier standing for the `n`th hoisted related row until its `EXISTS` is built
/// (two relations to the same table, `books` and `edited`, stay apart): not an identifier,
/// so one that escaped would be refused by the compiler.
fn placeholder(n: u32) -> String {
    format!("\u{0}row{n}")
}

fn share(node: QNode, root: &str, counter: &mut u32) -> QNode {
    let mut seen: Vec<(ResolvedRelation, usize, bool)> = Vec::new();
    occurrences(&node, false, &mut seen);
    let Some((rel, ..)) = seen.into_iter().find(|(rel, n, in_or)| {
        *n >= 2 && *in_or && rel.target.table != rel.source.table && rel.target.table != root
    }) else {
        return node;
    };
    *counter += 1;
    let p = placeholder(*counter);
    let row = share(replace(&node, &rel, Some(&p)), root, counter);
    let null = share(replace(&node, &rel, None), root, counter);
    let mut cond = row.lower();
    let table = rel.target.table.clone();
    rename_qualifiers(&mut cond, &|q| (q == p).then(|| table.clone()));
    let in_row = QNode::Leaf(Condition {
        expr: exists(&rel, Some(cond)),
        nullable: Vec::new(),
    });
    let any = QNode::Related {
        rel: Box::new(rel),
        inner: None,
    };
    QNode::Or(vec![
        in_row,
        QNode::And(vec![QNode::Not(Box::new(any)), null]),
    ])
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

/// `node` with the conditions on `rel` read from one related row (`row`: its columns under
/// that placeholder qualifier) or from the NULL row of a LEFT JOIN (`None`).
fn replace(node: &QNode, rel: &ResolvedRelation, row: Option<&str>) -> QNode {
    match node {
        QNode::Leaf(_) | QNode::Not(_) => node.clone(),
        QNode::Related { rel: r, inner } if same(r, rel) => match (inner, row) {
            // "A related row exists": true of the row, false of the NULL row.
            (None, Some(_)) => QNode::And(Vec::new()),
            (None, None) => QNode::Or(Vec::new()),
            (Some(inner), Some(p)) => placeholdered(inner, &rel.target.table, p),
            (Some(inner), None) => {
                let mut expr = inner.lower();
                nulled(&mut expr, &rel.target.table);
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

/// `node` (conditions on rows of `table`) with `table`'s columns, and the relations leaving
/// it, under the qualifier `p`; the conditions inside those relations are over their own
/// rows and stay as they are.
fn placeholdered(node: &QNode, table: &str, p: &str) -> QNode {
    let rename = |e: &mut Expr| rename_qualifiers(e, &|q| (q == table).then(|| p.to_owned()));
    match node {
        QNode::Leaf(c) => {
            let mut c = c.clone();
            rename(&mut c.expr);
            c.nullable.iter_mut().for_each(rename);
            QNode::Leaf(c)
        }
        QNode::Related { rel, inner } if rel.source.table == table => {
            let mut rel = (**rel).clone();
            let mut source = (*rel.source).clone();
            source.table = p.to_owned();
            rel.source = std::sync::Arc::new(source);
            QNode::Related {
                rel: Box::new(rel),
                inner: inner.clone(),
            }
        }
        QNode::Related { .. } => node.clone(),
        QNode::Not(inner) => QNode::Not(Box::new(placeholdered(inner, table, p))),
        QNode::And(items) => QNode::And(items.iter().map(|i| placeholdered(i, table, p)).collect()),
        QNode::Or(items) => QNode::Or(items.iter().map(|i| placeholdered(i, table, p)).collect()),
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
