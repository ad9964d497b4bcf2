//! `annotate(...)` values → IR: aggregates (`Count("posts")` over a relation is a correlated
//! subquery), `F` and arithmetic, functions (`Coalesce`, `Lower`, `Upper`, `Length`, `Now`),
//! `Cast`, `Case`/`When` and plain values. The Python classes are plain descriptions
//! (`chakra.expressions`, each with a `_chakra_kind`); the types are checked by the core
//! (`chakra_dsl::aggregate`, `chakra_dsl::functions`) before any SQL.

use crate::convert::from_py;
use crate::errors::to_py as err;
use crate::filters;
use crate::model_specs::field_type;
use crate::registry::Snapshot;
use chakra_dsl::{functions, Error, Expr, ModelQuery, Value, ValueType};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString};

fn kind(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    match obj.getattr(intern!(obj.py(), "_chakra_kind")) {
        Ok(k) => Ok(Some(k.extract()?)),
        Err(_) => Ok(None),
    }
}

fn repr(obj: &Bound<'_, PyAny>) -> String {
    obj.repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A plain value: of type `hint` when known, else by its Python type.
fn literal(obj: &Bound<'_, PyAny>, hint: Option<&ValueType>) -> PyResult<Expr> {
    let bad = |reason: String| {
        err(Error::InvalidQuery(format!(
            "cannot use {} in an annotation: {reason}",
            repr(obj)
        )))
    };
    let ty = match hint {
        Some(t) => t.clone(),
        None if obj.is_none() => ValueType::Text,
        None if obj.is_instance_of::<PyBool>() => ValueType::Bool,
        None if obj.is_instance_of::<PyInt>() => ValueType::I64,
        None if obj.is_instance_of::<PyFloat>() => ValueType::F64,
        None if obj.is_instance_of::<PyString>() => ValueType::Text,
        None if obj.is_instance(crate::convert::decimal_class(obj.py())?)? => ValueType::Decimal,
        None => return Err(bad("wrap it in an expression of a known type".into())),
    };
    Ok(Expr::Value(
        from_py::value(obj, &ty).map_err(|r| bad(r.to_string()))?,
    ))
}

/// Converts several operands that must share a type: expressions first, then plain values
/// take the first expression's type (or `hint`).
fn operands(
    models: &Snapshot,
    mq: &ModelQuery,
    objs: &[Bound<'_, PyAny>],
    hint: Option<&ValueType>,
) -> PyResult<Vec<Expr>> {
    let mut out: Vec<Option<Expr>> = Vec::with_capacity(objs.len());
    let mut ty: Option<ValueType> = hint.cloned();
    for o in objs {
        if kind(o)?.is_some() {
            let e = convert(models, mq, o, None)?;
            if ty.is_none() {
                ty = e.value_type();
            }
            out.push(Some(e));
        } else {
            out.push(None);
        }
    }
    let mut done = Vec::with_capacity(objs.len());
    for (o, e) in objs.iter().zip(out) {
        done.push(match e {
            Some(e) => e,
            None if o.is_none() => Expr::Value(Value::Null(ty.clone().unwrap_or(ValueType::Text))),
            None => literal(o, ty.as_ref())?,
        });
    }
    Ok(done)
}

fn aggregate(models: &Snapshot, mq: &ModelQuery, obj: &Bound<'_, PyAny>) -> PyResult<Expr> {
    let py = obj.py();
    let func: String = obj.getattr(intern!(py, "function"))?.extract()?;
    let func = chakra_dsl::aggregate::parse_func(&func).map_err(err)?;
    let field: String = obj.getattr(intern!(py, "field"))?.extract()?;
    let distinct: bool = obj.getattr(intern!(py, "distinct"))?.extract()?;
    let filter = obj.getattr(intern!(py, "filter"))?;
    // Django's path form: the condition is written from the queried model.
    let filter = if filter.is_none() {
        None
    } else {
        Some(filters::q_node_in(models, &mq.meta, &filter)?)
    };
    let field = (field != "*").then_some(field);
    if let Some(f) = field.as_deref() {
        if let Some(e) = mq
            .path_aggregate(models, func, f, distinct, filter.as_ref(), None)
            .map_err(err)?
        {
            return Ok(e);
        }
    }
    let plain = ModelQuery::new(mq.meta.clone());
    plain
        .aggregate_expr(func, field.as_deref(), distinct, filter.map(|q| q.lower()))
        .map_err(err)
}

/// The name of `F(name)` when `obj` is a plain `F`, else `None`.
pub fn field_name(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if kind(obj)?.as_deref() != Some("field") {
        return Ok(None);
    }
    Ok(Some(obj.getattr(intern!(obj.py(), "name"))?.extract()?))
}

/// Converts one annotation value.
pub fn convert(
    models: &Snapshot,
    mq: &ModelQuery,
    obj: &Bound<'_, PyAny>,
    hint: Option<&ValueType>,
) -> PyResult<Expr> {
    let py = obj.py();
    let _level = crate::convert::Nesting::enter("expressions")?;
    let Some(k) = kind(obj)? else {
        return literal(obj, hint);
    };
    match k.as_str() {
        "outer" | "subquery" | "exists" => {
            Ok(filters::subquery_expr(&mq.meta, obj)?.expect("a subquery kind converts"))
        }
        "aggregate" => aggregate(models, mq, obj),
        "field" => {
            let name: String = obj.getattr(intern!(py, "name"))?.extract()?;
            chakra_dsl::lookup::field_ref(models, &mq.meta, &name).map_err(err)
        }
        "value" => literal(&obj.getattr(intern!(py, "value"))?, hint),
        "combined" => {
            let op = crate::filters::arith_op(obj)?;
            let sides = [
                obj.getattr(intern!(py, "lhs"))?,
                obj.getattr(intern!(py, "rhs"))?,
            ];
            let mut it = operands(models, mq, &sides, hint)?.into_iter();
            let (left, right) = (it.next().expect("two"), it.next().expect("two"));
            for side in [&left, &right] {
                let t = side.value_type();
                if !matches!(
                    t,
                    Some(ValueType::I32 | ValueType::I64 | ValueType::F64 | ValueType::Decimal)
                ) {
                    return Err(err(Error::InvalidQuery(format!(
                        "arithmetic needs numbers, not {} ({})",
                        t.map(|t| t.to_string())
                            .unwrap_or_else(|| "an untyped value".into()),
                        repr(obj)
                    ))));
                }
            }
            Ok(Expr::Arith {
                left: Box::new(left),
                op,
                right: Box::new(right),
            })
        }
        "func" => {
            let name: String = obj.getattr(intern!(py, "function"))?.extract()?;
            let func = functions::parse_func(&name)
                .ok_or_else(|| err(Error::InvalidQuery(format!("unknown function {name:?}"))))?;
            let args = obj.getattr(intern!(py, "source_expressions"))?;
            let args: Vec<Bound<'_, PyAny>> = args.cast::<PyList>()?.iter().collect();
            let args = operands(models, mq, &args, None)?;
            functions::call(func, args).map_err(err)
        }
        "cast" => {
            let inner = convert(models, mq, &obj.getattr(intern!(py, "expression"))?, None)?;
            let spec = obj
                .getattr(intern!(py, "output_field"))?
                .call_method0(intern!(py, "spec"))?;
            let ty = field_type(&spec)?.value_type();
            functions::cast(inner, ty).map_err(err)
        }
        "case" => {
            let cases = obj.getattr(intern!(py, "cases"))?;
            let cases: Vec<Bound<'_, PyAny>> = cases.cast::<PyList>()?.iter().collect();
            let mut conds = Vec::with_capacity(cases.len());
            let mut values = Vec::with_capacity(cases.len() + 1);
            for c in &cases {
                let q = c.getattr(intern!(py, "condition"))?;
                conds.push(filters::q_node_in(models, &mq.meta, &q)?.lower());
                values.push(c.getattr(intern!(py, "then"))?);
            }
            let default = obj.getattr(intern!(py, "default"))?;
            let has_default = !default.is_none();
            if has_default {
                values.push(default);
            }
            let mut values = operands(models, mq, &values, hint)?;
            let default = if has_default { values.pop() } else { None };
            functions::case(conds.into_iter().zip(values).collect(), default).map_err(err)
        }
        other => Err(err(Error::InvalidQuery(format!(
            "{} ({other}) cannot be used in annotate()",
            repr(obj)
        )))),
    }
}
