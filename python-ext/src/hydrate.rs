//! Row trees ([`chakra::load::Loaded`]) → Python instances with their loaded relations, in
//! one GIL hold on the calling (event-loop) thread. Each related row becomes one instance,
//! shared by every parent it is linked to (a prefetched author of many posts); relation
//! attributes are set in the instance's `__dict__` before it is created
//! (a list for a relation to many rows, the object or `None` for one).

use crate::errors::to_py_in;
use crate::model::{from_dict, row_dict, ModelInfo};
use crate::registry::Snapshot;
use chakra::load::Loaded;
use chakra_dsl::Error;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
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
        let dict = row_dict(py, info, row)?;
        for (name, v) in annotations.iter().zip(&extra) {
            dict.set_item(name.bind(py), crate::convert::to_py::value(py, v)?)?;
        }
        for b in &built {
            b.set(py, &dict, i)?;
        }
        out.push(from_dict(py, info, dict)?);
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
