//! The SQLite library this program runs on: its version (checked at connect against the
//! oldest Chakra's SQL needs), the file it was loaded from, and whether another loaded
//! module (Python's `_sqlite3`) uses the same copy.
//!
//! Two copies of SQLite in one process break each other's locks: SQLite's locks are POSIX
//! advisory locks, owned by the process, and closing any descriptor of a file drops them
//! all. One copy defers such closes while it holds locks on the file; a second copy knows
//! nothing of them (SQLite's "How To Corrupt An SQLite Database File", 2.2.1). The copies
//! are compared by the address of `sqlite3_libversion` each resolves to (`dlopen` with
//! `RTLD_NOLOAD` on the module, `dlsym`), so nothing is loaded to find out. Unix only; on
//! other systems the answer is [`Shared::Unknown`].

use chakra_dsl::{Error, Result};
use std::path::PathBuf;

/// The oldest SQLite Chakra runs on, as `sqlite3_libversion_number()` gives it: 3.35.0, for
/// `RETURNING` and `ALTER TABLE … DROP COLUMN` (3.35), `UPDATE … FROM` (3.33), aggregate
/// `FILTER (WHERE …)` and `NULLS FIRST/LAST` (3.30). JSON functions are checked on their
/// own ([`check_json`]): before 3.38 they were a build option.
pub const MIN_VERSION_NUMBER: i32 = 3_035_000;
/// [`MIN_VERSION_NUMBER`] as text.
pub const MIN_VERSION: &str = "3.35.0";

/// The SQLite library Chakra's statements run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// `sqlite3_libversion()`, e.g. `3.40.1`.
    pub version: String,
    /// `sqlite3_libversion_number()`, e.g. `3040001`.
    pub version_number: i32,
    /// The file the library was loaded from (a shared `libsqlite3`, or the program or
    /// extension module it is built into); `None` where it cannot be told.
    pub path: Option<PathBuf>,
    /// True when SQLite is compiled into the same file as Chakra (the `bundled-sqlite`
    /// feature), false when it is a shared library, `None` where it cannot be told.
    pub built_in: Option<bool>,
}

/// Whether another module's SQLite is the copy Chakra uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// The same copy: one SQLite in the process for both.
    Same,
    /// Another copy. `path` is the file it lives in when it could be found (`None`: built
    /// into the module without exporting its symbols).
    Different {
        /// The file holding the other copy.
        path: Option<PathBuf>,
    },
    /// It cannot be told (the module is not loaded, or not on a Unix system).
    Unknown,
}

/// The running SQLite library.
pub fn library() -> Library {
    // SAFETY: both functions take no arguments and return static data.
    let (version, version_number) = unsafe {
        let text = std::ffi::CStr::from_ptr(libsqlite3_sys::sqlite3_libversion());
        (
            text.to_string_lossy().into_owned(),
            libsqlite3_sys::sqlite3_libversion_number(),
        )
    };
    let own = own_sqlite();
    let path = imp::file_of(own);
    let built_in = match (&path, imp::file_of(library as *const std::ffi::c_void)) {
        (Some(a), Some(b)) => Some(*a == b),
        _ => None,
    };
    Library {
        version,
        version_number,
        path,
        built_in,
    }
}

/// Checks the running SQLite against [`MIN_VERSION_NUMBER`]: a named error saying which
/// version is needed and which was found (and where), rather than a syntax error later.
pub fn check_version() -> Result<()> {
    // SAFETY: no arguments, a constant result.
    let number = unsafe { libsqlite3_sys::sqlite3_libversion_number() };
    if number >= MIN_VERSION_NUMBER {
        return Ok(());
    }
    Err(version_error(&library()))
}

/// The error for a library older than [`MIN_VERSION`].
pub fn version_error(lib: &Library) -> Error {
    let place = lib
        .path
        .as_ref()
        .map(|p| format!(" ({})", p.display()))
        .unwrap_or_default();
    Error::Config(format!(
        "SQLite {}{place} is too old: Chakra needs SQLite {MIN_VERSION} or newer \
         (RETURNING, ALTER TABLE DROP COLUMN); upgrade the system's libsqlite3, or build \
         Chakra with its `bundled-sqlite` feature",
        lib.version
    ))
}

/// Checks that the connection's SQLite has the JSON functions (`json_each`,
/// `json_extract`…), built in since 3.38 and a build option before (checked once per
/// process: the library does not change).
pub fn check_json(conn: &mut diesel::SqliteConnection) -> Result<()> {
    use diesel::connection::SimpleConnection;
    use std::sync::atomic::{AtomicBool, Ordering};
    static CHECKED: AtomicBool = AtomicBool::new(false);
    if CHECKED.load(Ordering::Relaxed) {
        return Ok(());
    }
    conn.batch_execute("SELECT json_type('[]'), json_extract('{}', '$.a')")
        .map(|()| CHECKED.store(true, Ordering::Relaxed))
        .map_err(|e| {
            Error::Config(format!(
                "SQLite {} lacks the JSON functions Chakra needs ({e}); use a build of \
                 SQLite with JSON (3.38 and newer always have them), or build Chakra with \
                 its `bundled-sqlite` feature",
                library().version
            ))
        })
}

/// Whether the SQLite that the loaded module at `module` resolves (its own symbols, then
/// its dependencies') is Chakra's copy. `None`: the program and the libraries loaded
/// globally (a module built into the interpreter). Loads nothing.
pub fn same_copy_as(module: Option<&std::path::Path>) -> Shared {
    imp::resolve_in(module, c"sqlite3_libversion").map_or(Shared::Unknown, |found| match found {
        Some(addr) if addr == own_sqlite() => Shared::Same,
        Some(addr) => Shared::Different {
            path: imp::file_of(addr),
        },
        None => Shared::Different { path: None },
    })
}

/// The address of `sqlite3_libversion` in the copy Chakra is linked with.
fn own_sqlite() -> *const std::ffi::c_void {
    libsqlite3_sys::sqlite3_libversion as *const std::ffi::c_void
}

#[cfg(unix)]
mod imp {
    use std::ffi::{c_void, CStr, CString};
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::{Path, PathBuf};

    /// The file (shared library or program) that holds `addr`.
    pub fn file_of(addr: *const c_void) -> Option<PathBuf> {
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        // SAFETY: `dladdr` only reads the loader's tables and fills `info`.
        if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
            return None;
        }
        // SAFETY: a NUL-terminated string owned by the loader while the object is loaded.
        let name = unsafe { CStr::from_ptr(info.dli_fname) };
        let path = PathBuf::from(std::ffi::OsString::from_vec(name.to_bytes().to_vec()));
        Some(std::fs::canonicalize(&path).unwrap_or(path))
    }

    /// `symbol` as the already-loaded `module` (or the global scope) resolves it: `None`
    /// when the module is not loaded, `Some(None)` when it resolves no such symbol.
    pub fn resolve_in(module: Option<&Path>, symbol: &CStr) -> Option<Option<*const c_void>> {
        let name = match module {
            Some(p) => Some(CString::new(p.as_os_str().as_bytes()).ok()?),
            None => None,
        };
        let ptr = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
        // SAFETY: RTLD_NOLOAD only returns a handle to an object already loaded (adding a
        // reference, released below); a null name is the global scope.
        let handle = unsafe { libc::dlopen(ptr, libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
        if handle.is_null() {
            return None;
        }
        // SAFETY: a valid handle and a NUL-terminated name.
        let addr = unsafe { libc::dlsym(handle, symbol.as_ptr()) };
        // SAFETY: releases the reference taken above; the object stays loaded.
        unsafe { libc::dlclose(handle) };
        Some((!addr.is_null()).then_some(addr as *const c_void))
    }
}

#[cfg(not(unix))]
mod imp {
    use std::ffi::{c_void, CStr};
    use std::path::{Path, PathBuf};

    pub fn file_of(_addr: *const c_void) -> Option<PathBuf> {
        None
    }

    pub fn resolve_in(_module: Option<&Path>, _symbol: &CStr) -> Option<Option<*const c_void>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_library_is_new_enough_and_found() {
        let lib = library();
        assert!(lib.version_number >= MIN_VERSION_NUMBER, "{lib:?}");
        assert!(lib.version.starts_with("3."), "{lib:?}");
        check_version().unwrap();
        // This test binary is built with `bundled-sqlite` (the default feature): SQLite
        // lives in the test program itself.
        let me = std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(lib.path.as_deref(), Some(me.as_path()));
        assert_eq!(lib.built_in, Some(true));
    }

    #[test]
    fn a_too_old_library_is_named_with_the_version_needed() {
        let old = Library {
            version: "3.31.1".into(),
            version_number: 3_031_001,
            path: Some("/usr/lib/libsqlite3.so.0".into()),
            built_in: Some(false),
        };
        let text = version_error(&old).to_string();
        assert!(
            text.contains("SQLite 3.31.1 (/usr/lib/libsqlite3.so.0) is too old"),
            "{text}"
        );
        assert!(text.contains("needs SQLite 3.35.0 or newer"), "{text}");
    }

    /// A real second copy: the system's shared libsqlite3 loaded next to the copy built
    /// into this test program (what a Python extension built with `bundled-sqlite` meets
    /// in a process whose `_sqlite3` links the system library).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_system_library_loaded_beside_the_built_in_copy_is_another_copy() {
        let name = c"libsqlite3.so.0";
        let system_name = std::path::Path::new("libsqlite3.so.0");
        // Not loaded yet: nothing to compare.
        assert_eq!(same_copy_as(Some(system_name)), Shared::Unknown);
        // SAFETY: loads the system's SQLite (its initialisers are SQLite's own).
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        assert!(
            !handle.is_null(),
            "the system's libsqlite3.so.0 is needed for this test (apt-get install libsqlite3-0)"
        );
        let system = imp::file_of(unsafe { libc::dlsym(handle, c"sqlite3_libversion".as_ptr()) })
            .expect("the system library's file");
        match same_copy_as(Some(system_name)) {
            Shared::Different { path } => assert_eq!(path.as_deref(), Some(system.as_path())),
            other => panic!("expected another copy, got {other:?}"),
        }
        assert_ne!(library().path.as_deref(), Some(system.as_path()));
        // The global scope does not hold it (loaded RTLD_LOCAL), nor this program's copy
        // (a Rust program exports no symbols).
        assert_eq!(same_copy_as(None), Shared::Different { path: None });
        // SAFETY: the reference taken above.
        unsafe { libc::dlclose(handle) };
        let nowhere = std::path::Path::new("/nonexistent/libnothing.so");
        assert_eq!(same_copy_as(Some(nowhere)), Shared::Unknown);
    }
}
