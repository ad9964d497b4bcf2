//! Aggregates over relation paths, Django's way: `Count("books")`, `Sum("books__pages")`,
//! `Count("books__tags", distinct=True)`, `Count("books", filter=Q(books__pages__gt=100))`.
//!
//! Per row of the queried model ([`per_row`]) the aggregate runs in a correlated subquery
//! over the rows the path reaches, joined hop by hop as Django's JOINs reach them (a tag
//! reached through two books counts twice unless `distinct`), so several of them side by side
//! never multiply each other's rows. The `filter=` condition is written from the queried model
//! (Django's path form): its conditions on the aggregated path apply to the joined rows, the
//! others to the queried row. In a grouped query (`values(…).annotate(…)`, `aggregate()`),
//! [`over_group`] combines the per-row values (a sum of counts, a sum of sums, the least of
//! minima), which is exact for `Count`, `Sum`, `Min` and `Max`.

use super::{split_path, Link, Models, ResolvedRelation};
use crate::error::{Error, Result};
use crate::ir::{AggFunc, Expr, Join, JoinKind, Select, Source};
use crate::lookup::QNode;
use crate::meta::ModelMeta;
use crate::model_query::field_expr;
use crate::types::ValueType;
use std::sync::Arc;

/// A relation path to aggregate: the hops and the field on the last model.
#[derive(Debug, Clone)]
pub struct AggPath {
    /// Relations walked from the queried model, outermost first (never empty).
    pub hops: Vec<ResolvedRelation>,
    /// The aggregated field's attribute name on the last model.
    pub field: String,
}

/// `path` split at its relation hops; `None` when it starts with a field of `meta` (a plain
/// aggregate, or `author` standing for the `author_id` column).
pub fn agg_path(models: &dyn Models, meta: &Arc<ModelMeta>, path: &str) -> Result<Option<AggPath>> {
    let Some(p) = split_path(models, meta, path)? else {
        return Ok(None);
    };
    if p.hops.is_empty() {
        return Ok(None);
    }
    if p.isnull || crate::lookup::resolve_field(&p.model, &p.rest).is_err() {
        return Err(Error::InvalidAggregate {
            model: meta.name.clone(),
            field: path.to_owned(),
            function: "aggregate".into(),
            reason: format!(
                "{:?} is not a field of {} (an aggregate takes a relation path ending at a field)",
                p.rest, p.model.name
            ),
        });
    }
    Ok(Some(AggPath {
        hops: p.hops,
        field: p.rest,
    }))
}

fn alias(i: usize) -> String {
    format!("_a{}", i + 1)
}

fn join_alias(i: usize) -> String {
    format!("_aj{}", i + 1)
}

/// The rows `hops` reach from the row of `outer` (qualified by its table name): `FROM` the
/// first hop's table with a join per further hop, `WHERE` the first hop's link.
fn chain(hops: &[ResolvedRelation], outer: &ModelMeta) -> Select {
    let col = super::field_as;
    let mut sel: Option<Select> = None;
    for (i, hop) in hops.iter().enumerate() {
        let a = alias(i);
        let target = Source::aliased(hop.target.table.clone(), a.clone());
        let prev = if i == 0 {
            outer.table.clone()
        } else {
            alias(i - 1)
        };
        match &hop.link {
            Link::Direct {
                source_field,
                target_field,
            } => {
                let on = col(&a, target_field).eq(col(&prev, source_field));
                match sel.as_mut() {
                    None => sel = Some(Select::from(target).filter(on)),
                    Some(s) => s.joins.push(Join {
                        kind: JoinKind::Inner,
                        source: target,
                        on,
                    }),
                }
            }
            Link::Through {
                table,
                source_key,
                source_column,
                target_column,
                target_key,
            } => {
                let j = join_alias(i);
                let jc = |c: &str, key: &crate::meta::FieldMeta| super::column_as(&j, c, key);
                let link = jc(source_column, source_key).eq(col(&prev, source_key));
                let on_target = col(&a, target_key).eq(jc(target_column, target_key));
                let through = Source::aliased(table.clone(), j.clone());
                match sel.as_mut() {
                    None => {
                        let mut s = Select::from(through).filter(link);
                        s.joins.push(Join {
                            kind: JoinKind::Inner,
                            source: target,
                            on: on_target,
                        });
                        sel = Some(s);
                    }
                    Some(s) => {
                        s.joins.push(Join {
                            kind: JoinKind::Inner,
                            source: through,
                            on: link,
                        });
                        s.joins.push(Join {
                            kind: JoinKind::Inner,
                            source: target,
                            on: on_target,
                        });
                    }
                }
            }
        }
    }
    sel.expect("at least one hop")
}

/// The part of `node` (a condition written from the queried model) that applies to the rows
/// `hops` reach: `Related` nodes on the path are opened, so `books__pages__gt=100` becomes
/// `pages > 100` on the joined book. `depth` is how many hops are already opened.
fn open(node: &QNode, hops: &[ResolvedRelation], depth: usize) -> QNode {
    match node {
        QNode::Related {
            rel,
            inner: Some(inner),
        } if depth < hops.len()
            && rel.name == hops[depth].name
            && rel.source.name == hops[depth].source.name =>
        {
            open(inner, hops, depth + 1)
        }
        QNode::And(items) => QNode::And(items.iter().map(|i| open(i, hops, depth)).collect()),
        other => other.clone(),
    }
}

/// `func(path)` for each row of `meta`: a correlated subquery over the rows the path reaches
/// (only those meeting `filter`, a condition written from `meta` in Django's path form).
pub fn per_row(
    meta: &Arc<ModelMeta>,
    func: AggFunc,
    path: &AggPath,
    distinct: bool,
    filter: Option<&QNode>,
) -> Result<Expr> {
    let shown = format!(
        "{}__{}",
        path.hops
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join("__"),
        path.field
    );
    let bad = |reason: String| Error::InvalidAggregate {
        model: meta.name.clone(),
        field: shown.clone(),
        function: func.name().to_owned(),
        reason,
    };
    // Aliases stand for the tables on the path; a table met twice (a relation of a model to
    // itself) would make a condition's table name ambiguous.
    let mut tables = vec![meta.table.as_str()];
    for h in &path.hops {
        if tables.contains(&h.target.table.as_str()) {
            return Err(bad(format!(
                "the path visits the table {:?} twice; aggregate it with a subquery \
                 (Subquery(…values(…).annotate(…)))",
                h.target.table
            )));
        }
        tables.push(&h.target.table);
    }
    let mut sel = chain(&path.hops, meta);
    let last = path.hops.last().expect("at least one hop");
    let f = crate::lookup::resolve_field(&last.target, &path.field)?;
    let arg = field_expr(&last.target, f);
    let mut agg = crate::aggregate::aggregate(
        func,
        Some(arg),
        distinct,
        None,
        (&meta.name, shown.as_str()),
    )?;
    let mut cond = filter.map(|q| open(q, &path.hops, 0).lower());
    for (i, h) in path.hops.iter().enumerate() {
        let (table, a) = (h.target.table.clone(), alias(i));
        let rename = move |q: &str| (q == table).then(|| a.clone());
        super::rename_qualifiers(&mut agg, &rename);
        if let Some(c) = cond.as_mut() {
            super::rename_qualifiers(c, &rename);
        }
    }
    if let Some(c) = cond {
        sel.add_filter(c);
    }
    let ty = agg.value_type().unwrap_or(ValueType::I64);
    Ok(Expr::Subquery(Box::new(sel.column(agg, ty))))
}

/// A [`per_row`] value combined over the rows of a group (`values(…).annotate(…)`, or the
/// whole query in `aggregate()`): a sum of per-row counts (0 for no rows) or sums, the least
/// minimum, the greatest maximum. `distinct` does not combine and is refused; `Avg` is
/// [`average_over_group`].
pub fn over_group(
    meta: &ModelMeta,
    func: AggFunc,
    per_row: Expr,
    distinct: bool,
    path: &str,
) -> Result<Expr> {
    let what = (meta.name.as_str(), path);
    if distinct || func == AggFunc::Avg {
        // (`Avg` without distinct never reaches here: `average_over_group`.)
        return Err(Error::InvalidAggregate {
            model: meta.name.clone(),
            field: path.to_owned(),
            function: func.name().to_owned(),
            reason: "over a relation path in a grouped query (values(…).annotate(…), \
                     aggregate()) only Count, Sum, Min and Max without distinct are supported; \
                     aggregate the related model instead (its own queryset, filtered by the \
                     relation)"
                .into(),
        });
    }
    Ok(match func {
        AggFunc::Count => {
            let sum = crate::aggregate::aggregate(AggFunc::Sum, Some(per_row), false, None, what)?;
            crate::functions::coalesce(vec![sum, Expr::Value(crate::Value::I64(0))])?
        }
        f => crate::aggregate::aggregate(f, Some(per_row), false, None, what)?,
    })
}

/// `Avg(path)` over the rows of a group, as Django computes it over the JOIN: every related
/// value of the group's rows counts once, so the result is the sum of the per-row sums
/// ([`per_row`] `Sum`) over the sum of the per-row counts (`Count` of the non-NULL values),
/// a float, NULL when the group has no value. Decimal fields are refused (their exact
/// division is not the same on both backends).
pub fn average_over_group(meta: &ModelMeta, sum: Expr, count: Expr, path: &str) -> Result<Expr> {
    let what = (meta.name.as_str(), path);
    if sum.value_type() == Some(ValueType::Decimal) {
        return Err(Error::InvalidAggregate {
            model: meta.name.clone(),
            field: path.to_owned(),
            function: "Avg".into(),
            reason: "Avg over a decimal relation path in a grouped query (values(…).annotate(…), \
                     aggregate()) is not supported; use Sum and Count, or aggregate the related \
                     model itself"
                .into(),
        });
    }
    let total = crate::aggregate::aggregate(AggFunc::Sum, Some(sum), false, None, what)?;
    let n = crate::aggregate::aggregate(AggFunc::Sum, Some(count), false, None, what)?;
    let float = |e: Expr| Expr::Cast {
        expr: Box::new(e),
        ty: ValueType::F64,
    };
    Ok(Expr::Case {
        whens: vec![(
            n.clone()
                .cmp(crate::ir::CmpOp::Gt, Expr::Value(crate::Value::I64(0))),
            Expr::Arith {
                left: Box::new(float(total)),
                op: crate::ir::ArithOp::Div,
                right: Box::new(float(n)),
            },
        )],
        default: Some(Box::new(Expr::Value(crate::Value::Null(ValueType::F64)))),
        ty: ValueType::F64,
    })
}

/// A [`per_row`] aggregate with `distinct` over every row the query matches
/// (`aggregate(n=Count("books__tags", distinct=True))`), as Django computes it over the JOIN:
/// one subquery over the queried table (aliased `_g`, the query's `WHERE` applied to it) joined
/// to the rows the path reaches, so a related row reached from two matching rows counts once.
/// Refused for a sliced, distinct or `HAVING`-filtered query (its rows are not a `WHERE`).
pub fn distinct_over_query(
    q: &crate::model_query::ModelQuery,
    per_row: Expr,
    path: &str,
) -> Result<Expr> {
    let bad = |reason: &str| Error::InvalidAggregate {
        model: q.meta.name.clone(),
        field: path.to_owned(),
        function: "distinct".into(),
        reason: reason.to_owned(),
    };
    if q.limit.is_some()
        || q.offset.is_some()
        || q.distinct
        || !q.distinct_on.is_empty()
        || q.having.is_some()
    {
        return Err(bad(
            "distinct=True over a relation path in aggregate() of a sliced, distinct or \
             aggregate-filtered query is not supported",
        ));
    }
    let Expr::Subquery(mut sel) = per_row else {
        return Err(bad("the per-row aggregate is not a subquery"));
    };
    let root = q.meta.table.clone();
    let g = "_g".to_owned();
    let rename = |e: &mut Expr| super::rename_qualifiers(e, &|t| (t == root).then(|| g.clone()));
    // FROM root AS _g, then the path's first source joined ON TRUE (its link to the root
    // row stays in WHERE), then the path's own joins.
    let first = std::mem::replace(&mut sel.from, Source::aliased(root.clone(), g.clone()));
    sel.joins.insert(
        0,
        Join {
            kind: JoinKind::Inner,
            source: first,
            on: Expr::Bool(true),
        },
    );
    for j in &mut sel.joins {
        rename(&mut j.on);
    }
    if let Some(f) = sel.filter.as_mut() {
        rename(f);
    }
    for c in &mut sel.columns {
        rename(&mut c.expr);
    }
    if let Some(mut f) = q.filter.clone() {
        rename(&mut f);
        sel.add_filter(f);
    }
    Ok(Expr::Subquery(sel))
}
