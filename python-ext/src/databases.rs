//! Named databases for the Python door: `chakra.configure({"default": url, "analytics":
//! {...}})`, else `chakra.toml`'s `[databases.NAME]` (or `[database]` as `default`). Each
//! name resolves to the [`PoolRef`] of its primary URL, which carries the database's
//! replicas and read policy (the core's `chakra::databases`); nothing is parsed in Python.

use crate::pools::PoolRef;
use chakra::databases::{settings, DatabaseConfig, DEFAULT_DATABASE};
use chakra_dsl::Error;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The databases configured from code (`None`: from `chakra.toml` and the environment).
/// Only Python threads holding the GIL touch it, so it is not fork-gated (see
/// `crate::pools::lock`): the forking thread holds the GIL, so no other holds this lock.
static CONFIGURED: Mutex<Option<BTreeMap<String, DatabaseConfig>>> = Mutex::new(None);

fn configured_lock() -> std::sync::MutexGuard<'static, Option<BTreeMap<String, DatabaseConfig>>> {
    CONFIGURED.lock().unwrap_or_else(|e| e.into_inner())
}

fn to_py(e: Error) -> PyErr {
    crate::errors::to_py(e)
}

/// One Python value of a database's settings as TOML.
fn toml_value(name: &str, key: &str, v: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    if let Ok(b) = v.extract::<bool>() {
        return Ok(toml::Value::Boolean(b));
    }
    if let Ok(n) = v.extract::<i64>() {
        return Ok(toml::Value::Integer(n));
    }
    if let Ok(t) = v.cast::<PyString>() {
        return Ok(toml::Value::String(t.to_str()?.to_owned()));
    }
    if let Ok(items) = v.cast::<PyList>() {
        let mut out = Vec::new();
        for i in items.iter() {
            out.push(toml_value(name, key, &i)?);
        }
        return Ok(toml::Value::Array(out));
    }
    if let Ok(items) = v.cast::<pyo3::types::PyTuple>() {
        let mut out = Vec::new();
        for i in items.iter() {
            out.push(toml_value(name, key, &i)?);
        }
        return Ok(toml::Value::Array(out));
    }
    Err(to_py(Error::Config(format!(
        "chakra.configure: databases[{name:?}][{key:?}] = {} must be a string, number, \
         bool or list of URLs",
        v.repr().map(|r| r.to_string()).unwrap_or_default()
    ))))
}

/// `chakra.configure({...})`: every named database, each a URL or a dict of settings (the
/// keys of `[databases.NAME]`: `url`, `replicas`, `replica_reads`, `read_your_writes`,
/// `replica_wait`, `max_replica_lag`, `replica_retry`, `sticky_for`, `max_size`, `pooler`…).
/// Checked here: an unknown key or a bad value raises `ConfigError` naming it.
#[pyfunction]
pub fn configure_databases(spec: &Bound<'_, PyDict>) -> PyResult<()> {
    let mut tables = toml::Table::new();
    for (k, v) in spec.iter() {
        let name: String = k.extract().map_err(|_| {
            to_py(Error::Config(
                "chakra.configure: database names are strings".into(),
            ))
        })?;
        let mut t = toml::Table::new();
        if let Ok(url) = v.cast::<PyString>() {
            t.insert("url".into(), toml::Value::String(url.to_str()?.to_owned()));
        } else if let Ok(d) = v.cast::<PyDict>() {
            for (key, value) in d.iter() {
                let key: String = key.extract()?;
                t.insert(key.clone(), toml_value(&name, &key, &value)?);
            }
        } else {
            return Err(to_py(Error::Config(format!(
                "chakra.configure: databases[{name:?}] must be a URL or a dict of settings"
            ))));
        }
        tables.insert(name, toml::Value::Table(t));
    }
    settings::check_databases_table(&tables).map_err(to_py)?;
    let mut out = BTreeMap::new();
    for (name, t) in &tables {
        let t = t.as_table().expect("built as tables");
        if !t.contains_key("url") {
            return Err(to_py(Error::Config(format!(
                "chakra.configure: database {name:?} has no url"
            ))));
        }
        let c = DatabaseConfig::from_table(&format!("chakra.configure database {name:?}"), t)
            .map_err(to_py)?;
        chakra::config::DatabaseUrl::parse(&c.url).map_err(to_py)?;
        out.insert(name.clone(), c);
    }
    if !out.contains_key(DEFAULT_DATABASE) {
        return Err(to_py(Error::Config(format!(
            "chakra.configure: name one of the databases {DEFAULT_DATABASE:?} (the one queries use \
             when none is chosen); got {}",
            out.keys().cloned().collect::<Vec<_>>().join(", ")
        ))));
    }
    *configured_lock() = Some(out);
    Ok(())
}

/// Forgets the databases configured from code (`chakra.configure(url)` / `configure()`).
#[pyfunction]
pub fn reset_databases() {
    *configured_lock() = None;
}

/// The configured databases: from code, else `chakra.toml` (with `CHAKRA_DATABASE_URL`
/// as the default's URL when set), else only `default` at the default URL.
/// The embedded default, when used, is said once on the `chakra` logger.
fn configured(py: Python<'_>) -> PyResult<BTreeMap<String, DatabaseConfig>> {
    if let Some(c) = configured_lock().clone() {
        return Ok(c);
    }
    let mut out: BTreeMap<String, DatabaseConfig> = match std::fs::read_to_string("chakra.toml") {
        Ok(text) => settings::from_toml(&text)
            .map_err(to_py)?
            .into_iter()
            .collect(),
        Err(_) => BTreeMap::new(),
    };
    let env = std::env::var("CHAKRA_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    match out.get_mut(DEFAULT_DATABASE) {
        Some(c) => {
            if let Some(u) = env {
                c.url = u;
            }
        }
        None => {
            out.insert(
                DEFAULT_DATABASE.to_owned(),
                DatabaseConfig::new(crate::pools::default_url(py)?),
            );
        }
    }
    Ok(out)
}

/// The names of the configured databases, sorted.
#[pyfunction]
pub fn database_names(py: Python<'_>) -> PyResult<Vec<String>> {
    Ok(configured(py)?.into_keys().collect())
}

/// Model name → database, from the `models = [...]` lists of the configured databases
/// (chakra.toml or `chakra.configure`); a model listed by two is a `ConfigError`.
#[pyfunction]
pub fn database_models() -> PyResult<BTreeMap<String, String>> {
    // Not `configured()`: no default URL is looked up (nor said) for this.
    let configs: Vec<(String, DatabaseConfig)> = match configured_lock().clone() {
        Some(c) => c.into_iter().collect(),
        None => match std::fs::read_to_string("chakra.toml") {
            Ok(text) => settings::from_toml(&text).map_err(to_py)?,
            Err(_) => Vec::new(),
        },
    };
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (db, c) in configs {
        for m in c.models {
            if let Some(other) = out.get(&m).filter(|o| **o != db) {
                return Err(to_py(Error::Config(format!(
                    "model {m} is listed in the models of databases {other:?} and {db:?}: bind it to one"
                ))));
            }
            out.insert(m, db.clone());
        }
    }
    Ok(out)
}

/// The primary URL of database `name`; `UnknownDatabase` when none is configured.
#[pyfunction]
pub fn database_url(py: Python<'_>, name: &str) -> PyResult<String> {
    Ok(config_of(py, name)?.url)
}

fn config_of(py: Python<'_>, name: &str) -> PyResult<DatabaseConfig> {
    let all = configured(py)?;
    all.get(name).cloned().ok_or_else(|| {
        to_py(Error::UnknownDatabase {
            name: name.to_owned(),
            known: all.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    })
}

/// The pool of database `name`'s primary, carrying its replicas and read policy.
#[pyfunction]
pub fn database_pool(py: Python<'_>, name: &str) -> PyResult<PoolRef> {
    let config = config_of(py, name)?;
    let pool = PoolRef::open(&config.url)?;
    pool.slot.set_named(name, config);
    Ok(pool)
}
