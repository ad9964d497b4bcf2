//! The query IR: what both front doors build and the SQL compilers consume.
//!
//! - [`expr`] — expressions ([`Expr`]): columns, values, comparisons, LIKE, IN, NULL tests,
//!   boolean logic, date parts, arithmetic, subqueries.
//! - [`select`] — [`Select`] with sources, joins, ordering, limit/offset, and the
//!   count/exists wrappers.
//! - [`write`](mod@write) — [`Insert`], [`Update`], [`Delete`].

pub mod expr;
pub mod select;
pub mod walk;
pub mod write;

pub use expr::{
    AggFunc, Aggregate, ArithOp, CmpOp, ColumnRef, ContainOf, ContainOp, DatePart, Expr, JsonAs,
    LikeKind, ScalarFunc,
};
pub use select::{
    CompoundPart, Join, JoinKind, LockStrength, LockWait, OrderBy, RowLock, Select, SelectItem,
    SetOp, Source, Statement,
};
pub use write::{BulkUpdate, Delete, EnumColumns, Insert, OnConflict, Update, Upsert};
