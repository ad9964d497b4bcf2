//! Annotations and grouping on a [`ModelQuery`]: `annotate(n=Count("id"))` adds a named
//! computed column; with an aggregate in it the rows are grouped (by the primary key, or by
//! the fields of a preceding `values(...)`), a filter over an aggregate annotation becomes
//! `HAVING`, and the annotation can be ordered by. Aggregates over relation paths
//! (`annotate(n_posts=Count("posts"))`, `Sum("posts__words")`) are correlated scalar
//! subqueries (`relations::aggregate`), so they never multiply rows and several of them can
//! sit side by side; in a grouped query their per-row values are combined per group.

use crate::error::{Error, Result};
use crate::ir::{AggFunc, Expr};
use crate::lookup::QNode;
use crate::meta::{FieldMeta, ModelMeta};
use crate::model_query::{field_expr, ModelQuery};
use crate::relations::aggregate::{agg_path, over_group, per_row};
use crate::relations::Models;

use crate::types::{FieldType, ValueType};
use std::sync::Arc;

/// The column name standing for an annotation while a filter is parsed against
/// [`ModelQuery::annotated_meta`]; never reaches SQL.
const MARK: &str = "\u{0}annotation:";

fn field_type_of(t: &ValueType) -> FieldType {
    match t {
        ValueType::I32 => FieldType::Integer,
        ValueType::I64 => FieldType::BigInteger,
        ValueType::F64 => FieldType::Float,
        ValueType::Decimal => FieldType::Decimal {
            precision: None,
            scale: None,
        },
        ValueType::Bool => FieldType::Boolean,
        ValueType::Date => FieldType::Date,
        ValueType::DateTime => FieldType::DateTime,
        ValueType::Uuid => FieldType::Uuid,
        ValueType::Json => FieldType::Json,
        ValueType::Bytes => FieldType::Bytes,
        _ => FieldType::Text,
    }
}

fn substitute(e: &mut Expr, table: &str, anns: &[(String, Expr)]) {
    if let Expr::Column(c) = e {
        if c.table.as_deref() == Some(table) {
            if let Some(name) = c.column.strip_prefix(MARK) {
                if let Some((_, a)) = anns.iter().find(|(n, _)| n == name) {
                    *e = a.clone();
                }
            }
        }
        return;
    }
    match e {
        Expr::Compare { left, right, .. } | Expr::Arith { left, right, .. } => {
            substitute(left, table, anns);
            substitute(right, table, anns);
        }
        Expr::Like { expr, .. }
        | Expr::Regex { expr, .. }
        | Expr::In { expr, .. }
        | Expr::InSubquery { expr, .. }
        | Expr::IsNull { expr, .. }
        | Expr::Extract { expr, .. }
        | Expr::DateOf(expr)
        | Expr::ArrayLen(expr)
        | Expr::ArrayIndex { expr, .. }
        | Expr::Not(expr) => substitute(expr, table, anns),
        Expr::Contain { left, right, .. } => {
            substitute(left, table, anns);
            substitute(right, table, anns);
        }
        Expr::Between { expr, low, high } => {
            substitute(expr, table, anns);
            substitute(low, table, anns);
            substitute(high, table, anns);
        }
        Expr::And(items) | Expr::Or(items) => {
            for i in items {
                substitute(i, table, anns);
            }
        }
        _ => {}
    }
}

impl ModelQuery {
    /// The annotation named `name`.
    pub fn annotation(&self, name: &str) -> Option<&Expr> {
        self.annotations
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }

    /// Adds the annotation `name`. The name must be a usable identifier and must not clash
    /// with a field, a relation, `pk` or another annotation ([`Error::AnnotationConflict`]).
    pub fn annotate(mut self, name: &str, e: Expr) -> Result<Self> {
        crate::ident::validate(name)?;
        let clash = if self.meta.field(name).is_some() || name == "pk" {
            Some("a field")
        } else if self.meta.relation(name).is_some() {
            Some("a relation")
        } else if self.annotation(name).is_some() {
            Some("another annotation")
        } else {
            None
        };
        if let Some(what) = clash {
            return Err(Error::AnnotationConflict {
                model: self.meta.name.clone(),
                name: name.to_owned(),
                reason: format!("the name is taken by {what}"),
            });
        }
        if !self.path_joins.is_empty() && crate::model_query::aggregates(&e) {
            return Err(Error::InvalidQuery(format!(
                "annotate({name}=…) on {}: an aggregate next to a relation path to many rows \
                 (`order_by`, `values` or `F` through one) would count the joined rows; \
                 aggregate first, then order or select by the aggregate",
                self.meta.name
            )));
        }
        self.annotations.push((name.to_owned(), e));
        Ok(self)
    }

    /// Groups aggregate annotations by the named fields (`values("country")` before
    /// `annotate`).
    pub fn group_by_fields(mut self, names: &[&str]) -> Result<Self> {
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            let f = crate::lookup::resolve_field(&self.meta, n)?;
            out.push(field_expr(&self.meta, f));
        }
        self.group_by = out;
        Ok(self)
    }

    /// The `GROUP BY` of the select: none without aggregate annotations; else the fields of
    /// [`ModelQuery::group_by`], or the primary key (every field depends on it), or every
    /// field of a model without one.
    pub fn grouping(&self) -> Vec<Expr> {
        let aggregated =
            self.annotations.iter().any(|(_, e)| e.has_aggregate()) || self.having.is_some();
        if !aggregated {
            return Vec::new();
        }
        if !self.group_by.is_empty() {
            return self.group_by.clone();
        }
        let keys = self.meta.primary_key_fields();
        match keys.is_empty() {
            // Every key field (several for a composite key) determines the row.
            false => keys.iter().map(|pk| field_expr(&self.meta, pk)).collect(),
            true => self
                .meta
                .fields
                .iter()
                .map(|f| field_expr(&self.meta, f))
                .collect(),
        }
    }

    /// The model's metadata with one pseudo-field per annotation, so lookups
    /// (`n__gt=2`) parse against annotations as against fields; the conditions built go
    /// through [`ModelQuery::resolve_annotations`] before use.
    pub fn annotated_meta(&self) -> Arc<ModelMeta> {
        if self.annotations.is_empty() {
            return self.meta.clone();
        }
        let mut meta = (*self.meta).clone();
        for (name, e) in &self.annotations {
            let ty = e.value_type().unwrap_or(ValueType::I64);
            let mut f = FieldMeta::new(name.clone(), field_type_of(&ty));
            f.column = format!("{MARK}{name}");
            f.nullable = true;
            meta.fields.push(f);
        }
        Arc::new(meta)
    }

    /// Replaces the annotation references of a condition built against
    /// [`ModelQuery::annotated_meta`] by the annotations' expressions.
    pub fn resolve_annotations(&self, mut e: Expr) -> Expr {
        substitute(&mut e, &self.meta.table, &self.annotations);
        e
    }

    /// ANDs in a condition that may use annotations: the parts over aggregates go to
    /// `HAVING`, the rest to `WHERE`.
    pub fn filter_annotated(mut self, cond: Expr) -> Self {
        let cond = self.resolve_annotations(cond);
        let parts = match cond {
            Expr::And(items) => items,
            other => vec![other],
        };
        for p in parts {
            if p.has_aggregate() {
                self.having = Some(match self.having.take() {
                    Some(h) => h.and(p),
                    None => p,
                });
            } else {
                self = self.filter(p);
            }
        }
        self
    }

    /// Keeps the conditions on relations of a `filter()` call (`node`, before lowering):
    /// the related rows they keep are what a later aggregate over the relation sees
    /// ([`ModelQuery::path_aggregate`]). Only those that must hold (not under a negation or
    /// an OR) count, as Django reuses only those joins.
    pub fn remember_related(mut self, node: &QNode) -> Self {
        fn collect(n: &QNode, out: &mut Vec<QNode>) {
            match n {
                QNode::And(items) => items.iter().for_each(|i| collect(i, out)),
                QNode::Related { inner: Some(_), .. } => out.push(n.clone()),
                _ => {}
            }
        }
        collect(node, &mut self.related_filters);
        self
    }

    /// An aggregate over a relation path (`Count("books")`, `Sum("books__pages")`,
    /// `Count("books__tags", distinct=True)`), `filter` written from this model (Django's
    /// path form) and the earlier `filter()` calls' conditions on the same relation applied:
    /// per row, or combined over the group when the query is grouped (`grouped`: `Some`
    /// to say, `None` when `values(…)` fields group it). `None` when `path` is a field of
    /// the model itself.
    pub fn path_aggregate(
        &self,
        models: &dyn Models,
        func: AggFunc,
        path: &str,
        distinct: bool,
        filter: Option<&QNode>,
        grouped: Option<bool>,
    ) -> Result<Option<Expr>> {
        let Some(p) = agg_path(models, &self.meta, path)? else {
            return Ok(None);
        };
        let first = &p.hops[0];
        let mut conds: Vec<QNode> = self
            .related_filters
            .iter()
            .filter(|n| {
                matches!(n, QNode::Related { rel, .. }
                    if rel.name == first.name && rel.source.name == first.source.name)
            })
            .cloned()
            .collect();
        conds.extend(filter.cloned());
        let cond = (!conds.is_empty()).then_some(QNode::And(conds));
        let grouped = grouped.unwrap_or(!self.group_by.is_empty());
        if grouped && func == AggFunc::Avg && !distinct {
            // Django's average over the group's joined rows: the sum of the per-row sums over
            // the sum of the per-row counts of non-NULL values (NULL when there are none).
            let sum = per_row(&self.meta, AggFunc::Sum, &p, false, cond.as_ref())?;
            let count = per_row(&self.meta, AggFunc::Count, &p, false, cond.as_ref())?;
            return crate::relations::aggregate::average_over_group(&self.meta, sum, count, path)
                .map(Some);
        }
        let e = per_row(&self.meta, func, &p, distinct, cond.as_ref())?;
        if distinct && grouped && self.group_by.is_empty() {
            // `aggregate(n=Count("books__tags", distinct=True))`: over every matching row.
            return crate::relations::aggregate::distinct_over_query(self, e, path).map(Some);
        }
        if grouped {
            return over_group(&self.meta, func, e, distinct, path).map(Some);
        }
        Ok(Some(e))
    }
}
