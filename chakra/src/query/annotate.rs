//! Annotated queries: `Author::query().annotate(named("n", Author::books().count()))`
//! selects each model with one or more typed values computed per row (Django's
//! `annotate(n=Count("books"))`, through the same [`ModelQuery::annotate`] the Python door
//! calls), returning `(model, values)` pairs.

use super::Query;
use crate::exec::Executor;
use crate::model::Model;
use chakra_dsl::typed::group::{GroupByKey, KeyColumn};
use chakra_dsl::typed::{FilterFor, IntoOrdering};
use chakra_dsl::{Error, ModelQuery, Result, Statement};
use std::marker::PhantomData;

/// What `Query::annotate` takes: one typed expression over `M` (`Author::books().count()`),
/// a named one (`named("n", …)`, the annotation's name in the SQL), or a tuple of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot annotate a `{M}` query",
    label = "`annotate` takes an expression over `{M}` (`{M}::relation().count()`, \
             `{M}::relation().value(Other::column())`, arithmetic), a `named(\"n\", …)` one, \
             or a tuple of them",
    note = "expressions range over the query's model; reach another model through a relation"
)]
pub trait AnnotationSet<M> {
    /// The Rust values of one row's annotations.
    type Output;
    /// The annotation expressions, each with its name when `named`.
    fn annotations(self) -> Vec<KeyColumn>;
    /// Reads the annotations from the cells after the model's fields.
    fn decode(cells: Vec<chakra_dsl::Value>) -> std::result::Result<Self::Output, String>;
}

impl<M, K: GroupByKey<M>> AnnotationSet<M> for K {
    type Output = K::Output;
    fn annotations(self) -> Vec<KeyColumn> {
        self.group_columns()
    }
    fn decode(cells: Vec<chakra_dsl::Value>) -> std::result::Result<Self::Output, String> {
        K::decode_key(cells)
    }
}

/// A query over `M` with the annotations `A`: rows are `(M, A::Output)`.
pub struct Annotated<M, A> {
    query: Query<M>,
    items: Vec<KeyColumn>,
    _p: PhantomData<fn() -> A>,
}

impl<M: Model> Query<M> {
    /// Adds values computed per row, returned beside each model:
    /// `Author::query().annotate(named("n", Author::books().count())).all(&pool)` is a
    /// `Vec<(Author, i64)>` (Django's `annotate(n=Count("books"))`). A tuple annotates
    /// several values; an unnamed one is named `annotation_1`, `annotation_2`, ….
    /// Filter and order on the same expressions before or after.
    pub fn annotate<A: AnnotationSet<M>>(self, annotations: A) -> Annotated<M, A> {
        Annotated {
            query: self,
            items: annotations.annotations(),
            _p: PhantomData,
        }
    }
}

impl<M: Model, A: AnnotationSet<M>> Annotated<M, A> {
    /// Keeps the rows where `cond` holds (it may use the annotated expressions).
    pub fn filter<C: FilterFor<M>>(mut self, cond: C) -> Self {
        self.query = self.query.filter(cond);
        self
    }

    /// Sorts the rows (by a column or an expression, such as an annotated one).
    pub fn order_by<O: IntoOrdering<M>>(mut self, key: O) -> Self {
        self.query = self.query.order_by(key);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.query = self.query.limit(n);
        self
    }

    /// The model query with the annotations added (a clashing or invalid name is
    /// [`Error::AnnotationConflict`] / an identifier error naming the model).
    pub fn model_query(&self) -> Result<ModelQuery> {
        if !self.query.load_spec().is_empty() {
            return Err(Error::InvalidQuery(format!(
                "annotate() on {}: select_related/prefetch_related cannot be combined with \
                 annotations; load the relations with a second query",
                M::NAME
            )));
        }
        let mut mq = self.query.model_query().clone();
        for (i, k) in self.items.iter().enumerate() {
            let name = k
                .alias
                .clone()
                .unwrap_or_else(|| format!("annotation_{}", i + 1));
            mq = mq.annotate(&name, k.expr.clone())?;
        }
        Ok(mq)
    }

    /// The statement [`Annotated::all`] runs: the model's fields, then the annotations.
    pub fn to_statement(&self) -> Result<Statement> {
        Ok(Statement::Select(self.model_query()?.select()))
    }

    /// Every matching row with its annotations, typed.
    pub async fn all<E: Executor>(self, mut exec: E) -> Result<Vec<(M, A::Output)>> {
        let mq = self.model_query()?;
        let n = mq.meta.fields.len();
        let rows = exec.fetch(&Statement::Select(mq.select())).await?;
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            if row.len() != n + self.items.len() {
                return Err(Error::Decode {
                    column: format!("{} annotations", M::NAME),
                    reason: format!(
                        "expected {} columns, got {}",
                        n + self.items.len(),
                        row.len()
                    ),
                });
            }
            let rest = row.split_off(n);
            let values = A::decode(rest).map_err(|reason| Error::Decode {
                column: format!("{} annotations", M::NAME),
                reason,
            })?;
            out.push((M::from_row(row)?, values));
        }
        Ok(out)
    }
}
