//! Pools by database URL. Python holds a [`PoolRef`] per URL; the pool itself connects on
//! first use, inside the runtime.

use chakra::config::DatabaseUrl;
use chakra::{Dialect, Pool};
use chakra_dsl::{Error, Result};
use pyo3::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One database's pool slot: empty until the first statement connects it.
pub struct PoolSlot {
    url: String,
    /// The dialect of the URL.
    dialect: Dialect,
    /// The pool and the process that opened it (a forked child must not use its parent's
    /// connections: it opens its own).
    pool: Mutex<Option<(u32, Pool)>>,
    connecting: tokio::sync::Mutex<()>,
}

/// A mutex's guard taken while a fork is held off (`chakra::exec::fork`): a child forked
/// while another thread holds the lock would inherit it locked and hang on it.
pub struct Gated<'a, T> {
    guard: std::sync::MutexGuard<'a, T>,
    _call: chakra::exec::fork::Call,
}

impl<T> std::ops::Deref for Gated<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> std::ops::DerefMut for Gated<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// Locks `m` (a poisoned lock is taken as is) while a fork is held off.
pub fn lock<T>(m: &Mutex<T>) -> Gated<'_, T> {
    let call = chakra::exec::fork::call();
    Gated {
        guard: m.lock().unwrap_or_else(|e| e.into_inner()),
        _call: call,
    }
}

static SLOTS: OnceLock<Mutex<HashMap<String, Arc<PoolSlot>>>> = OnceLock::new();

fn slots() -> &'static Mutex<HashMap<String, Arc<PoolSlot>>> {
    SLOTS.get_or_init(|| Mutex::new(HashMap::new()))
}

impl PoolSlot {
    /// The dialect of the database (known from the URL, before connecting).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The pool, connecting it first if needed.
    pub async fn get(&self) -> Result<Pool> {
        if let Some(p) = self.current() {
            return Ok(p);
        }
        let _guard = self.connecting.lock().await;
        if let Some(p) = self.current() {
            return Ok(p);
        }
        let p = Pool::connect(&self.url).await?;
        *lock(&self.pool) = Some((std::process::id(), p.clone()));
        Ok(p)
    }

    /// The pool if this process opened it. One inherited through fork is forgotten without
    /// closing (closing would end the parent's sessions on the shared sockets).
    fn current(&self) -> Option<Pool> {
        let mut slot = lock(&self.pool);
        match slot.take() {
            Some((pid, p)) if pid == std::process::id() => {
                *slot = Some((pid, p.clone()));
                Some(p)
            }
            Some((_, inherited)) => {
                std::mem::forget(inherited);
                None
            }
            None => None,
        }
    }

    /// Drops the pool (its idle connections close; checked-out ones close when returned).
    pub fn close(&self) {
        if let Some((pid, p)) = lock(&self.pool).take() {
            if pid == std::process::id() {
                drop(p);
            } else {
                std::mem::forget(p);
            }
        }
    }
}

/// Closes every pool (at shutdown).
pub fn close_all() {
    let all: Vec<Arc<PoolSlot>> = lock(slots()).drain().map(|(_, s)| s).collect();
    for s in all {
        s.close();
    }
}

/// A handle on the pool of one database URL (Python: `chakra._chakra.PoolRef`).
#[pyclass(frozen, module = "chakra._chakra")]
pub struct PoolRef {
    pub(crate) slot: Arc<PoolSlot>,
    /// The dialect of the URL (a transaction on this pool is of the same dialect).
    pub(crate) dialect: Dialect,
}

#[pymethods]
impl PoolRef {
    /// The pool for `url`, shared by every `PoolRef` of the same URL. Raises
    /// `chakra.errors.InvalidUrl` at once for a malformed URL; connecting happens on first
    /// use.
    #[new]
    fn new(url: &str) -> PyResult<Self> {
        let dialect = parse_url(url)?.dialect();
        let slot = lock(slots())
            .entry(url.to_owned())
            .or_insert_with(|| {
                Arc::new(PoolSlot {
                    url: url.to_owned(),
                    dialect,
                    pool: Mutex::new(None),
                    connecting: tokio::sync::Mutex::new(()),
                })
            })
            .clone();
        Ok(PoolRef { slot, dialect })
    }

    /// The URL.
    #[getter]
    fn url(&self) -> &str {
        &self.slot.url
    }

    /// `"postgres"`, `"sqlite"` or `"mysql"` (the core's `Dialect::name`).
    #[getter]
    fn dialect(&self) -> &'static str {
        self.dialect.name()
    }

    /// Closes the pool's connections and forgets it; the next statement reconnects.
    fn close(&self) {
        lock(slots()).remove(&self.slot.url);
        self.slot.close();
    }

    /// `(size, available, max_size)` of the pool, or `None` before it connected.
    fn status(&self) -> Option<(usize, usize, usize)> {
        self.slot.current().map(|p| {
            let s = p.status();
            (s.size, s.available, s.max_size)
        })
    }
}

/// The default URL: `CHAKRA_DATABASE_URL`, else `chakra.toml`, else `sqlite://chakra.db`.
#[pyfunction]
pub fn default_url(py: Python<'_>) -> PyResult<String> {
    let (url, note) = chakra::config::default_url_noted().map_err(crate::errors::to_py)?;
    if let Some(note) = note {
        // Said once per process, at INFO on the `chakra` logger.
        py.import("logging")?
            .call_method1("getLogger", ("chakra",))?
            .call_method1("info", ("%s", note))?;
    }
    Ok(url)
}

/// Checks a URL, raising `chakra.errors.InvalidUrl` when it cannot be used.
#[pyfunction]
pub fn check_url(url: &str) -> PyResult<()> {
    parse_url(url).map(|_| ())
}

/// A URL the Python door can use (any dialect the core runs on), else
/// `chakra.errors.InvalidUrl` saying why.
fn parse_url(url: &str) -> PyResult<DatabaseUrl> {
    DatabaseUrl::parse(url).map_err(crate::errors::to_py)
}

/// Maps a closed-pool situation to an error.
pub fn closed() -> Error {
    Error::Connection("the Chakra runtime has shut down (interpreter exit)".into())
}

/// Before `fork()` (`os.register_at_fork`): waits for running SQLite calls to end and holds
/// new ones, so the child inherits no SQLite lock state (GIL released while waiting).
#[pyfunction]
pub fn fork_prepare(py: Python<'_>) {
    py.detach(chakra::exec::fork::prepare);
}

/// After `fork()`, in the parent: SQLite calls go on.
#[pyfunction]
pub fn fork_parent() {
    chakra::exec::fork::parent();
}

/// After `fork()`, in the child: SQLite calls go on (on connections of the child's own).
#[pyfunction]
pub fn fork_child() {
    chakra::exec::fork::child();
}
