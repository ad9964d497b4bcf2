//! Typed relations in filters and eager loading: `User::posts().any(Post::title().contains("x"))`
//! filters users by their posts (a semi-join, each user once), and relation paths
//! (`Post::author().then(User::profile())`) name what `select_related` / `prefetch_related`
//! load. The compiler checks that a condition is over the relation's target model, that a
//! path continues from the model the previous hop points at, and that `select_related`
//! takes only relations to one row.

use super::filter::FilterFor;
use super::related::{OneRow, Related, RelatedField, Relation, RelationTarget};
use super::typed_expr::Condition;
use crate::relations::{exists, resolve_relation, ResolvedRelation};
use std::marker::PhantomData;

type TargetOf<R> = <R as RelatedField>::Target;

fn resolve<M: RelationTarget, R: RelatedField>(name: &str) -> ResolvedRelation {
    let models = vec![
        M::model_meta().clone(),
        <TargetOf<R> as RelationTarget>::model_meta().clone(),
    ];
    resolve_relation(&models, M::model_meta(), name).unwrap_or_else(|e| {
        panic!(
            "relation {}.{name} is declared inconsistently: {e}",
            M::MODEL_NAME
        )
    })
}

impl<M: RelationTarget, R: RelatedField> Relation<M, R> {
    /// Rows of `M` with at least one related row matching `cond` (`EXISTS`): the Rust
    /// spelling of the lookup `posts__title__contains="x"`. Its negation (`exclude`) keeps
    /// the rows where no related row matches.
    ///
    /// A comparison with the outer row (`Post::id().gt_outer(User::id())`, Django's
    /// `posts__id__gt=F("id")`) reads the row of `M` being filtered.
    pub fn any<C: FilterFor<TargetOf<R>>>(self, cond: C) -> Condition<M> {
        let rel = resolve::<M, R>(self.name());
        let mut cond = cond.into_condition().into_ir();
        crate::ir::walk::walk_expr(&mut cond, &mut OuterRow(M::model_meta()));
        let mut e = exists(&rel, Some(cond));
        crate::lookup::restore_outer(&mut e);
        Condition::from_ir(e, false)
    }

    /// Rows of `M` with at least one related row (`posts__isnull=False`).
    pub fn exists(self) -> Condition<M> {
        let rel = resolve::<M, R>(self.name());
        Condition::from_ir(exists(&rel, None), false)
    }

    /// Rows of `M` with no related row (`posts__isnull=True`).
    pub fn is_empty(self) -> Condition<M> {
        Condition::from_ir(self.exists().into_ir().not(), false)
    }

    /// The path `self` then `next` (`Post::author().then(User::profile())`, the lookup
    /// path `author__profile`).
    pub fn then<R2>(self, next: Relation<TargetOf<R>, R2>) -> RelationPath<M, R2>
    where
        R2: RelatedField,
    {
        RelationPath {
            path: format!("{}__{}", self.name(), next.name()),
            many: R::MANY || R2::MANY,
            _p: PhantomData,
        }
    }
}

/// Resolves `OuterRef`s (from `eq_outer`, `gt_outer`, …) to the filtered model's columns,
/// marked so the `EXISTS` around them leaves them alone.
struct OuterRow<'m>(&'m crate::meta::ModelMeta);

impl crate::ir::walk::VisitMut for OuterRow<'_> {
    fn expr(&mut self, e: &mut crate::ir::Expr) {
        if let crate::ir::Expr::OuterRef(name) = e {
            if let Ok(f) = crate::lookup::resolve_field(self.0, name) {
                let col = crate::model_query::field_expr(self.0, f);
                *e = crate::lookup::mark_outer(col, self.0);
            }
        }
    }
}

/// Several relation hops from model `M`, ending at a field of type `R`.
pub struct RelationPath<M, R> {
    path: String,
    many: bool,
    _p: PhantomData<fn() -> (M, R)>,
}

impl<M, R> Clone for RelationPath<M, R> {
    fn clone(&self) -> Self {
        RelationPath {
            path: self.path.clone(),
            many: self.many,
            _p: PhantomData,
        }
    }
}

impl<M, R> std::fmt::Debug for RelationPath<M, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RelationPath({})", self.path)
    }
}

impl<M, R: RelatedField> RelationPath<M, R> {
    /// The path continued by `next`.
    pub fn then<R2: RelatedField>(self, next: Relation<TargetOf<R>, R2>) -> RelationPath<M, R2> {
        RelationPath {
            path: format!("{}__{}", self.path, next.name()),
            many: self.many || R2::MANY,
            _p: PhantomData,
        }
    }

    /// The lookup path (`author__profile`).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// What `prefetch_related` takes: a relation or a path of relations from `M`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a relation of `{M}`",
    label = "expected a relation accessor of this query's model, such as `{M}::posts()`",
    note = "relation paths start at the query's model: `A::b().then(B::c())`"
)]
pub trait RelationPathOf<M> {
    /// The model the path ends at.
    type Target;
    /// The lookup path.
    fn lookup_path(&self) -> String;
    /// True when some hop holds many rows.
    fn is_many(&self) -> bool;
}

impl<M, R: RelatedField> RelationPathOf<M> for Relation<M, R> {
    type Target = TargetOf<R>;
    fn lookup_path(&self) -> String {
        self.name().to_owned()
    }
    fn is_many(&self) -> bool {
        R::MANY
    }
}

impl<M, R: RelatedField> RelationPathOf<M> for RelationPath<M, R> {
    type Target = TargetOf<R>;
    fn lookup_path(&self) -> String {
        self.path.clone()
    }
    fn is_many(&self) -> bool {
        self.many
    }
}

/// What `select_related` takes: a relation (or path) from `M` to at most one row per hop.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be joined: select_related follows relations to one row of `{M}`",
    label = "a relation to many rows, or not a relation of `{M}`",
    note = "load one-to-many and many-to-many relations with `prefetch_related(…)`; build \
            join paths with `then_one`"
)]
pub trait SingleRelationPath<M>: RelationPathOf<M> {}

impl<M, T: RelationTarget + OneRow> SingleRelationPath<M> for Relation<M, Related<T>> where
    Related<T>: RelatedField
{
}

impl<M: RelationTarget, T: RelationTarget + OneRow> Relation<M, Related<T>>
where
    Related<T>: RelatedField,
{
    /// Like [`Relation::then`], for `select_related` paths: every hop leads to one row
    /// (`Post::author().then_one(User::profile())`).
    pub fn then_one<T2>(self, next: Relation<T::Model, Related<T2>>) -> OnePath<M, Related<T2>>
    where
        T2: RelationTarget + OneRow,
        Related<T2>: RelatedField,
    {
        OnePath(RelationPath {
            path: format!("{}__{}", self.name(), next.name()),
            many: false,
            _p: PhantomData,
        })
    }
}

/// A relation path whose every hop leads to at most one row (what `select_related` joins).
pub struct OnePath<M, R>(RelationPath<M, R>);

impl<M, T: RelationTarget + OneRow> OnePath<M, Related<T>> {
    /// The path continued by another one-row hop.
    pub fn then_one<T2>(self, next: Relation<T::Model, Related<T2>>) -> OnePath<M, Related<T2>>
    where
        T2: RelationTarget + OneRow,
    {
        OnePath(RelationPath {
            path: format!("{}__{}", self.0.path, next.name()),
            many: false,
            _p: PhantomData,
        })
    }
}

impl<M, R: RelatedField> RelationPathOf<M> for OnePath<M, R> {
    type Target = TargetOf<R>;
    fn lookup_path(&self) -> String {
        self.0.path.clone()
    }
    fn is_many(&self) -> bool {
        false
    }
}

impl<M, R: RelatedField> SingleRelationPath<M> for OnePath<M, R> {}
