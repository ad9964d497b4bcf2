//! [`QNode`]: a boolean tree of lookup conditions (Django's `Q` objects), lowered to one
//! [`Expr`] with Django's NULL semantics under negation.

use super::build::Condition;
use crate::ir::Expr;

/// A tree of conditions combined with AND, OR and NOT.
#[derive(Debug, Clone, PartialEq)]
pub enum QNode {
    /// One lookup condition.
    Leaf(Condition),
    /// All must hold (an empty list holds).
    And(Vec<QNode>),
    /// Any must hold (an empty list does not hold).
    Or(Vec<QNode>),
    /// Negation. Each condition below it treats a NULL column as "does not match", so
    /// `exclude(a=1)` keeps the rows where `a` is NULL, as in Django.
    Not(Box<QNode>),
}

impl QNode {
    /// Lowers the tree to one expression.
    pub fn lower(&self) -> Expr {
        self.lower_in(false)
    }

    fn lower_in(&self, negated: bool) -> Expr {
        match self {
            QNode::Leaf(c) => {
                if negated {
                    c.guarded()
                } else {
                    c.expr.clone()
                }
            }
            QNode::And(items) => flatten(items.iter().map(|q| q.lower_in(negated)), true),
            QNode::Or(items) => flatten(items.iter().map(|q| q.lower_in(negated)), false),
            QNode::Not(inner) => match inner.lower_in(true) {
                Expr::Bool(b) => Expr::Bool(!b),
                e => Expr::Not(Box::new(e)),
            },
        }
    }
}

/// AND (`all`) or OR of expressions, without needless nesting; constant TRUE/FALSE folded.
fn flatten(items: impl Iterator<Item = Expr>, all: bool) -> Expr {
    let mut out = Vec::new();
    for e in items {
        match e {
            Expr::Bool(b) if b == all => {}
            Expr::Bool(_) => return Expr::Bool(!all),
            Expr::And(v) if all => out.extend(v),
            Expr::Or(v) if !all => out.extend(v),
            e => out.push(e),
        }
    }
    match out.len() {
        0 => Expr::Bool(all),
        1 => out.pop().expect("one"),
        _ if all => Expr::And(out),
        _ => Expr::Or(out),
    }
}
