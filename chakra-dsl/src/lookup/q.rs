//! [`QNode`]: a boolean tree of lookup conditions (Django's `Q` objects), lowered to one
//! [`Expr`] with Django's NULL semantics under negation.

use super::build::Condition;
use crate::ir::Expr;
use crate::relations::{exists, ResolvedRelation};
use std::borrow::Cow;

/// A tree of conditions combined with AND, OR and NOT.
#[derive(Debug, Clone, PartialEq)]
pub enum QNode {
    /// One lookup condition.
    Leaf(Condition),
    /// All must hold (an empty list holds).
    And(Vec<QNode>),
    /// Any must hold (an empty list does not hold).
    Or(Vec<QNode>),
    /// Negation that keeps rows where the inner condition is NULL, so `exclude(a=1)` keeps
    /// the rows where `a` is NULL, as in Django.
    Not(Box<QNode>),
    /// A related row exists (matching `inner`, over the related model): `posts__title=…`.
    /// Within one AND, conditions on the same relation share one `EXISTS`, so
    /// `filter(posts__title="a", posts__draft=False)` asks for one post that is both, as in
    /// Django.
    Related {
        /// The relation crossed.
        rel: Box<ResolvedRelation>,
        /// The condition on the related row; `None` asks for any related row.
        inner: Option<Box<QNode>>,
    },
}

impl QNode {
    /// Lowers the tree to one expression, in time and size linear in the tree.
    pub fn lower(&self) -> Expr {
        self.lowered().expr
    }

    /// The expression, whether it can evaluate to NULL, and whether it already holds a
    /// duplicated NULL-aware negation.
    fn lowered(&self) -> Lowered {
        match self {
            QNode::Leaf(c) => Lowered {
                expr: c.expr.clone(),
                nullable: c.may_be_null(),
                doubled: false,
            },
            QNode::Related { rel, inner } => Lowered {
                expr: exists(rel, inner.as_ref().map(|q| q.lower())),
                nullable: false,
                doubled: false,
            },
            QNode::And(items) => junction(group_related(items).iter().map(|q| q.as_ref()), true),
            QNode::Or(items) => junction(items.iter(), false),
            // True exactly when the inner condition is not true: `NOT c OR (c) IS NULL` when
            // `c` can be NULL, plain `NOT c` otherwise. The same lowering as the Rust typed
            // DSL's `exclude` (`Condition::is_not_true`), so both front doors build one IR.
            // `c` is written twice there, so a `c` that already holds such a doubled
            // negation is negated as `CASE WHEN c THEN FALSE ELSE TRUE END` instead (the
            // same truth table, `c` once): nested negations stay linear, not exponential.
            QNode::Not(inner) => {
                let Lowered {
                    expr,
                    nullable,
                    doubled,
                } = inner.lowered();
                let expr = match (expr, nullable, doubled) {
                    (Expr::Bool(b), _, _) => Expr::Bool(!b),
                    (e, false, _) => Expr::Not(Box::new(e)),
                    (e, true, false) => Expr::Or(vec![
                        Expr::Not(Box::new(e.clone())),
                        Expr::IsNull {
                            expr: Box::new(e),
                            negated: false,
                        },
                    ]),
                    (e, true, true) => Expr::Case {
                        whens: vec![(e, Expr::Bool(false))],
                        default: Some(Box::new(Expr::Bool(true))),
                        ty: crate::ValueType::Bool,
                    },
                };
                Lowered {
                    expr,
                    nullable: false,
                    doubled: doubled || nullable,
                }
            }
        }
    }
}

/// A lowered tree: its expression, whether it can be NULL, and whether it holds a doubled
/// negation (`NOT c OR c IS NULL`).
struct Lowered {
    expr: Expr,
    nullable: bool,
    doubled: bool,
}

/// Merges the `Related` nodes of one AND that cross the same relation into one, keeping the
/// position of the first; other nodes are borrowed, not copied.
fn group_related(items: &[QNode]) -> Vec<Cow<'_, QNode>> {
    let mut out: Vec<Cow<'_, QNode>> = Vec::with_capacity(items.len());
    for item in items {
        if let QNode::Related {
            rel,
            inner: Some(inner),
        } = item
        {
            let same = out.iter_mut().find_map(|o| match o.as_ref() {
                QNode::Related {
                    rel: r,
                    inner: Some(_),
                } if r.name == rel.name && r.source.name == rel.source.name => Some(o),
                _ => None,
            });
            if let Some(existing) = same {
                if let QNode::Related {
                    inner: Some(existing),
                    ..
                } = existing.to_mut()
                {
                    let prev = std::mem::replace(existing.as_mut(), QNode::And(Vec::new()));
                    **existing = match prev {
                        QNode::And(mut v) => {
                            v.push((**inner).clone());
                            QNode::And(v)
                        }
                        other => QNode::And(vec![other, (**inner).clone()]),
                    };
                }
                continue;
            }
        }
        out.push(Cow::Borrowed(item));
    }
    out
}

fn junction<'a>(items: impl Iterator<Item = &'a QNode>, all: bool) -> Lowered {
    let mut nullable = false;
    let mut doubled = false;
    let exprs: Vec<Expr> = items
        .map(|q| {
            let l = q.lowered();
            nullable |= l.nullable;
            doubled |= l.doubled;
            l.expr
        })
        .collect();
    Lowered {
        expr: flatten(exprs.into_iter(), all),
        nullable,
        doubled,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{CmpOp, ColumnRef};
    use crate::Value;

    fn leaf(col: &str) -> QNode {
        let c = Expr::Column(ColumnRef {
            table: None,
            column: col.into(),
            ty: crate::ValueType::I64,
        });
        QNode::Leaf(Condition {
            expr: Expr::Compare {
                left: Box::new(c.clone()),
                op: CmpOp::Eq,
                right: Box::new(Expr::Value(Value::I64(1))),
            },
            nullable: vec![c],
        })
    }

    fn size(e: &Expr) -> usize {
        format!("{e:?}").len()
    }

    /// `~(~q & r)` nested: each level adds a constant amount, never doubles.
    #[test]
    fn nested_negations_lower_linearly() {
        let nest = |n: usize| {
            let mut q = leaf("a");
            for _ in 0..n {
                q = QNode::Not(Box::new(QNode::And(vec![
                    QNode::Not(Box::new(q)),
                    leaf("b"),
                ])));
            }
            q
        };
        let (s10, s20, s40) = (
            size(&nest(10).lower()),
            size(&nest(20).lower()),
            size(&nest(40).lower()),
        );
        assert!(s40 - s20 <= 2 * (s20 - s10) + 64, "{s10} {s20} {s40}");
        // One level: the plain NULL-aware form, unchanged.
        let one = QNode::Not(Box::new(leaf("a"))).lower();
        assert!(matches!(one, Expr::Or(ref v) if v.len() == 2));
    }
}
