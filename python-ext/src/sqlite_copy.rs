//! Chakra's SQLite and Python's `sqlite3` module in one process: `sqlite_info()` (which
//! library each runs on, the same copy or not), and `chakra.SqliteCopyWarning`, given once
//! when a SQLite file is opened while `_sqlite3` runs another copy of SQLite than Chakra.
//! Two copies break each other's locks (see `chakra::dialect::sqlite::library`).

use chakra::dialect::sqlite::library::{self, Shared};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the warning was given (it is given once per process).
static WARNED: AtomicBool = AtomicBool::new(false);
/// Set once a loaded `_sqlite3` was found to share Chakra's copy (nothing left to check).
static SHARED: AtomicBool = AtomicBool::new(false);

/// How `module` (the loaded `_sqlite3`) resolves SQLite compared with Chakra's copy: by
/// its file, or, for a module built into the interpreter (no `__file__`), by the global
/// scope.
fn shared_with(module: &Bound<'_, PyAny>) -> Shared {
    let file: Option<PathBuf> = module
        .getattr("__file__")
        .ok()
        .and_then(|f| f.extract::<PathBuf>().ok());
    library::same_copy_as(file.as_deref())
}

/// Warns (`chakra.SqliteCopyWarning`, once per process) when Python's `_sqlite3` is loaded
/// with another copy of SQLite than Chakra's. Called when a SQLite file's pool is made;
/// imports nothing (a process that never loads `sqlite3` pays one dict lookup).
pub fn warn_if_split(py: Python<'_>) -> PyResult<()> {
    if WARNED.load(Ordering::Relaxed) || SHARED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let modules = py.import("sys")?.getattr("modules")?;
    let Ok(module) = modules.get_item("_sqlite3") else {
        return Ok(());
    };
    if module.is_none() {
        return Ok(());
    }
    let path = match shared_with(&module) {
        Shared::Different { path } => path,
        Shared::Same => {
            SHARED.store(true, Ordering::Relaxed);
            return Ok(());
        }
        Shared::Unknown => return Ok(()),
    };
    if WARNED.swap(true, Ordering::Relaxed) {
        return Ok(());
    }
    let own = library::library();
    let theirs = path.map_or_else(
        || "built into the module".to_owned(),
        |p| p.display().to_string(),
    );
    let ours = own
        .path
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), |p| p.display().to_string());
    let hint = if own.built_in == Some(true) {
        "This Chakra build has SQLite built in (the `bundled-sqlite` feature): built \
         without it, as the published wheel is, it shares the system's libsqlite3"
    } else {
        "This Python's sqlite3 carries its own SQLite (python-build-standalone and uv \
         Pythons do): a Python whose sqlite3 links the system's libsqlite3 shares Chakra's"
    };
    let message = format!(
        "Python's sqlite3 module runs another copy of SQLite ({theirs}) than Chakra \
         (SQLite {} in {ours}). In one process, closing a sqlite3 connection to a file drops \
         the locks Chakra holds on it, and other connections and processes can miss \
         Chakra's writes or corrupt the database. Do not open Chakra's database files with \
         sqlite3 in this process (use chakra.fetch/chakra.execute, or another process). \
         {hint}. chakra.sqlite_info() shows both libraries; see Chakra's docs/sqlite.md.",
        own.version
    );
    let category = py
        .import("chakra.sqlite_copy")?
        .getattr("SqliteCopyWarning")?;
    let message = std::ffi::CString::new(message).unwrap_or_default();
    let warned = PyErr::warn(py, &category, &message, 2);
    if warned.is_err() {
        // The warnings filter made it an error: every later open raises it too.
        WARNED.store(false, Ordering::Relaxed);
    }
    warned
}

/// Which SQLite Chakra runs on and whether Python's `sqlite3` module shares it: a dict
/// (`chakra.sqlite_info()`; `_sqlite3` is imported to find out, which opens no file).
#[pyfunction]
pub fn sqlite_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let own = library::library();
    let out = PyDict::new(py);
    out.set_item("version", &own.version)?;
    out.set_item("version_number", own.version_number)?;
    out.set_item(
        "library",
        own.path.as_ref().map(|p| p.display().to_string()),
    )?;
    out.set_item("built_in", own.built_in)?;
    out.set_item("minimum_version", library::MIN_VERSION)?;
    let (version, path, shared) = match py.import("_sqlite3") {
        Ok(module) => {
            let version: Option<String> = module
                .getattr("sqlite_version")
                .ok()
                .and_then(|v| v.extract().ok());
            match shared_with(module.as_any()) {
                Shared::Same => (version, own.path.clone(), Some(true)),
                Shared::Different { path } => (version, path, Some(false)),
                Shared::Unknown => (version, None, None),
            }
        }
        Err(_) => (None, None, None),
    };
    out.set_item("sqlite3_version", version)?;
    out.set_item("sqlite3_library", path.map(|p| p.display().to_string()))?;
    out.set_item("shared_with_sqlite3", shared)?;
    Ok(out)
}
