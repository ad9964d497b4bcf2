//! Raw SQL from Python: `Model.objects.raw(sql, params)` and `chakra.execute(sql, params)`.
//! Python passes the text and the values only; the core finds the `%s` placeholders
//! (outside quotes and comments), checks their number against the values before any SQL,
//! translates them to the dialect's, and binds every value (`chakra::sql::raw`).

use crate::errors::to_py as err;
use crate::job::{Finish, Job, Op, RawOp};
use crate::model::ModelHandle;
use crate::session::target_of;
use chakra::sql::raw::{compile_raw, Placeholders};
use chakra_dsl::{Error, Value, ValueType};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDict, PyFloat, PyInt};
use pyo3::types::{PyList, PyString, PyTuple};

/// The canonical type a Python parameter binds as: `None` a text NULL, `bool`, `int` (64-bit),
/// `float`, `Decimal`, `str`, `bytes`, `datetime` (aware converted to UTC, naive taken as
/// UTC), `date`, `UUID`, and `dict`/`list` as JSON.
fn param_type(obj: &Bound<'_, PyAny>) -> PyResult<ValueType> {
    let py = obj.py();
    Ok(if obj.is_none() || obj.is_instance_of::<PyString>() {
        ValueType::Text
    } else if obj.is_instance_of::<PyBool>() {
        ValueType::Bool
    } else if obj.is_instance_of::<PyInt>() {
        ValueType::I64
    } else if obj.is_instance_of::<PyFloat>() {
        ValueType::F64
    } else if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        ValueType::Bytes
    } else if obj.is_instance_of::<PyDateTime>() {
        ValueType::DateTime
    } else if obj.is_instance_of::<PyDate>() {
        ValueType::Date
    } else if obj.is_instance_of::<PyDict>()
        || obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>()
    {
        ValueType::Json
    } else if obj.is_instance(crate::convert::decimal_class(py)?)? {
        ValueType::Decimal
    } else if obj.is_instance(crate::convert::uuid_class(py)?)? {
        ValueType::Uuid
    } else {
        return Err(err(bad_param(obj, "a type raw SQL can bind (None, bool, int, float, Decimal, str, bytes, datetime, date, UUID, dict, list)")));
    })
}

fn bad_param(obj: &Bound<'_, PyAny>, why: &str) -> Error {
    Error::BadValue {
        model: "raw SQL".into(),
        field: "params".into(),
        value: obj
            .repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| "?".into()),
        expected: "bound parameter".into(),
        reason: Some(why.to_owned()),
    }
}

/// The parameters as values, then the statement checked for the target's `dialect`
/// (placeholders against the values) before anything runs.
fn params_of(
    sql: &str,
    params: Option<&Bound<'_, PyAny>>,
    dialect: chakra::Dialect,
) -> PyResult<Vec<Value>> {
    let mut out = Vec::new();
    if let Some(ps) = params.filter(|p| !p.is_none()) {
        if ps.is_instance_of::<PyString>() || ps.is_instance_of::<PyDict>() {
            return Err(err(Error::InvalidQuery(
                "raw SQL parameters are a list or tuple of values, one per %s".into(),
            )));
        }
        for p in ps.try_iter()? {
            let p = p?;
            let ty = param_type(&p)?;
            let v = crate::convert::from_py::value(&p, &ty).map_err(|r| err(bad_param(&p, &r)))?;
            out.push(v);
        }
    }
    compile_raw(sql, Placeholders::Percent, out.clone(), dialect).map_err(err)?;
    Ok(out)
}

/// `Model.objects.raw(sql, params)`: the rows as instances of the model, columns matched
/// to fields by name.
#[pyfunction]
#[pyo3(signature = (model, target, sql, params=None))]
pub fn raw_job(
    model: &Bound<'_, ModelHandle>,
    target: &Bound<'_, PyAny>,
    sql: String,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<Job> {
    let target = target_of(target)?;
    let params = params_of(&sql, params, target.dialect())?;
    let info = model.get().info.clone();
    Ok(Job::new(
        Op::Raw(
            target,
            Box::new(RawOp {
                sql,
                params,
                meta: Some(info.meta.clone()),
                rows: false,
            }),
        ),
        Finish::Models(info),
    ))
}

/// `chakra.execute(sql, params)`: the affected-row count.
#[pyfunction]
#[pyo3(signature = (target, sql, params=None))]
pub fn execute_job(
    target: &Bound<'_, PyAny>,
    sql: String,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<Job> {
    let target = target_of(target)?;
    let params = params_of(&sql, params, target.dialect())?;
    Ok(Job::new(
        Op::Raw(
            target,
            Box::new(RawOp {
                sql,
                params,
                meta: None,
                rows: false,
            }),
        ),
        Finish::RowCount,
    ))
}

/// `chakra.fetch(sql, params)`: the rows as dicts keyed by column name (`dicts`) or as
/// tuples, every parameter bound.
#[pyfunction]
#[pyo3(signature = (target, sql, params=None, dicts=false))]
pub fn fetch_job(
    target: &Bound<'_, PyAny>,
    sql: String,
    params: Option<&Bound<'_, PyAny>>,
    dicts: bool,
) -> PyResult<Job> {
    let target = target_of(target)?;
    let params = params_of(&sql, params, target.dialect())?;
    Ok(Job::new(
        Op::Raw(
            target,
            Box::new(RawOp {
                sql,
                params,
                meta: None,
                rows: true,
            }),
        ),
        Finish::RawRows(dicts),
    ))
}
