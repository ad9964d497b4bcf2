//! [`Ordering<M>`]: one sort key of a query over model `M` (`User::created_at().desc()`).

use super::column::Column;
use super::column_type::ColumnType;
use crate::ir::OrderBy;
use std::marker::PhantomData;

/// A sort key over model `M`.
pub struct Ordering<M> {
    order: OrderBy,
    _p: PhantomData<fn() -> M>,
}

impl<M> Clone for Ordering<M> {
    fn clone(&self) -> Self {
        Ordering {
            order: self.order.clone(),
            _p: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Ordering<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.order.fmt(f)
    }
}

impl<M> Ordering<M> {
    /// Wraps an IR sort key, trusting the caller that it ranges over `M`.
    pub fn from_ir(order: OrderBy) -> Self {
        Ordering {
            order,
            _p: PhantomData,
        }
    }

    /// The IR sort key.
    pub fn into_ir(self) -> OrderBy {
        self.order
    }
}

/// What `order_by` takes for a query over `M`: an [`Ordering<M>`], or a column of `M`
/// (ascending).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a sort key of a `{M}` query",
    label = "expected `{M}::column().asc()` or `.desc()` (a sort key over `{M}`'s own columns)"
)]
pub trait IntoOrdering<M> {
    /// The sort key.
    fn into_ordering(self) -> Ordering<M>;
}

impl<M> IntoOrdering<M> for Ordering<M> {
    fn into_ordering(self) -> Ordering<M> {
        self
    }
}

impl<M, T: ColumnType> IntoOrdering<M> for Column<M, T> {
    fn into_ordering(self) -> Ordering<M> {
        self.asc()
    }
}
