//! Annotations and grouping on a [`ModelQuery`]: `annotate(n=Count("id"))` adds a named
//! computed column; with an aggregate in it the rows are grouped (by the primary key, or by
//! the fields of a preceding `values(...)`), a filter over an aggregate annotation becomes
//! `HAVING`, and the annotation can be ordered by. Relation aggregates
//! (`annotate(n_posts=Count("posts"))`) are correlated scalar subqueries, so they never
//! multiply rows and several of them can sit side by side.

use crate::error::{Error, Result};
use crate::ir::{AggFunc, Expr};
use crate::meta::{FieldMeta, ModelMeta};
use crate::model_query::{field_expr, ModelQuery};
use crate::relations::{exists, resolve_relation, Models};

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
        match self.meta.primary_key() {
            Some(pk) => vec![field_expr(&self.meta, pk)],
            None => self
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

    /// `Count("posts")`: the number of rows related through `relation`, as a correlated
    /// subquery (`(SELECT COUNT(*) FROM posts AS _r1 WHERE _r1.author_id = users.id)`),
    /// only those matching `filter` (over the related model's columns) when given.
    pub fn relation_count(
        &self,
        models: &dyn Models,
        func: AggFunc,
        relation: &str,
        filter: Option<Expr>,
    ) -> Result<Expr> {
        if func != AggFunc::Count {
            return Err(Error::InvalidAggregate {
                model: self.meta.name.clone(),
                field: relation.to_owned(),
                function: func.name().to_owned(),
                reason: "over a relation only Count applies; name a field of the related \
                         model for the others"
                    .into(),
            });
        }
        let rel = resolve_relation(models, &self.meta, relation)?;
        match exists(&rel, filter) {
            Expr::Exists(mut s) => {
                s.columns = vec![crate::ir::SelectItem::new(Expr::CountStar, ValueType::I64)];
                Ok(Expr::Subquery(s))
            }
            _ => unreachable!("exists() builds an EXISTS"),
        }
    }
}
