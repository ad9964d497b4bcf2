//! [`FilterFor<M>`]: what `filter` and `exclude` accept on a query over model `M`: conditions
//! built from `M`'s own columns (joined relations come with the relationships work).

use super::column::Column;
use super::typed_expr::{Condition, TypedExpr};

/// A condition usable as a filter of a query over `M`.
#[diagnostic::on_unimplemented(
    message = "this condition is not over `{M}`, so it cannot filter a `{M}` query",
    label = "`{Self}` is built from another model's columns",
    note = "a query's filters may use only its own model's columns: build this one from `{M}::…()` accessors"
)]
pub trait FilterFor<M> {
    /// The condition.
    fn into_condition(self) -> Condition<M>;
}

impl<M> FilterFor<M> for TypedExpr<M, bool> {
    fn into_condition(self) -> Condition<M> {
        self
    }
}

/// A boolean column is a condition by itself (`filter(User::is_active())`).
impl<M> FilterFor<M> for Column<M, bool> {
    fn into_condition(self) -> Condition<M> {
        self.expr()
    }
}

/// `!User::is_active()`: the boolean column is false.
impl<M> std::ops::Not for Column<M, bool> {
    type Output = Condition<M>;
    fn not(self) -> Condition<M> {
        self.expr().not()
    }
}
