//! Values across relations, typed: the Rust spelling of Django's relation paths outside
//! filters. `Post::author().value(User::username())` is `"author__username"` in `order_by`,
//! `values` or `F(…)` (NULL when there is no related row); `User::posts().count()` and
//! `User::posts().sum(Post::words())` are `Count("posts")` / `Sum("posts__words")` per row
//! (correlated subqueries, as `relations::aggregate` builds them for the Python door), to
//! order by, select or filter on.

use super::aggregate::{Ordered, Summable};
use super::column::Column;
use super::column_type::ColumnType;
use super::related::{OneRow, Related, RelatedField, Relation, RelationTarget};
use super::typed_expr::TypedExpr;
use crate::ir::{AggFunc, Expr};
use crate::relations::aggregate::{per_row, AggPath};
use crate::relations::{related_value, resolve_relation, ResolvedRelation};

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

impl<M: RelationTarget, T: RelationTarget + OneRow> Relation<M, Related<T>>
where
    Related<T>: RelatedField,
{
    /// The related row's `col`, NULL when there is none (Django's LEFT JOIN):
    /// `Post::query().order_by(Post::author().value(User::username()).asc())` is
    /// `order_by("author__username")`.
    pub fn value<V: ColumnType>(self, col: Column<TargetOf<Related<T>>, V>) -> TypedExpr<M, V> {
        let rel = resolve::<M, Related<T>>(self.name());
        let e = related_value(&rel, col.ir()).expect("a relation to one row links directly");
        TypedExpr::from_ir(e, true)
    }
}

impl<M: RelationTarget, R: RelatedField> Relation<M, R> {
    fn per_row(self, func: AggFunc, field: &str) -> Expr {
        let rel = resolve::<M, R>(self.name());
        let path = AggPath {
            hops: vec![rel],
            field: field.to_owned(),
        };
        per_row(M::model_meta(), func, &path, false, None)
            .unwrap_or_else(|e| panic!("{}.{}: {e}", M::MODEL_NAME, self.name()))
    }

    /// The number of related rows of each row (`Count("posts")`): 0 without any.
    pub fn count(self) -> TypedExpr<M, i64> {
        // Any key field counts the rows (key fields are never NULL): the first of a
        // composite key.
        let pk = <TargetOf<R> as RelationTarget>::model_meta()
            .primary_key_fields()
            .first()
            .map(|f| f.name.clone())
            .unwrap_or_else(|| "id".into());
        TypedExpr::from_ir(self.per_row(AggFunc::Count, &pk), false)
    }

    /// The sum of `col` over each row's related rows (`Sum("posts__words")`), NULL without
    /// any.
    pub fn sum<V: Summable>(self, col: Column<TargetOf<R>, V>) -> TypedExpr<M, V::Sum> {
        TypedExpr::from_ir(self.per_row(AggFunc::Sum, col.field_name()), true)
    }

    /// The greatest `col` among each row's related rows (`Max("posts__title")`).
    pub fn max<V: Ordered>(self, col: Column<TargetOf<R>, V>) -> TypedExpr<M, Option<V::Inner>> {
        TypedExpr::from_ir(self.per_row(AggFunc::Max, col.field_name()), true)
    }

    /// The least `col` among each row's related rows (`Min("posts__title")`).
    pub fn min<V: Ordered>(self, col: Column<TargetOf<R>, V>) -> TypedExpr<M, Option<V::Inner>> {
        TypedExpr::from_ir(self.per_row(AggFunc::Min, col.field_name()), true)
    }
}
