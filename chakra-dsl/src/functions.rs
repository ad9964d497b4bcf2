//! Scalar functions and expressions for annotations (`Coalesce`, `Lower`, `Upper`, `Length`,
//! `Now`, `Cast`, `Case`/`When`): the argument types each accepts and its result type,
//! checked once for both front doors before any SQL is built. Errors are
//! [`Error::InvalidQuery`] naming the function.

use crate::error::{Error, Result};
use crate::ir::{Expr, ScalarFunc};
use crate::types::ValueType;
use crate::value::Value;

fn bad(func: &str, reason: String) -> Error {
    Error::InvalidQuery(format!("{func}: {reason}"))
}

fn ty_of(func: &str, e: &Expr) -> Result<ValueType> {
    e.value_type()
        .ok_or_else(|| bad(func, format!("cannot tell the type of {e:?}")))
}

/// Makes NULL literals take `ty` (a bare `None` has no type of its own).
fn typed_null(e: Expr, ty: &ValueType) -> Expr {
    match e {
        Expr::Value(Value::Null(_)) => Expr::Value(Value::Null(ty.clone())),
        other => other,
    }
}

fn is_null_literal(e: &Expr) -> bool {
    matches!(e, Expr::Value(Value::Null(_)))
}

/// One type for several expressions (NULL literals take the others' type; integers widen
/// to `I64`).
fn common_type(func: &str, items: &[&Expr]) -> Result<ValueType> {
    let mut out: Option<ValueType> = None;
    for e in items.iter().filter(|e| !is_null_literal(e)) {
        let t = ty_of(func, e)?;
        out = Some(match (out, t) {
            (None, t) => t,
            (Some(a), b) if a == b => a,
            (Some(ValueType::I32 | ValueType::I64), ValueType::I32 | ValueType::I64) => {
                ValueType::I64
            }
            (Some(a), b) => {
                return Err(bad(
                    func,
                    format!("its values must have one type, got {a} and {b}"),
                ))
            }
        });
    }
    out.ok_or_else(|| bad(func, "needs at least one value that is not None".into()))
}

/// `COALESCE(args…)`: the first non-NULL argument (at least two, of one type).
pub fn coalesce(args: Vec<Expr>) -> Result<Expr> {
    if args.len() < 2 {
        return Err(bad("Coalesce", "needs at least two arguments".into()));
    }
    let ty = common_type("Coalesce", &args.iter().collect::<Vec<_>>())?;
    let args = args.into_iter().map(|a| typed_null(a, &ty)).collect();
    Ok(Expr::Func {
        func: ScalarFunc::Coalesce,
        args,
        ty,
    })
}

fn text_func(func: ScalarFunc, e: Expr, out: ValueType) -> Result<Expr> {
    let t = ty_of(func.name(), &e)?;
    if t != ValueType::Text {
        return Err(bad(
            func.name(),
            format!("needs a text value, not a {t} one"),
        ));
    }
    Ok(Expr::Func {
        func,
        args: vec![e],
        ty: out,
    })
}

/// `LOWER(text)`.
pub fn lower(e: Expr) -> Result<Expr> {
    text_func(ScalarFunc::Lower, e, ValueType::Text)
}

/// `UPPER(text)`.
pub fn upper(e: Expr) -> Result<Expr> {
    text_func(ScalarFunc::Upper, e, ValueType::Text)
}

/// The number of characters of a text, as `I64`.
pub fn length(e: Expr) -> Result<Expr> {
    text_func(ScalarFunc::Length, e, ValueType::I64)
}

/// The current timestamp.
pub fn now() -> Expr {
    Expr::Func {
        func: ScalarFunc::Now,
        args: Vec::new(),
        ty: ValueType::DateTime,
    }
}

/// `CAST(e AS ty)`. Targets: integers, floats, decimals (from numbers) and text (from
/// numbers and text). A float cast to an integer truncates toward zero on both backends.
pub fn cast(e: Expr, ty: ValueType) -> Result<Expr> {
    use ValueType as V;
    let from = ty_of("Cast", &e)?;
    let numeric = |t: &V| matches!(t, V::I32 | V::I64 | V::F64 | V::Decimal);
    let ok = match &ty {
        V::I32 | V::I64 | V::F64 => numeric(&from),
        V::Decimal => matches!(from, V::I32 | V::I64 | V::Decimal),
        V::Text => numeric(&from) && from != V::F64 || from == V::Text,
        _ => false,
    };
    if !ok {
        return Err(bad(
            "Cast",
            format!("cannot cast a {from} value to {ty} (integers, floats, decimals and text are supported)"),
        ));
    }
    Ok(Expr::Cast {
        expr: Box::new(e),
        ty,
    })
}

/// `CASE WHEN cond THEN value … ELSE default END`; the values must have one type.
pub fn case(whens: Vec<(Expr, Expr)>, default: Option<Expr>) -> Result<Expr> {
    if whens.is_empty() {
        return Err(bad("Case", "needs at least one When".into()));
    }
    let mut values: Vec<&Expr> = whens.iter().map(|(_, v)| v).collect();
    if let Some(d) = &default {
        values.push(d);
    }
    let ty = common_type("Case", &values)?;
    let whens = whens
        .into_iter()
        .map(|(c, v)| (c, typed_null(v, &ty)))
        .collect();
    Ok(Expr::Case {
        whens,
        default: default.map(|d| Box::new(typed_null(d, &ty))),
        ty,
    })
}

/// Parses a function name as the Python front door spells it.
pub fn parse_func(name: &str) -> Option<ScalarFunc> {
    Some(match name {
        "Coalesce" => ScalarFunc::Coalesce,
        "Lower" => ScalarFunc::Lower,
        "Upper" => ScalarFunc::Upper,
        "Length" => ScalarFunc::Length,
        "Now" => ScalarFunc::Now,
        _ => return None,
    })
}

/// Builds `func(args)` with its checks.
pub fn call(func: ScalarFunc, mut args: Vec<Expr>) -> Result<Expr> {
    let one = |args: &mut Vec<Expr>| -> Result<Expr> {
        if args.len() != 1 {
            return Err(bad(
                func.name(),
                format!("takes one argument, got {}", args.len()),
            ));
        }
        Ok(args.pop().expect("one"))
    };
    match func {
        ScalarFunc::Coalesce => coalesce(args),
        ScalarFunc::Lower => lower(one(&mut args)?),
        ScalarFunc::Upper => upper(one(&mut args)?),
        ScalarFunc::Length => length(one(&mut args)?),
        ScalarFunc::Now => {
            if !args.is_empty() {
                return Err(bad("Now", "takes no arguments".into()));
            }
            Ok(now())
        }
    }
}
