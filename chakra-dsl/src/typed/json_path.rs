//! Typed JSON key paths: `Thing::data().key("plan").eq("pro")`,
//! `Thing::data().key("a").key("b").ge(3)`, `Thing::data().key("tags").index(0).eq("x")`,
//! `Thing::data().key("plan").exists()`. The Rust type of the compared value picks what is
//! extracted (text, a number, a boolean), exactly as the Python door's `data__plan="pro"`
//! does, so both build the same [`Expr::JsonPath`] comparison; comparing with any other type
//! does not compile ([`JsonScalar`]).

use super::column::Column;
use super::contain::JsonColumn;
use super::typed_expr::{Condition, TypedExpr};
use crate::ir::{CmpOp, Expr, JsonAs};
use crate::value::Value;
use std::marker::PhantomData;

/// A path into a JSON column, built with [`Column::key`].
pub struct JsonPath<M> {
    base: Expr,
    path: Vec<String>,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for JsonPath<M> {
    fn clone(&self) -> Self {
        JsonPath {
            base: self.base.clone(),
            path: self.path.clone(),
            _m: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for JsonPath<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonPath")
            .field("path", &self.path)
            .finish()
    }
}

/// A value a JSON key compares with: text (`&str`, `String`), a number (`i32`, `i64`,
/// `f64`) or a boolean. A key holding another JSON type never matches.
#[diagnostic::on_unimplemented(
    message = "a JSON key compares with text, a number or a boolean, not a `{Self}`",
    label = "use `&str`/`String`, `i32`/`i64`/`f64` or `bool`",
    note = "to test a whole document use `contains(serde_json::json!(…))` on the column"
)]
pub trait JsonScalar {
    /// What is extracted from the document to compare with it.
    fn extract() -> JsonAs;
    /// The value as a bind.
    fn into_json_value(self) -> Value;
}

/// The JSON scalars that have an order (text and numbers): `gt`, `ge`, `lt`, `le`.
#[diagnostic::on_unimplemented(
    message = "a JSON key is ordered against text or a number, not a `{Self}`",
    label = "use `&str`/`String` or `i32`/`i64`/`f64`"
)]
pub trait JsonOrdered: JsonScalar {}

macro_rules! json_scalar {
    ($t:ty, $as:ident, $conv:expr, $ordered:tt) => {
        impl JsonScalar for $t {
            fn extract() -> JsonAs {
                JsonAs::$as
            }
            fn into_json_value(self) -> Value {
                ($conv)(self)
            }
        }
        json_scalar!(@ordered $t, $ordered);
    };
    (@ordered $t:ty, yes) => {
        impl JsonOrdered for $t {}
    };
    (@ordered $t:ty, no) => {};
}

json_scalar!(&str, Text, |s: &str| Value::Text(s.to_owned()), yes);
json_scalar!(String, Text, Value::Text, yes);
json_scalar!(i32, Number, |n: i32| Value::F64(f64::from(n)), yes);
json_scalar!(i64, Number, |n: i64| Value::F64(n as f64), yes);
json_scalar!(f64, Number, Value::F64, yes);
json_scalar!(bool, Bool, Value::Bool, no);

fn checked_key(key: String) -> String {
    assert!(
        crate::lookup::valid_json_key(&key),
        "JSON key {key:?}: keys are letters, digits, _, - and spaces"
    );
    key
}

impl<M, T: JsonColumn> Column<M, T> {
    /// The value at `key` of the document (Python `data__key`). Keys are letters, digits,
    /// `_`, `-` and spaces; another key panics (keys are written in code, not taken from
    /// users).
    pub fn key(self, key: impl Into<String>) -> JsonPath<M> {
        JsonPath {
            base: self.ir(),
            path: vec![checked_key(key.into())],
            _m: PhantomData,
        }
    }
}

impl<M> JsonPath<M> {
    /// One level deeper (Python `data__a__b`).
    pub fn key(mut self, key: impl Into<String>) -> JsonPath<M> {
        self.path.push(checked_key(key.into()));
        self
    }

    /// The element at `index` of an array (Python `data__tags__0`).
    pub fn index(mut self, index: u32) -> JsonPath<M> {
        self.path.push(index.to_string());
        self
    }

    fn at(&self, extract: JsonAs) -> Expr {
        Expr::JsonPath {
            expr: Box::new(self.base.clone()),
            path: self.path.clone(),
            extract,
        }
    }

    fn compare<V: JsonScalar>(self, op: CmpOp, v: V) -> Condition<M> {
        let lhs = self.at(V::extract());
        TypedExpr::from_ir(lhs.cmp(op, Expr::Value(v.into_json_value())), true)
    }

    /// The key holds this value (of this JSON type).
    pub fn eq<V: JsonScalar>(self, v: V) -> Condition<M> {
        self.compare(CmpOp::Eq, v)
    }

    /// The key holds a value of this JSON type other than this one.
    pub fn ne<V: JsonScalar>(self, v: V) -> Condition<M> {
        self.compare(CmpOp::Ne, v)
    }

    /// `>` against text or a number.
    pub fn gt<V: JsonOrdered>(self, v: V) -> Condition<M> {
        self.compare(CmpOp::Gt, v)
    }

    /// `>=` against text or a number.
    pub fn ge<V: JsonOrdered>(self, v: V) -> Condition<M> {
        self.compare(CmpOp::Ge, v)
    }

    /// `<` against text or a number.
    pub fn lt<V: JsonOrdered>(self, v: V) -> Condition<M> {
        self.compare(CmpOp::Lt, v)
    }

    /// `<=` against text or a number.
    pub fn le<V: JsonOrdered>(self, v: V) -> Condition<M> {
        self.compare(CmpOp::Le, v)
    }

    /// The key exists (holding anything, JSON null included; Python `data__has_key`).
    pub fn exists(self) -> Condition<M> {
        TypedExpr::from_ir(self.at(JsonAs::TypeName).is_not_null(), false)
    }

    /// The key holds a JSON null (Python `data__key=None`).
    pub fn is_json_null(self) -> Condition<M> {
        let p = self.at(JsonAs::TypeName);
        TypedExpr::from_ir(
            p.cmp(CmpOp::Eq, Expr::Value(Value::Text("null".into()))),
            true,
        )
    }
}
