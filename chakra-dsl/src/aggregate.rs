//! Aggregates (`Count`, `Sum`, `Avg`, `Min`, `Max`): which argument types each accepts and
//! the type of its result, checked once for both front doors before any SQL is built.
//!
//! | function | argument | result |
//! | --- | --- | --- |
//! | `Count` | any (or `*`) | `I64`, 0 over no rows |
//! | `Sum` | `I32`, `I64` → `I64`; `F64` → `F64`; `Decimal` → `Decimal` (exact) | NULL over no rows |
//! | `Avg` | `I32`, `I64`, `F64` → `F64`; `Decimal` → `Decimal` (16 decimal places, half away from zero) | NULL over no rows |
//! | `Min`, `Max` | numbers, text, dates, timestamps → the argument's type | NULL over no rows |

use crate::error::{Error, Result};
use crate::ir::{AggFunc, Aggregate, Expr};
use crate::types::ValueType;

/// The result type of `func` over values of type `arg` (`None`: `COUNT(*)`), or why the
/// argument does not fit.
pub fn result_type(
    func: AggFunc,
    arg: Option<&ValueType>,
) -> std::result::Result<ValueType, String> {
    use ValueType as V;
    let Some(arg) = arg else {
        return match func {
            AggFunc::Count => Ok(V::I64),
            _ => Err(format!("{} needs a field", func.name())),
        };
    };
    match (func, arg) {
        (AggFunc::Count, _) => Ok(V::I64),
        (AggFunc::Sum, V::I32 | V::I64) => Ok(V::I64),
        (AggFunc::Sum, V::F64) => Ok(V::F64),
        (AggFunc::Sum | AggFunc::Avg, V::Decimal) => Ok(V::Decimal),
        (AggFunc::Avg, V::I32 | V::I64 | V::F64) => Ok(V::F64),
        (AggFunc::Sum | AggFunc::Avg, other) => Err(format!(
            "{} needs a numeric field (Integer, BigInteger, Float, Decimal), not a {other} one",
            func.name()
        )),
        (
            AggFunc::Min | AggFunc::Max,
            V::I32 | V::I64 | V::F64 | V::Decimal | V::Text | V::Date | V::DateTime,
        ) => Ok(arg.clone()),
        (AggFunc::Min | AggFunc::Max, other) => Err(format!(
            "{} needs a number, text, date or timestamp field, not a {other} one",
            func.name()
        )),
    }
}

/// `func([DISTINCT] arg) [FILTER (WHERE filter)]`, type-checked. `what` names the argument
/// in errors (`Account.owner`).
pub fn aggregate(
    func: AggFunc,
    arg: Option<Expr>,
    distinct: bool,
    filter: Option<Expr>,
    what: (&str, &str),
) -> Result<Expr> {
    let arg_ty = match &arg {
        Some(e) => Some(
            e.value_type()
                .ok_or_else(|| bad(func, what, "its type is unknown"))?,
        ),
        None => None,
    };
    if distinct && arg.is_none() {
        return Err(bad(
            func,
            what,
            "Count(\"*\", distinct=True) is not allowed",
        ));
    }
    let ty = result_type(func, arg_ty.as_ref()).map_err(|r| bad(func, what, &r))?;
    Ok(Expr::Aggregate(Box::new(Aggregate {
        func,
        arg,
        distinct,
        filter,
        ty,
    })))
}

fn bad(func: AggFunc, (model, field): (&str, &str), reason: &str) -> Error {
    Error::InvalidAggregate {
        model: model.to_owned(),
        field: field.to_owned(),
        function: func.name().to_owned(),
        reason: reason.to_owned(),
    }
}

/// Parses a function name as the Python front door spells it (`"Count"`, `"Sum"`, …).
pub fn parse_func(name: &str) -> Result<AggFunc> {
    Ok(match name {
        "Count" => AggFunc::Count,
        "Sum" => AggFunc::Sum,
        "Avg" => AggFunc::Avg,
        "Min" => AggFunc::Min,
        "Max" => AggFunc::Max,
        other => {
            return Err(Error::InvalidQuery(format!(
                "unknown aggregate {other:?}; choices are: Count, Sum, Avg, Min, Max"
            )))
        }
    })
}
