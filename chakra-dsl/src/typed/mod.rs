//! The typed layer of the Rust front door: columns and expressions whose Rust types make the
//! compiler reject queries that cannot make sense, lowering to the one IR ([`crate::Expr`]).
//!
//! - [`column_type`]: [`ColumnType`], the Rust types a field can have, and value conversion.
//! - [`value_for`]: [`ValueFor`], which values a column of type `T` takes.
//! - [`compare_to`]: [`CompareTo`], what a comparison takes: a value, a column or an
//!   expression (a related row's column, Django's `F("author__age")`).
//! - [`markers`]: which methods a column has (text, nullable, date/time, numeric) and the
//!   checks behind `#[chakra(...)]` attributes.
//! - [`column`](mod@column): [`Column<M, T>`]; [`typed_expr`]: [`TypedExpr<M, T>`] and [`Condition<M>`].
//! - `methods`: the methods both share (`eq`, `starts_with`, `is_null`, `year`, `asc`, …).
//! - [`lower`](mod@lower): how each method lowers to the IR.
//! - [`order`]: [`Ordering<M>`]; [`filter`]: [`FilterFor<M>`].
//! - [`aggregate`]: `count`, `sum`, `avg`, `min`, `max` and [`AggregateSet`].
//! - [`functions`]: `coalesce`, `lower`, `upper`, `length`, `cast`, `when`, `now`, and
//!   [`Selection`], the typed select of `Query::values`.
//! - [`group`]: [`GroupKey`], the columns `Query::group_by` takes.
//! - [`related`]: [`Related<T>`] fields and [`Relation<M, T>`] handles.

pub mod aggregate;
pub mod arith;
pub mod assign;
pub mod cell;
pub mod column;
pub mod column_type;
pub mod compare_to;
pub mod contain;
pub mod filter;
pub mod functions;
pub mod group;
pub mod json_path;
pub mod key_type;
pub mod lower;
pub mod markers;
pub(crate) mod methods;
pub mod order;
pub mod outer;
pub mod related;
pub mod relation_path;
pub mod relation_value;
#[cfg(feature = "rust_decimal")]
pub mod rust_decimal_type;
pub mod typed_expr;
pub mod value_for;

pub use aggregate::{
    avg, count, count_all, max, min, sum, Agg, AggArg, AggregateSet, Ordered, Summable,
};
pub use arith::{ArithRhs, Promote};
pub use assign::{AssignTo, ByColumn, ByExpr, ByValue};
pub use cell::{read_field, Cell, Keyed, ReadRow, RowCells, ValueCells, KEY_CELL};
pub use column::Column;
pub use column_type::{ArrayElement, ColumnType, FieldOptions};
pub use compare_to::CompareTo;
pub use contain::{ArrayColumn, ContainedByArg, ContainsArg, JsonColumn};
pub use filter::FilterFor;
pub use functions::{
    cast, coalesce, length, lower, named, now, upper, value, when, CastInto, IntoExpr, Named,
    Selectable, Selection,
};
pub use group::{GroupByKey, GroupKey, KeyColumn, KeyPart};
pub use json_path::{JsonOrdered, JsonPath, JsonScalar};
pub use key_type::KeyType;
pub use markers::same_str;
pub use markers::{
    AutoIncrementType, AutoNowType, DateTimeType, DecimalType, FromLiteral, MaxLengthType,
    NowDefault, NullableType, NumericType, SchemaColumn, TemporalType, TextType,
};
pub use order::{IntoOrdering, Ordering};
pub use related::{Cardinality, OneRow, Related, RelatedField, Relation, RelationTarget};
pub use relation_path::{OnePath, RelationPath, RelationPathOf, SingleRelationPath};
pub use typed_expr::{Condition, TypedExpr};
pub use value_for::{EnumColumn, ValueFor};
