//! The lowering behind the typed methods: each builds one IR node from typed parts.

use super::compare_to::CompareTo;
use super::order::Ordering;
use super::typed_expr::{Condition, TypedExpr};
use crate::ir::{ArithOp, CmpOp, DatePart, Expr, LikeKind, OrderBy};
use crate::value::Value;

/// `e op v`; `= NULL` and `<> NULL` become `IS NULL` / `IS NOT NULL`.
pub fn compare<M, T>(e: TypedExpr<M, T>, op: CmpOp, v: Value) -> Condition<M> {
    let nullable = e.may_be_null();
    if v.is_null() {
        match op {
            CmpOp::Eq => return TypedExpr::from_ir(e.into_ir().is_null(), false),
            CmpOp::Ne => return TypedExpr::from_ir(e.into_ir().is_not_null(), false),
            _ => {}
        }
    }
    TypedExpr::from_ir(e.into_ir().cmp(op, Expr::Value(v)), nullable)
}

/// `e op rhs` where `rhs` is a value, a column or an expression ([`CompareTo`]); a NULL
/// value under `=` / `<>` becomes `IS NULL` / `IS NOT NULL` as in [`compare`].
pub fn compare_with<M, T, K, R: CompareTo<M, T, K>>(
    e: TypedExpr<M, T>,
    op: CmpOp,
    rhs: R,
) -> Condition<M> {
    let rhs_null = rhs.operand_may_be_null();
    match rhs.into_operand() {
        Expr::Value(v) => compare(e, op, v),
        other => {
            let nullable = e.may_be_null() || rhs_null;
            TypedExpr::from_ir(e.into_ir().cmp(op, other), nullable)
        }
    }
}

/// `e IN (values)`.
pub fn is_in<M, T>(e: TypedExpr<M, T>, values: Vec<Value>) -> Condition<M> {
    let nullable = e.may_be_null();
    TypedExpr::from_ir(e.into_ir().is_in(values), nullable)
}

/// `e BETWEEN low AND high`.
pub fn between<M, T>(e: TypedExpr<M, T>, low: Value, high: Value) -> Condition<M> {
    let nullable = e.may_be_null();
    TypedExpr::from_ir(
        e.into_ir().between(Expr::Value(low), Expr::Value(high)),
        nullable,
    )
}

/// A LIKE test with literal text (or a raw pattern for `LikeKind::Raw`).
pub fn like<M, T>(
    e: TypedExpr<M, T>,
    kind: LikeKind,
    text: String,
    case_insensitive: bool,
) -> Condition<M> {
    let nullable = e.may_be_null();
    TypedExpr::from_ir(e.into_ir().like(kind, text, case_insensitive), nullable)
}

/// A regular-expression test.
pub fn regex<M, T>(e: TypedExpr<M, T>, pattern: String, case_insensitive: bool) -> Condition<M> {
    let nullable = e.may_be_null();
    TypedExpr::from_ir(
        Expr::Regex {
            expr: Box::new(e.into_ir()),
            pattern,
            case_insensitive,
        },
        nullable,
    )
}

/// `IS NULL` / `IS NOT NULL`.
pub fn null_test<M, T>(e: TypedExpr<M, T>, negated: bool) -> Condition<M> {
    TypedExpr::from_ir(
        Expr::IsNull {
            expr: Box::new(e.into_ir()),
            negated,
        },
        false,
    )
}

/// A date part as an integer.
pub fn extract<M, T>(e: TypedExpr<M, T>, part: DatePart) -> TypedExpr<M, i64> {
    let nullable = e.may_be_null();
    TypedExpr::from_ir(
        Expr::Extract {
            part,
            expr: Box::new(e.into_ir()),
        },
        nullable,
    )
}

/// The UTC date of a timestamp.
pub fn date_of<M, T>(e: TypedExpr<M, T>) -> TypedExpr<M, chrono::NaiveDate> {
    let nullable = e.may_be_null();
    TypedExpr::from_ir(Expr::DateOf(Box::new(e.into_ir())), nullable)
}

/// A sort key.
pub fn order<M, T>(e: TypedExpr<M, T>, desc: bool) -> Ordering<M> {
    Ordering::from_ir(OrderBy {
        expr: e.into_ir(),
        desc,
    })
}

/// `e op v` arithmetic.
pub fn arith<M, T>(e: TypedExpr<M, T>, op: ArithOp, v: Value) -> TypedExpr<M, T> {
    let nullable = e.may_be_null() || v.is_null();
    TypedExpr::from_ir(
        Expr::Arith {
            left: Box::new(e.into_ir()),
            op,
            right: Box::new(Expr::Value(v)),
        },
        nullable,
    )
}
