//! A Python model's `class Meta` options (`Index`, `UniqueConstraint`, `CheckConstraint`) as
//! [`TableOptions`]: the plain trees `chakra.options` builds from `Q` objects become
//! [`Cond`]s, checked against the model's fields when `make` reads them.

use crate::errors::to_py as err;
use chakra_dsl::table_options::{
    CheckOption, Cond, CondValue, IndexExpr, IndexFunc, IndexOption, TableOptions,
};
use chakra_dsl::Error;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple};

fn bad(model: &str, what: &str) -> PyErr {
    err(Error::Config(format!("{model}.Meta: {what}")))
}

/// The options registered with a model.
pub fn table_options(model: &str, specs: &[Bound<'_, PyDict>]) -> PyResult<TableOptions> {
    let mut out = TableOptions::default();
    for spec in specs {
        let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
            spec.get_item(k)?
                .ok_or_else(|| bad(model, &format!("an option without {k:?}")))
        };
        let name: String = get("name")?.extract()?;
        chakra_dsl::ident::validate(&name).map_err(err)?;
        let kind: String = get("kind")?.extract()?;
        if kind == "check" {
            out.checks.push(CheckOption {
                check: cond(model, &name, &get("check")?)?,
                name,
            });
        } else {
            let condition = match spec.get_item("condition")? {
                Some(c) => Some(cond(model, &name, &c)?),
                None => None,
            };
            let expressions = match spec.get_item("expressions")? {
                Some(list) => list
                    .cast::<PyList>()?
                    .iter()
                    .map(|e| index_expr(model, &name, &e, 0))
                    .collect::<PyResult<Vec<_>>>()?,
                None => Vec::new(),
            };
            out.indexes.push(IndexOption {
                fields: get("fields")?.extract()?,
                expressions,
                unique: get("unique")?.extract()?,
                condition,
                name,
            });
        }
    }
    Ok(out)
}

/// An index key from its tree (`("field", name)`, `("func", "Lower", [arg])`).
fn index_expr(
    model: &str,
    name: &str,
    node: &Bound<'_, PyAny>,
    depth: usize,
) -> PyResult<IndexExpr> {
    if depth > 8 {
        return Err(bad(
            model,
            &format!("{name:?}: an index expression nested too deep"),
        ));
    }
    let t = node.cast::<PyTuple>()?;
    let tag: String = t.get_item(0)?.extract()?;
    match tag.as_str() {
        "field" => {
            let field: String = t.get_item(1)?.extract()?;
            // The portable form's rule for a field name.
            IndexExpr::parse(&field)
                .ok()
                .filter(|e| matches!(e, IndexExpr::Field(_)))
                .ok_or_else(|| bad(model, &format!("{name:?}: {field:?} is not a field name")))
        }
        "func" => {
            let func: String = t.get_item(1)?.extract()?;
            let f = IndexFunc::from_name(&func).ok_or_else(|| {
                bad(
                    model,
                    &format!("{name:?}: an index key takes Lower, Upper or Length, not {func}"),
                )
            })?;
            let args = t.get_item(2)?;
            let args = args.cast::<PyList>()?;
            if args.len() != 1 {
                return Err(bad(model, &format!("{name:?}: {func} takes one argument")));
            }
            let arg = index_expr(model, name, &args.get_item(0)?, depth + 1)?;
            Ok(IndexExpr::Func(f, Box::new(arg)))
        }
        other => Err(bad(
            model,
            &format!("{name:?}: unknown index key {other:?}"),
        )),
    }
}

fn cond(model: &str, name: &str, node: &Bound<'_, PyAny>) -> PyResult<Cond> {
    let t = node.cast::<PyTuple>()?;
    let tag: String = t.get_item(0)?.extract()?;
    Ok(match tag.as_str() {
        "lookup" => Cond::Lookup {
            key: t.get_item(1)?.extract()?,
            value: value(model, name, &t.get_item(2)?)?,
        },
        "not" => Cond::Not(Box::new(cond(model, name, &t.get_item(1)?)?)),
        "and" | "or" => {
            let items = t
                .get_item(1)?
                .cast::<PyList>()?
                .iter()
                .map(|c| cond(model, name, &c))
                .collect::<PyResult<Vec<_>>>()?;
            if tag == "and" {
                Cond::And(items)
            } else {
                Cond::Or(items)
            }
        }
        other => {
            return Err(bad(
                model,
                &format!("{name:?}: unknown condition node {other:?}"),
            ))
        }
    })
}

fn value(model: &str, name: &str, v: &Bound<'_, PyAny>) -> PyResult<CondValue> {
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(CondValue::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        return v.extract::<i64>().map(CondValue::Int);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(CondValue::Text(s.to_str()?.to_owned()));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        return v
            .try_iter()?
            .map(|x| value(model, name, &x?))
            .collect::<PyResult<Vec<_>>>()
            .map(CondValue::List);
    }
    Err(bad(
        model,
        &format!(
            "{name:?}: a condition value is a str, an int, a bool or a list of them, not {}",
            v.repr()?
        ),
    ))
}
