//! Rows → Python instances: flat rows (a model's fields in declaration order, optionally
//! annotations after them) become instances without running `__init__` (made as
//! `object.__new__` makes them, their own shared-key `__dict__` filled, keys interned); inserted rows are written back into the
//! objects they came from. Row trees ([`chakra::load::Loaded`]) → instances with their loaded relations, in
//! one GIL hold on the calling (event-loop) thread. Each related row becomes one instance,
//! shared by every parent it is linked to (a prefetched author of many posts); relation
//! attributes are set in the instance's `__dict__` with its fields
//! (a list for a relation to many rows, the object or `None` for one).

use crate::convert::to_py;
use crate::errors::{to_py as err, to_py_in};
use crate::model::ModelInfo;
use crate::registry::Snapshot;
use chakra::exec::Row;
use chakra::load::Loaded;
use chakra_dsl::{Error, FieldType, Value};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use pyo3::{ffi, intern};
use std::sync::Arc;

/// What the caller wants from the tree.
pub enum Mode {
    /// Every instance, as a list.
    All,
    /// The first instance or `None`.
    First,
    /// Exactly one instance, else the model's `DoesNotExist` / `MultipleObjectsReturned`
    /// naming what was looked for.
    Get(String),
    /// The relations of the one row set on this existing instance (`fetch_related`).
    Onto(Py<PyAny>),
}

/// How a loaded tree becomes Python objects (a job's finish).
pub struct Tree {
    /// The queried model.
    pub root: Arc<ModelInfo>,
    /// The registered models, for the related rows' classes.
    pub models: Snapshot,
    /// What to return.
    pub mode: Mode,
    /// The queried model's annotation names: their values follow the fields in its rows.
    pub annotations: Vec<Py<PyString>>,
}

/// One loaded relation of a level, its rows already built.
struct Built<'py> {
    name: Bound<'py, PyString>,
    many: bool,
    objects: Vec<Bound<'py, PyAny>>,
    links: Vec<Vec<usize>>,
}

impl<'py> Built<'py> {
    /// Sets this relation's value for parent row `i` in `dict`.
    fn set(&self, py: Python<'py>, dict: &Bound<'py, PyDict>, i: usize) -> PyResult<()> {
        let links = &self.links[i];
        if self.many {
            let list = PyList::new(py, links.iter().map(|&j| &self.objects[j]))?;
            dict.set_item(&self.name, list)
        } else {
            match links.first() {
                Some(&j) => dict.set_item(&self.name, &self.objects[j]),
                None => dict.set_item(&self.name, py.None()),
            }
        }
    }
}

fn info_for<'a>(py: Python<'_>, models: &'a Snapshot, name: &str) -> PyResult<&'a ModelInfo> {
    models.info(name).map(|i| &**i).ok_or_else(|| {
        to_py_in(
            py,
            &Error::UnknownModel {
                model: name.to_owned(),
                referenced_by: "a loaded relation".into(),
            },
            None,
        )
    })
}

/// Builds the related objects of every relation of one level (deepest first).
fn relations<'py>(
    py: Python<'py>,
    models: &Snapshot,
    rels: Vec<chakra::load::LoadedRelation>,
) -> PyResult<Vec<Built<'py>>> {
    let mut out = Vec::with_capacity(rels.len());
    for r in rels {
        let info = info_for(py, models, &r.target.meta.name)?;
        out.push(Built {
            name: PyString::intern(py, &r.name),
            many: r.many,
            objects: objects(py, models, info, r.target, &[])?,
            links: r.links,
        });
    }
    Ok(out)
}

/// Builds the instances of one level (of `info`'s class) with their relations.
fn objects<'py>(
    py: Python<'py>,
    models: &Snapshot,
    info: &ModelInfo,
    loaded: Loaded,
    annotations: &[Py<PyString>],
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let built = relations(py, models, loaded.relations)?;
    let mut out = Vec::with_capacity(loaded.rows.len());
    let n = info.names.len();
    for (i, row) in loaded.rows.into_iter().enumerate() {
        let extra: Vec<_> = row.get(n..).map(<[_]>::to_vec).unwrap_or_default();
        let (obj, dict) = blank(py, info)?;
        fill_fields(py, info, &dict, row)?;
        for (name, v) in annotations.iter().zip(&extra) {
            dict.set_item(name.bind(py), crate::convert::to_py::value(py, v)?)?;
        }
        for b in &built {
            b.set(py, &dict, i)?;
        }
        out.push(obj);
    }
    Ok(out)
}

impl Tree {
    /// Converts the tree as the mode asks.
    pub fn apply(self, py: Python<'_>, loaded: Loaded) -> PyResult<Py<PyAny>> {
        let Tree {
            root,
            models,
            mode,
            annotations,
        } = self;
        match mode {
            Mode::All => {
                let objs = objects(py, &models, &root, loaded, &annotations)?;
                Ok(PyList::new(py, objs)?.into_any().unbind())
            }
            Mode::First => Ok(objects(py, &models, &root, loaded, &annotations)?
                .into_iter()
                .next()
                .map(|o| o.unbind())
                .unwrap_or_else(|| py.None())),
            Mode::Get(detail) => {
                let mut objs = objects(py, &models, &root, loaded, &annotations)?;
                match objs.len() {
                    1 => Ok(objs.pop().expect("one").unbind()),
                    n => Err(crate::job::get_error(py, &root, n, detail)),
                }
            }
            Mode::Onto(obj) => {
                let n = loaded.rows.len();
                if n != 1 {
                    return Err(crate::job::get_error(
                        py,
                        &root,
                        n,
                        "the object whose relations were fetched".into(),
                    ));
                }
                let built = relations(py, &models, loaded.relations)?;
                let dict = obj.bind(py).getattr(intern!(py, "__dict__"))?;
                let dict = dict.cast::<PyDict>()?;
                for b in &built {
                    b.set(py, dict, 0)?;
                }
                Ok(py.None())
            }
        }
    }
}

/// Sets the fields of a row laid out as the model's fields in declaration order in an
/// instance's `__dict__` ([`blank`]).
pub fn fill_fields(
    py: Python<'_>,
    info: &ModelInfo,
    dict: &Bound<'_, PyDict>,
    row: Row,
) -> PyResult<()> {
    for (i, (name, v)) in info.names.iter().zip(row.iter()).enumerate() {
        dict.set_item(name.bind(py), field_value(py, info, i, v)?)?;
    }
    Ok(())
}

/// The Python value of field `i` read from a row: an `Enum` field's text becomes its
/// member, and stored text no member has is a `DecodeError` naming model, field and value.
pub fn field_value<'py>(
    py: Python<'py>,
    info: &ModelInfo,
    i: usize,
    v: &Value,
) -> PyResult<Bound<'py, PyAny>> {
    let plain = to_py::value(py, v)?;
    let Some(Some(cls)) = info.enums.get(i) else {
        return Ok(plain);
    };
    if plain.is_none() {
        return Ok(plain);
    }
    cls.bind(py).call1((&plain,)).map_err(|_| {
        let f = &info.meta.fields[i];
        let reason = match &f.ty {
            FieldType::Enum { name, values } => {
                chakra_dsl::contract::enum_violation(name, values, &plain.to_string())
            }
            _ => format!("{plain} is not a member of the field's enum"),
        };
        err(Error::Decode {
            column: format!("{}.{} (column {})", info.meta.name, f.name, f.column),
            reason: format!("the stored value {reason}"),
        })
    })
}

/// A new instance of `info`'s class (no `__init__` runs) and its `__dict__`, empty, for the
/// caller to fill. Made as `object.__new__(cls)` makes it, so CPython gives the instance the
/// class's shared-key dict (the keys are stored once per class, each instance holds only
/// its values): 100,000 six-field instances take ~200 B each this way, against ~340 B for a
/// dict built apart and set as `__dict__` (`docs/performance.md`, Memory).
pub fn blank<'py>(
    py: Python<'py>,
    info: &ModelInfo,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let cls = info.cls.bind(py);
    let args = pyo3::types::PyTuple::empty(py);
    // SAFETY: the `tp_new` slot of `object` (read through `PyType_GetSlot`, stable ABI for
    // static types since 3.10) is a `newfunc`; called with a subtype of `object` and no
    // arguments it allocates the instance through the class's `tp_alloc` and sets up its
    // dict's storage, and runs no `__init__`. It returns a new reference or NULL with an
    // exception set; so does `PyObject_GenericGetDict`, which makes the instance's dict.
    unsafe {
        let slot = ffi::PyType_GetSlot(
            std::ptr::addr_of_mut!(ffi::PyBaseObject_Type),
            ffi::Py_tp_new,
        );
        if slot.is_null() {
            return Err(PyErr::fetch(py));
        }
        let new = std::mem::transmute::<*mut std::ffi::c_void, ffi::newfunc>(slot);
        let raw = new(cls.as_type_ptr(), args.as_ptr(), std::ptr::null_mut());
        let obj = Bound::from_owned_ptr_or_err(py, raw)?;
        let d = ffi::PyObject_GenericGetDict(obj.as_ptr(), std::ptr::null_mut());
        let dict = Bound::from_owned_ptr_or_err(py, d)?.cast_into::<PyDict>()?;
        Ok((obj, dict))
    }
}

/// Builds one instance from a row laid out as the model's fields in declaration order.
pub fn instance<'py>(py: Python<'py>, info: &ModelInfo, row: Row) -> PyResult<Bound<'py, PyAny>> {
    let (obj, dict) = blank(py, info)?;
    fill_fields(py, info, &dict, row)?;
    Ok(obj)
}

/// Takes the deferred fields `names` off an instance, or off each instance of a list (a
/// query's result; `None` is left alone), and records them in the instance's
/// `_chakra_deferred` (a frozenset), which the field descriptors read to raise `NotLoaded`.
pub fn mark_deferred(
    py: Python<'_>,
    result: &Bound<'_, PyAny>,
    names: &[Py<PyString>],
) -> PyResult<()> {
    if result.is_none() {
        return Ok(());
    }
    let marker = pyo3::types::PyFrozenSet::new(py, names.iter().map(|n| n.bind(py)))?;
    let mark = |obj: &Bound<'_, PyAny>| -> PyResult<()> {
        let dict = obj
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        for n in names {
            dict.del_item(n.bind(py)).or_else(|e| {
                if e.is_instance_of::<pyo3::exceptions::PyKeyError>(py) {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
        }
        dict.set_item(intern!(py, "_chakra_deferred"), &marker)
    };
    match result.cast::<PyList>() {
        Ok(list) => list.iter().try_for_each(|o| mark(&o)),
        Err(_) => mark(result),
    }
}

/// Builds a list of instances from rows (one GIL acquisition for the batch).
pub fn hydrate<'py>(
    py: Python<'py>,
    info: &ModelInfo,
    rows: Vec<Row>,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for r in rows {
        out.append(instance(py, info, r)?)?;
    }
    Ok(out)
}

/// Builds instances from rows holding the model's fields then annotation values; the
/// annotations become attributes named `names`.
pub fn hydrate_annotated<'py>(
    py: Python<'py>,
    info: &ModelInfo,
    names: &[Py<PyString>],
    rows: Vec<Row>,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    let n = info.names.len();
    for r in rows {
        let (obj, dict) = blank(py, info)?;
        fill_fields(py, info, &dict, r.clone())?;
        for (name, v) in names.iter().zip(r.iter().skip(n)) {
            dict.set_item(name.bind(py), to_py::value(py, v)?)?;
        }
        out.append(obj)?;
    }
    Ok(out)
}

/// Writes inserted rows back into the instances they came from (row values to `fields`,
/// indices into the model's fields, in order), and marks them as saved.
pub fn write_back(
    py: Python<'_>,
    info: &ModelInfo,
    objs: &[Py<PyAny>],
    rows: Vec<Row>,
    fields: &[usize],
) -> PyResult<()> {
    for (obj, row) in objs.iter().zip(rows) {
        let d = obj.bind(py).getattr(intern!(py, "__dict__"))?;
        let d = d.cast::<PyDict>()?;
        for (v, &i) in row.iter().zip(fields) {
            d.set_item(info.names[i].bind(py), field_value(py, info, i, v)?)?;
        }
        if d.contains(intern!(py, "_chakra_new"))? {
            d.del_item(intern!(py, "_chakra_new"))?;
        }
    }
    Ok(())
}

/// True when `obj`, inserted into a field of type `ty`, reads back as an equal object of
/// the same type: `str` in a text field, `int` in an integer field, `bool` in a boolean
/// field, `float` in a float field, a `datetime` in UTC (`timezone.utc`) in a datetime
/// field, `None` in any (exact types; a subclass, or a value the field converts, such as a
/// naive datetime made UTC or a decimal rounded to the scale, is written back from the
/// row).
pub(crate) fn reads_back_as_sent(ty: &FieldType, obj: &Bound<'_, PyAny>) -> bool {
    obj.is_none()
        || match ty {
            FieldType::String { .. } | FieldType::Text => obj.is_exact_instance_of::<PyString>(),
            FieldType::Integer | FieldType::BigInteger => obj.is_exact_instance_of::<PyInt>(),
            FieldType::Boolean => obj.is_exact_instance_of::<PyBool>(),
            FieldType::Float => obj.is_exact_instance_of::<PyFloat>(),
            FieldType::DateTime => is_utc_datetime(obj),
            _ => false,
        }
}

/// True for an exact `datetime` whose `tzinfo` is `datetime.timezone.utc`: stored as that
/// instant with microseconds, read back as an equal `datetime` with the same `tzinfo`.
fn is_utc_datetime(obj: &Bound<'_, PyAny>) -> bool {
    use pyo3::types::{PyDateTime, PyTzInfo, PyTzInfoAccess};
    if !obj.is_exact_instance_of::<PyDateTime>() {
        return false;
    }
    let Ok(dt) = obj.cast::<PyDateTime>() else {
        return false;
    };
    match (dt.get_tzinfo(), PyTzInfo::utc(obj.py())) {
        (Some(tz), Ok(utc)) => tz.is(&*utc),
        _ => false,
    }
}
