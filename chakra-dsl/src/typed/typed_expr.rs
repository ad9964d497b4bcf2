//! [`TypedExpr`]: an IR expression tagged with the model it ranges over and its Rust type;
//! [`Condition`] is the boolean one that filters take. `and`, `or` and `not` combine them.

use crate::ir::Expr;
use std::fmt;
use std::marker::PhantomData;

/// An expression over the columns of model `M` whose values have Rust type `T`. It lowers
/// to one IR [`Expr`]; the type parameters exist only for the compiler's checks.
pub struct TypedExpr<M, T> {
    expr: Expr,
    may_be_null: bool,
    _p: PhantomData<fn() -> (M, T)>,
}

/// A boolean expression over model `M`: what `filter` and `exclude` take.
pub type Condition<M> = TypedExpr<M, bool>;

impl<M, T> Clone for TypedExpr<M, T> {
    fn clone(&self) -> Self {
        TypedExpr {
            expr: self.expr.clone(),
            may_be_null: self.may_be_null,
            _p: PhantomData,
        }
    }
}

impl<M, T> fmt::Debug for TypedExpr<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedExpr")
            .field("expr", &self.expr)
            .field("may_be_null", &self.may_be_null)
            .finish()
    }
}

impl<M, T> PartialEq for TypedExpr<M, T> {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr && self.may_be_null == other.may_be_null
    }
}

impl<M, T> TypedExpr<M, T> {
    /// Wraps an IR expression, trusting the caller that it ranges over `M` and evaluates
    /// to `T`. `may_be_null` says whether it can evaluate to NULL (it decides how
    /// `exclude` negates it).
    pub fn from_ir(expr: Expr, may_be_null: bool) -> Self {
        TypedExpr {
            expr,
            may_be_null,
            _p: PhantomData,
        }
    }

    /// The IR expression.
    pub fn ir(&self) -> &Expr {
        &self.expr
    }

    /// The IR expression, by value.
    pub fn into_ir(self) -> Expr {
        self.expr
    }

    /// True when the expression can evaluate to NULL (it reads a nullable column).
    pub fn may_be_null(&self) -> bool {
        self.may_be_null
    }
}

impl<M> TypedExpr<M, bool> {
    /// Both conditions hold.
    pub fn and(self, other: Condition<M>) -> Condition<M> {
        TypedExpr::from_ir(
            self.expr.and(other.expr),
            self.may_be_null || other.may_be_null,
        )
    }

    /// At least one condition holds.
    pub fn or(self, other: Condition<M>) -> Condition<M> {
        TypedExpr::from_ir(
            self.expr.or(other.expr),
            self.may_be_null || other.may_be_null,
        )
    }

    /// The condition does not hold (SQL `NOT`: a NULL stays NULL, so the row is not
    /// selected either way; `exclude` is the NULL-aware negation).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Condition<M> {
        TypedExpr::from_ir(self.expr.not(), self.may_be_null)
    }

    /// The negation `exclude` uses: true exactly when the condition is not true, so rows
    /// where it is NULL are kept (as Django's `exclude`).
    pub fn is_not_true(self) -> Condition<M> {
        if !self.may_be_null {
            return self.not();
        }
        let inner = self.expr;
        TypedExpr::from_ir(
            Expr::Or(vec![
                Expr::Not(Box::new(inner.clone())),
                Expr::IsNull {
                    expr: Box::new(inner),
                    negated: false,
                },
            ]),
            false,
        )
    }
}

impl<M> std::ops::BitAnd for TypedExpr<M, bool> {
    type Output = Condition<M>;
    fn bitand(self, rhs: Self) -> Condition<M> {
        self.and(rhs)
    }
}

impl<M> std::ops::BitOr for TypedExpr<M, bool> {
    type Output = Condition<M>;
    fn bitor(self, rhs: Self) -> Condition<M> {
        self.or(rhs)
    }
}

impl<M> std::ops::Not for TypedExpr<M, bool> {
    type Output = Condition<M>;
    fn not(self) -> Condition<M> {
        TypedExpr::not(self)
    }
}

impl<M, T: super::ColumnType> TypedExpr<M, T> {
    fn lower(self) -> Self {
        self
    }

    /// The same expression read as `Option<T>`: for a value that can be NULL although its
    /// column cannot (a related row's column across a nullable relation,
    /// `Post::editor().value(User::username()).nullable()`), so a missing row reads as
    /// `None` instead of failing to decode.
    pub fn nullable(self) -> TypedExpr<M, Option<T>> {
        TypedExpr::from_ir(self.expr, true)
    }
}

crate::typed::methods::typed_methods!(TypedExpr);
