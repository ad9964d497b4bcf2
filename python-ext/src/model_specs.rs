//! Model registration: the specs the Python metaclass sends (field dicts, relation dicts,
//! type tuples) parsed into the core's metadata, once per model class.

use crate::convert::from_py;
use crate::errors::to_py as err;
use crate::model::{ModelHandle, ModelInfo};
use chakra_dsl::relations::default_join_column;
use chakra_dsl::{
    DefaultValue, Error, FieldMeta, FieldType, ForeignKeyRef, ModelMeta, OnDelete, RelationKind,
    RelationMeta,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use std::sync::Arc;

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
    if name == "Array" {
        return Ok(FieldType::Array(Box::new(field_type(&t.get_item(1)?)?)));
    }
    // The name is parsed by the core (the same names as migration files); the parameters
    // come from the tuple.
    Ok(match name.parse::<FieldType>().map_err(err)? {
        FieldType::String { .. } => FieldType::String {
            max_length: arg(1)?,
        },
        FieldType::Decimal { .. } => FieldType::Decimal {
            precision: arg(1)?,
            scale: arg(2)?,
        },
        FieldType::Enum { .. } => {
            let name: String = t.get_item(1)?.extract()?;
            let values: Vec<String> = t.get_item(2)?.extract()?;
            chakra_dsl::types::check_enum_declaration(&name, &values)
                .map_err(|why| err(Error::Config(why)))?;
            FieldType::Enum { name, values }
        }
        other => other,
    })
}

fn get<'py>(d: &Bound<'py, PyDict>, k: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(k)?
        .ok_or_else(|| err(Error::Config(format!("field spec is missing {k:?}"))))
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
        kept: std::sync::OnceLock::new(),
    });
    crate::registry::register(info.clone());
    Ok(ModelHandle::new(info))
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
        m.concurrency = word.parse().map_err(|e: Error| {
            err(Error::Config(format!(
                "{model}.{fname}: {}",
                config_text(e)
            )))
        })?;
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
    let kind = match kind.parse::<RelationKind>().map_err(|e| {
        err(Error::Config(format!(
            "the relation of {model} to {target}: {}",
            config_text(e)
        )))
    })? {
        RelationKind::ManyToMany { .. } => {
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
        other => other,
    };
    Ok(RelationMeta {
        name: get(r, "name")?.extract()?,
        kind,
        target,
        foreign_key: opt("foreign_key")?,
        back_populates: opt("back_populates")?,
    })
}

/// The text of a `Config` error (the core's name parsers report through it).
fn config_text(e: Error) -> String {
    match e {
        Error::Config(text) => text,
        other => other.to_string(),
    }
}
