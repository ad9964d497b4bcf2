//! Model registration and row hydration: the Python metaclass registers each model's
//! metadata here once; rows become instances without running `__init__` (the instance is
//! allocated by its type and its `__dict__` is set in one step, keys interned).

use crate::convert::{from_py, to_py};
use crate::errors::to_py as err;
use crate::hydrate::{Mode, Tree};
use crate::job::{Finish, Job, LinkOp, Op};
use crate::session::target_of;
use chakra::exec::Row;
use chakra_dsl::relations::explicit::related_filter;
use chakra_dsl::relations::{default_join_column, find_relation, resolve_relation, Link};
use chakra_dsl::{
    pk_filter, DefaultValue, Error, FieldMeta, FieldType, ForeignKeyRef, LoadPlan, LoadSpec,
    ModelMeta, ModelQuery, OnDelete, PrefetchSpec, RelationKind, RelationMeta, Statement, Value,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use pyo3::{ffi, intern};
use std::sync::Arc;

/// A registered model: its metadata and what hydration needs.
pub struct ModelInfo {
    /// The metadata shared with the core.
    pub meta: Arc<ModelMeta>,
    /// The Python class.
    pub cls: Py<PyType>,
    /// Interned attribute names, one per field, in declaration order.
    pub names: Vec<Py<PyString>>,
    /// The Python `enum.Enum` class of each `Enum` field (`None` for other fields), in
    /// declaration order: stored text is read back as its member.
    pub enums: Vec<Option<Py<PyAny>>>,
}

/// `meta` for the life of the process: the core's statement-shape cache knows a model by
/// its metadata's address, so the metadata it was compiled from must never be freed (and its
/// address never reused by another model's). One clone per registered model is kept.
pub fn static_meta(meta: &Arc<ModelMeta>) -> &'static Arc<ModelMeta> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static KEPT: Mutex<Option<HashMap<usize, &'static Arc<ModelMeta>>>> = Mutex::new(None);
    let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    kept.get_or_insert_with(HashMap::new)
        .entry(Arc::as_ptr(meta) as usize)
        .or_insert_with(|| Box::leak(Box::new(meta.clone())))
}

/// The `__dict__` of an instance built from a row laid out as the model's fields in
/// declaration order.
pub fn row_dict<'py>(py: Python<'py>, info: &ModelInfo, row: Row) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (i, (name, v)) in info.names.iter().zip(row.iter()).enumerate() {
        dict.set_item(name.bind(py), field_value(py, info, i, v)?)?;
    }
    Ok(dict)
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

/// An instance of `info`'s class with `dict` as its `__dict__` (no `__init__` runs).
pub fn from_dict<'py>(
    py: Python<'py>,
    info: &ModelInfo,
    dict: Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    let cls = info.cls.bind(py);
    // SAFETY: the `tp_alloc` slot of a type holds an `allocfunc`; that of a heap type returns a new zero-initialised instance (or NULL with
    // an exception set); setting `__dict__` through the generic setattr is what
    // `obj.__dict__ = d` does. No `__init__` runs.
    unsafe {
        let tp = cls.as_type_ptr();
        // The slot is read through `PyType_GetSlot` (stable ABI, the extension is built
        // for abi3): the type object's layout is not part of the limited API.
        let slot = ffi::PyType_GetSlot(tp, ffi::Py_tp_alloc);
        let alloc: ffi::allocfunc = if slot.is_null() {
            ffi::PyType_GenericAlloc
        } else {
            std::mem::transmute::<*mut std::ffi::c_void, ffi::allocfunc>(slot)
        };
        let raw = alloc(tp, 0);
        let obj = Bound::from_owned_ptr_or_err(py, raw)?;
        let key = intern!(py, "__dict__");
        if ffi::PyObject_GenericSetAttr(obj.as_ptr(), key.as_ptr(), dict.as_ptr()) != 0 {
            return Err(PyErr::fetch(py));
        }
        Ok(obj)
    }
}

/// Builds one instance from a row laid out as the model's fields in declaration order.
pub fn instance<'py>(py: Python<'py>, info: &ModelInfo, row: Row) -> PyResult<Bound<'py, PyAny>> {
    let dict = row_dict(py, info, row)?;
    from_dict(py, info, dict)
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
        let dict = row_dict(py, info, r.clone())?;
        for (name, v) in names.iter().zip(r.iter().skip(n)) {
            dict.set_item(name.bind(py), to_py::value(py, v)?)?;
        }
        out.append(from_dict(py, info, dict)?)?;
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
fn reads_back_as_sent(ty: &FieldType, obj: &Bound<'_, PyAny>) -> bool {
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

pub(crate) fn field_type(spec: &Bound<'_, PyAny>) -> PyResult<FieldType> {
    let t = spec.cast::<PyTuple>()?;
    let name: String = t.get_item(0)?.extract()?;
    let arg = |i: usize| -> PyResult<Option<u32>> {
        if t.len() > i {
            t.get_item(i)?.extract()
        } else {
            Ok(None)
        }
    };
    Ok(match name.as_str() {
        "Integer" => FieldType::Integer,
        "BigInteger" => FieldType::BigInteger,
        "String" => FieldType::String {
            max_length: arg(1)?,
        },
        "Text" => FieldType::Text,
        "Boolean" => FieldType::Boolean,
        "Float" => FieldType::Float,
        "Decimal" => FieldType::Decimal {
            precision: arg(1)?,
            scale: arg(2)?,
        },
        "DateTime" => FieldType::DateTime,
        "Date" => FieldType::Date,
        "Bytes" => FieldType::Bytes,
        "JSON" => FieldType::Json,
        "UUID" => FieldType::Uuid,
        "Array" => FieldType::Array(Box::new(field_type(&t.get_item(1)?)?)),
        "Enum" => {
            let name: String = t.get_item(1)?.extract()?;
            let values: Vec<String> = t.get_item(2)?.extract()?;
            chakra_dsl::types::check_enum_declaration(&name, &values)
                .map_err(|why| err(Error::Config(why)))?;
            FieldType::Enum { name, values }
        }
        other => {
            return Err(err(Error::Config(format!("unknown field type {other:?}"))));
        }
    })
}

fn get<'py>(d: &Bound<'py, PyDict>, k: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(k)?
        .ok_or_else(|| err(Error::Config(format!("field spec is missing {k:?}"))))
}

/// A model class registered with the core (Python: `chakra._chakra.ModelHandle`).
#[pyclass(frozen, module = "chakra._chakra")]
pub struct ModelHandle {
    pub(crate) info: Arc<ModelInfo>,
}

/// Registers a model: `fields` are dicts (`name, column, type, primary_key,
/// auto_increment, unique, nullable, index, default, default_now`, and `references`:
/// `{model, on_delete}` for a foreign-key column), `relations` dicts (`name, kind, target,
/// foreign_key, back_populates`, and `through, source_column, target_column` for a
/// many-to-many; the columns default to `post_id` / `tag_id`). `app` is the migrations app
/// a new table goes to (`__app__`). `ordering` is `class Meta: ordering` (field names, `-`
/// for descending), parsed and checked by the core. A model registered under the same name
/// before is replaced.
#[pyfunction]
#[pyo3(signature = (cls, name, table, fields, relations, app=None, options=None, ordering=None))]
#[allow(clippy::too_many_arguments)] // the Python call's arguments, one each
pub fn register_model(
    py: Python<'_>,
    cls: Bound<'_, PyType>,
    name: String,
    table: String,
    fields: Vec<Bound<'_, PyDict>>,
    relations: Vec<Bound<'_, PyDict>>,
    app: Option<String>,
    options: Option<Vec<Bound<'_, PyDict>>>,
    ordering: Option<Vec<String>>,
) -> PyResult<ModelHandle> {
    let options = crate::model_options::table_options(&name, &options.unwrap_or_default())?;
    chakra_dsl::ident::validate(&table).map_err(err)?;
    if let Some(a) = &app {
        if a.is_empty() || !a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(err(Error::Config(format!(
                "{name}.__app__ = {a:?}: an app is a migrations folder name (letters, digits \
                 and underscores)"
            ))));
        }
    }
    let mut metas = Vec::with_capacity(fields.len());
    for f in &fields {
        metas.push(field_meta(&name, f)?);
    }
    let mut rels = Vec::with_capacity(relations.len());
    for r in &relations {
        rels.push(relation_meta(&name, r)?);
    }
    let names = metas
        .iter()
        .map(|f| PyString::intern(py, &f.name).unbind())
        .collect();
    let mut enums = Vec::with_capacity(fields.len());
    for (f, m) in fields.iter().zip(&metas) {
        enums.push(match m.ty {
            FieldType::Enum { .. } => {
                Some(get(f, "type")?.cast::<PyTuple>()?.get_item(3)?.unbind())
            }
            _ => None,
        });
    }
    let mut meta = ModelMeta {
        name,
        table,
        fields: metas,
        relations: rels,
        app,
        options,
        ordering: ordering
            .unwrap_or_default()
            .iter()
            .map(|s| chakra_dsl::meta::OrderKey::parse(s))
            .collect(),
    };
    meta.check_ordering().map_err(err)?;
    meta.check_auto_now().map_err(err)?;
    let info = Arc::new(ModelInfo {
        meta: Arc::new(meta),
        cls: cls.unbind(),
        names,
        enums,
    });
    crate::registry::register(info.clone());
    Ok(ModelHandle { info })
}

fn field_meta(model: &str, f: &Bound<'_, PyDict>) -> PyResult<FieldMeta> {
    let fname: String = get(f, "name")?.extract()?;
    let ty = field_type(&get(f, "type")?)?;
    let mut m = FieldMeta::new(fname.clone(), ty);
    m.column = get(f, "column")?.extract()?;
    chakra_dsl::ident::validate(&m.column).map_err(err)?;
    m.primary_key = get(f, "primary_key")?.extract()?;
    m.auto_increment = get(f, "auto_increment")?.extract()?;
    m.unique = get(f, "unique")?.extract()?;
    m.nullable = get(f, "nullable")?.extract()?;
    m.index = get(f, "index")?.extract()?;
    if let Some(c) = f.get_item("concurrency")? {
        let word: String = c.extract()?;
        m.concurrency = match word.as_str() {
            "compare" => chakra_dsl::Concurrency::Compare,
            "version" => chakra_dsl::Concurrency::Version,
            "unchecked" => chakra_dsl::Concurrency::Unchecked,
            other => {
                return Err(err(Error::Config(format!(
                    "{model}.{fname}: unknown concurrency {other:?}; choices are: compare, version, unchecked"
                ))))
            }
        };
    }
    if let Some(a) = f.get_item("auto_now")? {
        let word: String = a.extract()?;
        m.auto_now = match word.as_str() {
            "save" => chakra_dsl::meta::AutoNow::OnSave,
            "add" => chakra_dsl::meta::AutoNow::OnAdd,
            other => {
                return Err(err(Error::Config(format!(
                    "{model}.{fname}: unknown auto_now {other:?}; choices are: save, add"
                ))))
            }
        };
    }
    if get(f, "default_now")?.extract::<bool>()? {
        m.default = Some(DefaultValue::Now);
    } else if let Some(d) = f.get_item("default")? {
        let v = from_py::value(&d, &m.ty.value_type()).map_err(|reason| {
            err(Error::BadValue {
                model: model.to_owned(),
                field: fname.clone(),
                value: d.repr().map(|r| r.to_string()).unwrap_or_default(),
                expected: m.ty.canonical_name().into(),
                reason: Some(format!("bad default: {reason}")),
            })
        })?;
        m.default = Some(DefaultValue::Value(v));
    }
    if let Some(r) = f.get_item("references")? {
        let r = r.cast_into::<PyDict>()?;
        let word: String = get(&r, "on_delete")?.extract()?;
        let on_delete = OnDelete::parse(&word).ok_or_else(|| {
            err(Error::InvalidRelation {
                model: model.to_owned(),
                relation: fname.clone(),
                reason: format!(
                    "unknown on_delete {word:?}; choices are: CASCADE, SET_NULL, RESTRICT, \
                     NO_ACTION"
                ),
            })
        })?;
        if on_delete == OnDelete::SetNull && !m.nullable {
            return Err(err(Error::InvalidRelation {
                model: model.to_owned(),
                relation: fname.clone(),
                reason: "on_delete=SET_NULL needs a nullable key (nullable=True)".into(),
            }));
        }
        m.references = Some(ForeignKeyRef {
            model: get(&r, "model")?.extract()?,
            table: String::new(),
            column: String::new(),
            on_delete,
        });
    }
    Ok(m)
}

fn relation_meta(model: &str, r: &Bound<'_, PyDict>) -> PyResult<RelationMeta> {
    let kind: String = get(r, "kind")?.extract()?;
    let target: String = get(r, "target")?.extract()?;
    let opt = |k: &str| -> PyResult<Option<String>> {
        match r.get_item(k)? {
            Some(v) if !v.is_none() => Ok(Some(v.extract()?)),
            _ => Ok(None),
        }
    };
    let kind = match kind.as_str() {
        "ForeignKey" => RelationKind::ForeignKey,
        "OneToOne" => RelationKind::OneToOne,
        "OneToMany" => RelationKind::OneToMany,
        "ManyToMany" => {
            let through = opt("through")?.ok_or_else(|| {
                err(Error::Config(format!(
                    "the many-to-many relation of {model} to {target} names no through table"
                )))
            })?;
            chakra_dsl::ident::validate(&through).map_err(err)?;
            let source_column = opt("source_column")?.unwrap_or_else(|| default_join_column(model));
            let target_column =
                opt("target_column")?.unwrap_or_else(|| default_join_column(&target));
            chakra_dsl::ident::validate(&source_column).map_err(err)?;
            chakra_dsl::ident::validate(&target_column).map_err(err)?;
            RelationKind::ManyToMany {
                through,
                source_column,
                target_column,
            }
        }
        other => {
            return Err(err(Error::Config(format!(
                "unknown relation kind {other:?}"
            ))))
        }
    };
    Ok(RelationMeta {
        name: get(r, "name")?.extract()?,
        kind,
        target,
        foreign_key: opt("foreign_key")?,
        back_populates: opt("back_populates")?,
    })
}

impl ModelHandle {
    fn bad(
        &self,
        field: &str,
        obj: &Bound<'_, PyAny>,
        expected: &FieldType,
        reason: String,
    ) -> PyErr {
        err(Error::BadValue {
            model: self.info.meta.name.clone(),
            field: field.to_owned(),
            value: obj.repr().map(|r| r.to_string()).unwrap_or_default(),
            expected: expected.canonical_name().to_owned(),
            reason: Some(reason),
        })
    }

    /// Converts a Python value for field `f`.
    pub fn field_value(&self, f: &FieldMeta, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        from_py::value(obj, &f.ty.value_type()).map_err(|r| self.bad(&f.name, obj, &f.ty, r))
    }

    /// The value of `obj`'s field `f`, which must be set (a key that identifies related
    /// rows; `what` names the relation or operation for the message).
    fn key_of(&self, obj: &Bound<'_, PyAny>, f: &FieldMeta, what: &str) -> PyResult<Value> {
        let py = obj.py();
        let d = obj
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        match d.get_item(f.name.as_str())? {
            Some(v) if !v.is_none() => self.field_value(f, &v),
            _ => Err(err(Error::InvalidQuery(format!(
                "{}.{what}: this {} has no {} yet (save it first)",
                self.info.meta.name, self.info.meta.name, f.name
            )))),
        }
    }

    /// A tracked object's guarded UPDATE of the fields `names` (each only if the row still
    /// holds the value in `read`, and the version field, if any, too), and how its
    /// affected-row count is finished.
    fn guarded_update(
        &self,
        obj: &Bound<'_, PyAny>,
        names: &[String],
        read: &Bound<'_, PyDict>,
    ) -> PyResult<(chakra_dsl::Statement, Finish)> {
        let meta = &self.info.meta;
        let (d, key) = self.saved_key(obj)?;
        let value_of = |dict: &Bound<'_, PyDict>, f: &chakra_dsl::FieldMeta| -> PyResult<Value> {
            match dict.get_item(f.name.as_str())? {
                Some(o) => self.field_value(f, &o),
                None => Ok(Value::Null(f.ty.value_type())),
            }
        };
        let mut changes = Vec::with_capacity(names.len());
        for n in names {
            meta.require_field(n).map_err(err)?;
        }
        for (i, f) in meta.fields.iter().enumerate() {
            if names.iter().any(|n| n == &f.name) {
                changes.push(chakra_dsl::tracked::Change {
                    field: i,
                    new: value_of(&d, f)?,
                    read: value_of(read, f)?,
                });
            }
        }
        let version_read = match meta.version_field() {
            Some((_, vf)) => Some(value_of(read, vf)?),
            None => None,
        };
        let (stmt, new_version) =
            chakra_dsl::tracked::guarded_update(meta, key.clone(), &changes, version_read)
                .map_err(err)?;
        Ok((
            stmt,
            Finish::Guarded {
                model: meta.name.clone(),
                table: meta.table.clone(),
                key,
                new_version,
            },
        ))
    }

    /// An object's `__dict__` and its primary-key value, or an error naming the model when
    /// it has no key value yet (an UPDATE needs a saved row).
    fn saved_key<'py>(&self, obj: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyDict>, Value)> {
        let py = obj.py();
        let meta = &self.info.meta;
        let d = obj
            .getattr(intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        let pk = meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "{} has no primary key",
                meta.name
            )))
        })?;
        match d.get_item(pk.name.as_str())? {
            Some(o) if !o.is_none() => {
                let key = self.field_value(pk, &o)?;
                Ok((d, key))
            }
            _ => Err(err(Error::InvalidQuery(format!(
                "cannot update a {} that has no primary key value (save it first)",
                meta.name
            )))),
        }
    }

    fn pk_value(&self, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        let pk = self.info.meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "{} has no primary key",
                self.info.meta.name
            )))
        })?;
        self.field_value(pk, obj)
    }
}

#[pymethods]
impl ModelHandle {
    /// Model name.
    #[getter]
    fn name(&self) -> &str {
        &self.info.meta.name
    }

    /// Table name.
    #[getter]
    fn table(&self) -> &str {
        &self.info.meta.table
    }

    /// The migrations app a new table goes to (`__app__`), if declared.
    #[getter]
    fn app(&self) -> Option<&str> {
        self.info.meta.app.as_deref()
    }

    /// Field names in declaration order.
    fn field_names(&self) -> Vec<String> {
        self.info
            .meta
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect()
    }

    /// The fields a write sets to the current time (`auto_now`, and `auto_now_add` when
    /// `inserting`), with the value: one instant computed by the core for all of them.
    fn auto_now_values<'py>(
        &self,
        py: Python<'py>,
        inserting: bool,
    ) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        let meta = &self.info.meta;
        meta.auto_now_values(inserting)
            .into_iter()
            .map(|(i, v)| Ok((meta.fields[i].name.clone(), to_py::value(py, &v)?)))
            .collect()
    }

    /// The primary-key field name, if any.
    fn pk_name(&self) -> Option<String> {
        self.info.meta.primary_key().map(|f| f.name.clone())
    }

    /// A readable dump of the registered metadata (for debugging and tests).
    fn describe(&self) -> String {
        format!("{:#?}", self.info.meta)
    }

    /// A new query over every row.
    fn query(&self) -> crate::query::Query {
        crate::query::Query::new(self.info.clone(), ModelQuery::new(self.info.meta.clone()))
    }

    /// Inserts `objs` in one statement (chunked when large) and writes generated columns
    /// back into them: the key, and each field whose value the objects do not already hold
    /// as stored (`reads_back_as_sent`). Fields left `None` that the database fills
    /// (auto-increment keys, `now()` defaults) are left out when every object leaves them
    /// `None`.
    ///
    /// `conflict` = `(unique_fields, update_fields)` makes it an upsert: conflicting rows
    /// get `update_fields` from the proposed row (written back), or, with no update
    /// fields, are skipped (nothing is written back).
    /// With `return_ids=False` (no conflict handling) the INSERT has no `RETURNING`: nothing
    /// is decoded or written back, for loads that do not need the keys.
    #[pyo3(signature = (target, objs, conflict=None, return_ids=true))]
    fn insert_job(
        &self,
        target: &Bound<'_, PyAny>,
        objs: Vec<Bound<'_, PyAny>>,
        conflict: Option<(Vec<String>, Vec<String>)>,
        return_ids: bool,
    ) -> PyResult<Job> {
        let py = target.py();
        let meta = &self.info.meta;
        let dicts = objs
            .iter()
            .map(|o| {
                o.getattr(intern!(py, "__dict__"))?
                    .cast_into::<PyDict>()
                    .map_err(PyErr::from)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let mut use_field = Vec::with_capacity(meta.fields.len());
        for (i, f) in meta.fields.iter().enumerate() {
            let db_fills = f.auto_increment || matches!(f.default, Some(DefaultValue::Now));
            let all_none = dicts.iter().try_fold(true, |acc, d| -> PyResult<bool> {
                Ok(acc
                    && d.get_item(self.info.names[i].bind(py))?
                        .is_none_or(|v| v.is_none()))
            })?;
            use_field.push(!(db_fills && all_none));
        }
        let fields: Vec<usize> = (0..meta.fields.len()).filter(|&i| use_field[i]).collect();
        // Per field: every object held a value that reads back as the same Python object
        // (see `reads_back_as_sent`), so the inserted row need not be written back to it.
        let mut as_sent: Vec<bool> = use_field.clone();
        let mut rows = Vec::with_capacity(dicts.len());
        for d in &dicts {
            let mut row = Vec::with_capacity(fields.len());
            for &i in &fields {
                let f = &meta.fields[i];
                let v = match d.get_item(self.info.names[i].bind(py))? {
                    Some(o) => {
                        as_sent[i] = as_sent[i] && reads_back_as_sent(&f.ty, &o);
                        self.field_value(f, &o)?
                    }
                    None => Value::Null(f.ty.value_type()),
                };
                if v.is_null() && f.auto_increment {
                    return Err(err(Error::InvalidQuery(format!(
                        "bulk insert of {}: set {} on every object or on none",
                        meta.name, f.name
                    ))));
                }
                row.push(v);
            }
            rows.push(row);
        }
        if rows.is_empty() {
            return Ok(Job::new(Op::Noop, Finish::Nothing));
        }
        if let Some((unique, update)) = conflict {
            let rows = rows
                .into_iter()
                .map(|r| {
                    fields
                        .iter()
                        .map(|&i| meta.fields[i].name.clone())
                        .zip(r)
                        .collect()
                })
                .collect();
            let up = chakra_dsl::upsert_rows(meta, rows, &unique, &update).map_err(err)?;
            let finish = if update.is_empty() {
                Finish::Nothing
            } else {
                // A conflicting row comes back as it is in the table: every field written.
                Finish::Created(
                    self.info.clone(),
                    objs.into_iter().map(|o| o.unbind()).collect(),
                    (0..meta.fields.len()).collect(),
                )
            };
            return Ok(Job::new(
                Op::Fetch(target_of(target)?, Statement::Upsert(up)),
                finish,
            ));
        }
        let mut ins = chakra_dsl::insert_field_rows(meta, &fields, rows).map_err(err)?;
        if !return_ids {
            ins.returning.clear();
            return Ok(Job::new(
                Op::Execute(target_of(target)?, Statement::Insert(ins)),
                Finish::Nothing,
            ));
        }
        // Only the key and the fields the objects do not already hold as stored come back
        // (less to return, decode and convert); the key always does, so every object is
        // marked saved.
        let back: Vec<usize> = (0..meta.fields.len())
            .filter(|&i| !as_sent[i] || meta.fields[i].primary_key)
            .collect();
        ins.returning = back.iter().map(|&i| ins.returning[i].clone()).collect();
        Ok(Job::new(
            Op::Fetch(target_of(target)?, Statement::Insert(ins)),
            Finish::Created(
                self.info.clone(),
                objs.into_iter().map(|o| o.unbind()).collect(),
                back,
            ),
        ))
    }

    /// `bulk_update(objs, fields)`: each object's `fields` written by primary key in one
    /// statement; returns the number of rows updated.
    fn bulk_update_job(
        &self,
        target: &Bound<'_, PyAny>,
        objs: Vec<Bound<'_, PyAny>>,
        fields: Vec<String>,
    ) -> PyResult<Job> {
        let py = target.py();
        let meta = &self.info.meta;
        let pk = meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "bulk_update() on {} needs a primary key",
                meta.name
            )))
        })?;
        let mut resolved = Vec::with_capacity(fields.len());
        for n in &fields {
            resolved.push(
                chakra_dsl::lookup::resolve_field(meta, n)
                    .map_err(err)?
                    .clone(),
            );
        }
        let value_of = |o: &Bound<'_, PyAny>, f: &chakra_dsl::FieldMeta| -> PyResult<Value> {
            let d = o
                .getattr(intern!(py, "__dict__"))?
                .cast_into::<PyDict>()
                .map_err(PyErr::from)?;
            match d.get_item(f.name.as_str())? {
                Some(v) => self.field_value(f, &v),
                None => Ok(Value::Null(f.ty.value_type())),
            }
        };
        let mut rows = Vec::with_capacity(objs.len());
        for o in &objs {
            let key = value_of(o, pk)?;
            let mut values = Vec::with_capacity(resolved.len());
            for f in &resolved {
                values.push(value_of(o, f)?);
            }
            rows.push((key, values));
        }
        let names: Vec<String> = resolved.iter().map(|f| f.name.clone()).collect();
        let stmt = chakra_dsl::bulk_update_rows(meta, &names, rows).map_err(err)?;
        if objs.is_empty() {
            return Ok(Job::new(Op::Noop, Finish::Nothing));
        }
        Ok(Job::new(
            Op::Execute(target_of(target)?, Statement::BulkUpdate(stmt)),
            Finish::RowCount,
        ))
    }

    /// `UPDATE … SET <fields> WHERE pk = obj.pk` with the object's current values; all
    /// non-key fields when `fields` is `None`.
    #[pyo3(signature = (target, obj, fields=None))]
    fn update_job(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        fields: Option<Vec<String>>,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let (d, key) = self.saved_key(obj)?;
        let mut sets = Vec::new();
        for f in &meta.fields {
            let wanted = match &fields {
                Some(list) => list.iter().any(|n| n == &f.name),
                None => !f.primary_key,
            };
            if !wanted {
                continue;
            }
            let v = match d.get_item(f.name.as_str())? {
                Some(o) => self.field_value(f, &o)?,
                None => Value::Null(f.ty.value_type()),
            };
            sets.push((f.name.clone(), chakra_dsl::Expr::Value(v)));
        }
        if let Some(list) = &fields {
            for n in list {
                meta.require_field(n).map_err(err)?;
            }
        }
        if sets.is_empty() {
            return Ok(Job::new(Op::Noop, Finish::Nothing));
        }
        let q = ModelQuery::new(meta.clone()).filter(pk_filter(meta, key).map_err(err)?);
        let stmt = q.update(sets).map_err(err)?;
        Ok(Job::new(
            Op::Execute(target_of(target)?, stmt),
            Finish::RowCount,
        ))
    }

    /// `DELETE … WHERE pk = value`.
    fn delete_pk_job(&self, target: &Bound<'_, PyAny>, pk: &Bound<'_, PyAny>) -> PyResult<Job> {
        let meta = &self.info.meta;
        let q =
            ModelQuery::new(meta.clone()).filter(pk_filter(meta, self.pk_value(pk)?).map_err(err)?);
        Ok(Job::new(
            crate::job::delete_op(target_of(target)?, &q).map_err(err)?,
            Finish::RowCount,
        ))
    }

    /// The row with this primary key, or `None`; locked until the transaction ends with
    /// `for_update` (`SELECT … FOR UPDATE` on PostgreSQL).
    #[pyo3(signature = (target, pk, for_update=false))]
    fn get_pk_job(
        &self,
        target: &Bound<'_, PyAny>,
        pk: &Bound<'_, PyAny>,
        for_update: bool,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let q = ModelQuery::new(meta.clone())
            .filter(pk_filter(meta, self.pk_value(pk)?).map_err(err)?)
            .lock(for_update.then(chakra_dsl::RowLock::update));
        Ok(Job::new(
            Op::Fetch(target_of(target)?, Statement::Select(q.select())),
            Finish::First(self.info.clone()),
        ))
    }

    /// The query over the rows related to `obj` through relation `name` (explicit
    /// loading: `await user.posts.all()`, `user.posts.filter(...)`).
    fn related_query(&self, obj: &Bound<'_, PyAny>, name: &str) -> PyResult<crate::query::Query> {
        let models = crate::registry::snapshot();
        let rel = resolve_relation(&models, &self.info.meta, name).map_err(err)?;
        let key = self.key_of(obj, rel.source_key(), name)?;
        let target = models.info(&rel.target.name).cloned().ok_or_else(|| {
            err(Error::UnknownModel {
                model: rel.target.name.clone(),
                referenced_by: rel.display(),
            })
        })?;
        let mut mq = ModelQuery::new(rel.target.clone()).filter(related_filter(&rel, key));
        // The target's default ordering, else primary-key order, as prefetch_related gives
        // them (order_by() replaces either).
        if let (Some(pk), true) = (rel.target.primary_key(), mq.order_by.is_empty()) {
            mq = mq.order_by(chakra_dsl::field_expr(&rel.target, pk), false);
        }
        Ok(crate::query::Query::new(target, mq))
    }

    /// Changes the many-to-many links of `obj` through relation `name`: `op` is `"add"`,
    /// `"remove"`, `"clear"` or `"set"`, `objs` the related objects (or their keys).
    /// Returns the number of join rows written or deleted.
    fn links_job(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        name: &str,
        op: &str,
        objs: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<Job> {
        let py = obj.py();
        let models = crate::registry::snapshot();
        let rel = resolve_relation(&models, &self.info.meta, name).map_err(err)?;
        let Link::Through { target_key, .. } = &rel.link else {
            return Err(err(Error::InvalidRelation {
                model: self.info.meta.name.clone(),
                relation: name.to_owned(),
                reason: format!(
                    "{op}() works on many-to-many relations; set the foreign key on the \
                     related object instead"
                ),
            }));
        };
        let key = self.key_of(obj, rel.source_key(), name)?;
        let mut values = Vec::with_capacity(objs.len());
        for o in &objs {
            let k = match o.getattr(intern!(py, "__chakra__")) {
                Ok(_) => o.getattr(intern!(py, "pk"))?,
                Err(_) => o.clone(),
            };
            if k.is_none() {
                return Err(self.bad(
                    name,
                    o,
                    &target_key.ty,
                    format!(
                        "the {} has no primary key yet (save it first)",
                        rel.target.name
                    ),
                ));
            }
            values.push(
                from_py::value(&k, &target_key.ty.value_type())
                    .map_err(|r| self.bad(name, o, &target_key.ty, r))?,
            );
        }
        let op = match op {
            "add" => LinkOp::Add(values),
            "remove" => LinkOp::Remove(values),
            "clear" => LinkOp::Clear,
            "set" => LinkOp::Set(values),
            other => {
                return Err(err(Error::InvalidQuery(format!(
                    "unknown link operation {other:?}"
                ))))
            }
        };
        Ok(Job::new(
            Op::Links(target_of(target)?, Box::new(rel), key, op),
            Finish::RowCount,
        ))
    }

    /// Loads relation paths (`"author"`, `"comments__commenter"`) onto `obj` with one
    /// statement per level (`await post.fetch_related(...)`).
    fn fetch_related_job(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        paths: Vec<String>,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let pk = meta.primary_key().ok_or_else(|| {
            err(Error::InvalidQuery(format!(
                "{} has no primary key",
                meta.name
            )))
        })?;
        let key = self.key_of(obj, pk, "fetch_related")?;
        let mq = ModelQuery::new(meta.clone()).filter(pk_filter(meta, key).map_err(err)?);
        let spec = LoadSpec {
            select_related: Vec::new(),
            prefetch: paths.into_iter().map(PrefetchSpec::new).collect(),
        };
        let models = crate::registry::snapshot();
        let plan = LoadPlan::build(&models, &mq, &spec).map_err(err)?;
        Ok(Job::new(
            Op::Load(target_of(target)?, Box::new(plan)),
            Finish::Tree(Tree {
                root: self.info.clone(),
                models,
                mode: Mode::Onto(obj.clone().unbind()),
                annotations: Vec::new(),
            }),
        ))
    }

    /// The `chakra.errors.NotLoaded` exception for relation `relation` of this model (to
    /// raise).
    fn not_loaded(&self, py: Python<'_>, relation: &str) -> Py<PyAny> {
        let models = crate::registry::snapshot();
        let model = find_relation(&models, &self.info.meta, relation)
            .map(|r| r.target)
            .unwrap_or_else(|| "?".into());
        let e = Error::NotLoaded {
            owner: self.info.meta.name.clone(),
            relation: relation.to_owned(),
            model,
        };
        crate::errors::to_py_in(py, &e, None)
            .into_value(py)
            .into_any()
    }

    /// Converts `value` for field `name` (checks it; used by `Model.__init__` callers and
    /// tests). Returns the value as it would read back.
    fn check(&self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let f = self.info.meta.require_field(name).map_err(err)?;
        let v = self.field_value(f, value)?;
        chakra_dsl::check_value(&self.info.meta, f, &v).map_err(err)?;
        Ok(to_py::value(py, &v)?.unbind())
    }
}

/// One item of [`tracked_updates_job`]: model handle, object, changed field names, values
/// read.
type TrackedChange<'py> = (
    PyRef<'py, ModelHandle>,
    Bound<'py, PyAny>,
    Vec<String>,
    Bound<'py, PyDict>,
);

/// Tracked objects' UPDATEs in one job, in the order given: pipelined on PostgreSQL (one
/// round trip for all). Each item is `(model handle, obj, names, read)`: `names` are the
/// changed fields, `read` holds the values last read (or written) for them and for the
/// version field. Each UPDATE is a compare-and-set (see `chakra_dsl::tracked`); the first
/// that matches no row raises `ConcurrentUpdate`. The job returns the version fields' new
/// values (or `None`), in order.
#[pyfunction]
pub fn tracked_updates_job(
    target: &Bound<'_, PyAny>,
    items: Vec<TrackedChange<'_>>,
) -> PyResult<Job> {
    let mut stmts = Vec::with_capacity(items.len());
    let mut guards = Vec::with_capacity(items.len());
    for (handle, obj, names, read) in &items {
        let (stmt, guard) = handle.guarded_update(obj, names, read)?;
        stmts.push(stmt);
        guards.push(guard);
    }
    Ok(Job::new(
        Op::ExecuteMany(target_of(target)?, stmts),
        Finish::GuardedMany(guards),
    ))
}
