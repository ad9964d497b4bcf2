//! [`QNode`]: a boolean tree of lookup conditions (Django's `Q` objects), lowered to one
//! [`Expr`] with Django's NULL semantics under negation.

use super::build::Condition;
use crate::ir::Expr;
use crate::relations::{exists, ResolvedRelation};

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
    /// Lowers the tree of one `filter()` call: [`Self::lower`] after Django's join reuse
    /// across its AND and OR branches ([`super::share_joins`]).
    pub fn lower_filter(&self) -> Expr {
        super::share_joins(self.clone()).lower()
    }

    /// Lowers the tree to one expression, in time and size linear in the tree.
    pub fn lower(&self) -> Expr {
        let mut e = self.lowered(false).expr;
        super::outer::restore(&mut e);
        e
    }

    /// The expression, whether it can evaluate to NULL, and whether it already holds a
    /// duplicated NULL-aware negation. Under a negation (`negated`: `exclude`, `~Q`)
    /// conditions on the same relation are not merged: Django excludes a row when some
    /// related row matches each condition, not necessarily the same one.
    fn lowered(&self, negated: bool) -> Lowered {
        match self {
            QNode::Leaf(c) => Lowered {
                expr: c.expr.clone(),
                nullable: c.may_be_null(),
                doubled: false,
            },
            QNode::Related { rel, inner } => Lowered {
                expr: exists(rel, inner.as_ref().map(|q| q.lowered(negated).expr)),
                nullable: false,
                doubled: false,
            },
            QNode::And(items) if negated => junction(items, true, negated),
            QNode::And(items) => junction(&group_related(&flatten_and(items)), true, negated),
            QNode::Or(items) => junction(items, false, negated),
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
                } = inner.lowered(true);
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

/// The items of nested ANDs, in order (`Q(a) & Q(b)` is one AND of `a` and `b`, so
/// conditions on one relation in one `filter()` call meet in one related row, as in Django).
fn flatten_and(items: &[QNode]) -> Vec<QNode> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            QNode::And(inner) => out.extend(flatten_and(inner)),
            other => out.push(other.clone()),
        }
    }
    out
}

/// A relation condition of an AND: `Related` with a condition, or the form `across` gives an
/// `isnull`/`None` condition (`NOT EXISTS any OR EXISTS cond`: "no related row, or one
/// matching", `promoted`, Django's LEFT JOIN).
fn related_part(item: &QNode) -> Option<(&ResolvedRelation, &QNode, bool)> {
    match item {
        QNode::Related {
            rel,
            inner: Some(inner),
        } => Some((rel, inner, false)),
        QNode::Or(v) => match v.as_slice() {
            [QNode::Not(none), QNode::Related {
                rel,
                inner: Some(inner),
            }] if matches!(none.as_ref(), QNode::Related { rel: r, inner: None } if same(r, rel)) => {
                Some((rel, inner, true))
            }
            _ => None,
        },
        _ => None,
    }
}

fn same(a: &ResolvedRelation, b: &ResolvedRelation) -> bool {
    a.name == b.name && a.source.name == b.source.name
}

/// Merges the relation conditions of one AND that cross the same relation into one related
/// row, keeping the position of the first. "No related row" stays a way to match only when
/// every merged condition allows it (Django's LEFT JOIN is made INNER by any other).
fn group_related(items: &[QNode]) -> Vec<QNode> {
    // (position in `out`, relation, conditions, promoted)
    let mut groups: Vec<(usize, ResolvedRelation, Vec<QNode>, bool)> = Vec::new();
    let mut out: Vec<Option<QNode>> = Vec::with_capacity(items.len());
    for item in items {
        match related_part(item) {
            Some((rel, inner, promoted)) => {
                if let Some(g) = groups.iter_mut().find(|g| same(&g.1, rel)) {
                    g.2.push(inner.clone());
                    g.3 &= promoted;
                } else {
                    groups.push((out.len(), rel.clone(), vec![inner.clone()], promoted));
                    out.push(None);
                }
            }
            None => out.push(Some(item.clone())),
        }
    }
    for (at, rel, mut inners, promoted) in groups {
        let inner = if inners.len() == 1 {
            inners.pop().expect("one")
        } else {
            QNode::And(inners)
        };
        let related = QNode::Related {
            rel: Box::new(rel.clone()),
            inner: Some(Box::new(inner)),
        };
        out[at] = Some(if promoted {
            let none = QNode::Related {
                rel: Box::new(rel),
                inner: None,
            };
            QNode::Or(vec![QNode::Not(Box::new(none)), related])
        } else {
            related
        });
    }
    out.into_iter().flatten().collect()
}

fn junction(items: &[QNode], all: bool, negated: bool) -> Lowered {
    let mut nullable = false;
    let mut doubled = false;
    let exprs: Vec<Expr> = items
        .iter()
        .map(|q| {
            let l = q.lowered(negated);
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
            enum_type: None,
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
