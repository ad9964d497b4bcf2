//! Containment and keys on array and JSON columns, typed: `Thing::tags().contains(vec!["a"])`,
//! `Thing::tags().overlaps(…)`, `Thing::tags().len()`, `Thing::tags().at(0)`,
//! `Thing::data().contains(json!({"plan": "pro"}))`, `Thing::data().has_keys(["a", "b"])`.
//! They lower to the same [`Expr::Contain`] / [`Expr::ArrayLen`] / [`Expr::ArrayIndex`]
//! nodes as Python's `tags__contains`, `tags__len`, `tags__0`, `data__has_keys`.

use super::column::Column;
use super::column_type::{ArrayElement, ColumnType};
use super::typed_expr::{Condition, TypedExpr};
use crate::ir::{ContainOf, ContainOp, Expr, LikeKind};
use crate::value::{ArrayValue, Value};

/// Array columns: `Vec<T>` and `Option<Vec<T>>`.
#[diagnostic::on_unimplemented(
    message = "this is a `{Self}` column, and array lookups work only on array columns",
    label = "`overlaps`, `len` and `at` need a `Vec<T>` or `Option<Vec<T>>` column"
)]
pub trait ArrayColumn: ColumnType {
    /// The element type.
    type Elem: ArrayElement;
}

impl<E: ArrayElement> ArrayColumn for Vec<E> {
    type Elem = E;
}

impl<E: ArrayElement> ArrayColumn for Option<Vec<E>> {
    type Elem = E;
}

/// JSON columns: `serde_json::Value` and `Option<serde_json::Value>`.
#[diagnostic::on_unimplemented(
    message = "this is a `{Self}` column, and JSON key lookups work only on JSON columns",
    label = "`has_key`, `has_keys` and `has_any_keys` need a `serde_json::Value` column"
)]
pub trait JsonColumn: ColumnType {}

impl JsonColumn for serde_json::Value {}
impl JsonColumn for Option<serde_json::Value> {}

/// What `contains` takes on a column of type `T`: text on a text column (matched literally),
/// the elements on an array column (all of them must be in the array), a document on a JSON
/// column (PostgreSQL's `@>`).
#[diagnostic::on_unimplemented(
    message = "`contains` on a `{T}` column does not take a `{Self}`",
    label = "text columns take text, `Vec<T>` columns a `Vec<T>`, JSON columns a `serde_json::Value`",
    note = "`starts_with`, `ends_with`, `contains`, `iexact`, `icontains`, `istarts_with`, `iends_with`, `like`, `ilike` and `regex` need a `String` or `Option<String>` column"
)]
pub trait ContainsArg<T> {
    /// The condition `e contains self`.
    fn contained_in<M>(self, e: TypedExpr<M, T>) -> Condition<M>;
}

/// What `contained_by` takes on a column of type `T`: a `Vec<T>` on an array column, a
/// document on a JSON column (PostgreSQL's `<@`).
#[diagnostic::on_unimplemented(
    message = "`contained_by` on a `{T}` column does not take a `{Self}`",
    label = "`Vec<T>` columns take a `Vec<T>`, JSON columns a `serde_json::Value`"
)]
pub trait ContainedByArg<T> {
    /// The condition `e is contained by self`.
    fn containing<M>(self, e: TypedExpr<M, T>) -> Condition<M>;
}

fn contain<M, T>(e: TypedExpr<M, T>, op: ContainOp, of: ContainOf, right: Value) -> Condition<M> {
    let nullable = e.may_be_null();
    TypedExpr::from_ir(
        Expr::Contain {
            op,
            left: Box::new(e.into_ir()),
            right: Box::new(Expr::Value(right)),
            of,
        },
        nullable,
    )
}

impl<S: Into<String>> ContainsArg<String> for S {
    fn contained_in<M>(self, e: TypedExpr<M, String>) -> Condition<M> {
        super::lower::like(e, LikeKind::Contains, self.into(), false)
    }
}

impl<S: Into<String>> ContainsArg<Option<String>> for S {
    fn contained_in<M>(self, e: TypedExpr<M, Option<String>>) -> Condition<M> {
        super::lower::like(e, LikeKind::Contains, self.into(), false)
    }
}

/// An enum column contains text when its stored text does.
impl<S: Into<String>, T: super::EnumColumn> ContainsArg<T> for S {
    fn contained_in<M>(self, e: TypedExpr<M, T>) -> Condition<M> {
        super::lower::like(e, LikeKind::Contains, self.into(), false)
    }
}

impl<S: Into<String>, T: super::EnumColumn> ContainsArg<Option<T>> for S {
    fn contained_in<M>(self, e: TypedExpr<M, Option<T>>) -> Condition<M> {
        super::lower::like(e, LikeKind::Contains, self.into(), false)
    }
}

macro_rules! array_args {
    ($col:ty) => {
        impl<E: ArrayElement> ContainsArg<$col> for Vec<E> {
            fn contained_in<M>(self, e: TypedExpr<M, $col>) -> Condition<M> {
                contain(
                    e,
                    ContainOp::Contains,
                    ContainOf::Array,
                    Value::Array(E::to_array(&self)),
                )
            }
        }
        impl<E: ArrayElement> ContainedByArg<$col> for Vec<E> {
            fn containing<M>(self, e: TypedExpr<M, $col>) -> Condition<M> {
                contain(
                    e,
                    ContainOp::ContainedBy,
                    ContainOf::Array,
                    Value::Array(E::to_array(&self)),
                )
            }
        }
    };
}

array_args!(Vec<E>);
array_args!(Option<Vec<E>>);

macro_rules! json_args {
    ($col:ty) => {
        impl ContainsArg<$col> for serde_json::Value {
            fn contained_in<M>(self, e: TypedExpr<M, $col>) -> Condition<M> {
                contain(e, ContainOp::Contains, ContainOf::Json, Value::Json(self))
            }
        }
        impl ContainedByArg<$col> for serde_json::Value {
            fn containing<M>(self, e: TypedExpr<M, $col>) -> Condition<M> {
                contain(
                    e,
                    ContainOp::ContainedBy,
                    ContainOf::Json,
                    Value::Json(self),
                )
            }
        }
    };
}

json_args!(serde_json::Value);
json_args!(Option<serde_json::Value>);

fn keys<K: Into<String>>(keys: impl IntoIterator<Item = K>) -> Value {
    let items: Vec<Option<String>> = keys.into_iter().map(|k| Some(k.into())).collect();
    Value::Array(ArrayValue::Text(items))
}

impl<M, T: ArrayColumn> Column<M, T> {
    /// The arrays share an element (PostgreSQL `&&`; Python `tags__overlap`).
    pub fn overlaps(self, items: Vec<T::Elem>) -> Condition<M> {
        contain(
            self.expr(),
            ContainOp::Overlap,
            ContainOf::Array,
            Value::Array(T::Elem::to_array(&items)),
        )
    }

    /// The number of elements (NULL for a NULL array; Python `tags__len`).
    pub fn len(self) -> TypedExpr<M, i64> {
        let e = self.expr();
        let nullable = e.may_be_null();
        TypedExpr::from_ir(Expr::ArrayLen(Box::new(e.into_ir())), nullable)
    }

    /// The element at 0-based `index`, NULL past the end (Python `tags__0`).
    pub fn at(self, index: u32) -> TypedExpr<M, Option<T::Elem>> {
        TypedExpr::from_ir(
            Expr::ArrayIndex {
                expr: Box::new(self.ir()),
                index,
                ty: <T::Elem as ColumnType>::value_type(),
            },
            true,
        )
    }
}

impl<M, T: JsonColumn> Column<M, T> {
    /// The document is an object with every one of `keys` (PostgreSQL `?&`; Python
    /// `data__has_keys`). Keys are letters, digits, `_`, `-` and spaces.
    pub fn has_keys<K: Into<String>>(self, keys_: impl IntoIterator<Item = K>) -> Condition<M> {
        contain(
            self.expr(),
            ContainOp::HasAllKeys,
            ContainOf::Json,
            keys(keys_),
        )
    }

    /// The document is an object with one of `keys` (PostgreSQL `?|`; Python
    /// `data__has_any_keys`).
    pub fn has_any_keys<K: Into<String>>(self, keys_: impl IntoIterator<Item = K>) -> Condition<M> {
        contain(
            self.expr(),
            ContainOp::HasAnyKeys,
            ContainOf::Json,
            keys(keys_),
        )
    }
}

impl<M, T: ColumnType> Column<M, T> {
    /// On an array column: every element is in the `Vec` given; on a JSON column: the
    /// document is contained by the one given (PostgreSQL `<@`; Python `__contained_by`).
    pub fn contained_by<A: ContainedByArg<T>>(self, other: A) -> Condition<M> {
        other.containing(self.expr())
    }
}
