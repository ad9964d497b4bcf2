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
    /// The named database this URL is, with its replicas (`chakra.configure({...})`,
    /// `[databases.NAME]`): set by `crate::databases`.
    pub(crate) named: Mutex<Option<(String, chakra::databases::DatabaseConfig)>>,
    /// The configuration names replicas (read on every statement without a lock: a Python
    /// thread holding the GIL must never wait on a fork-gated lock, see [`lock`]).
    replicated: std::sync::atomic::AtomicBool,
    /// The core's database over this slot's pool (primary and replicas), made on first use
    /// by the process that uses it.
    database: Mutex<Option<(u32, chakra::Database)>>,
    /// Set on a routed slot: the plain slot of the database, and how its reads are routed.
    route: Option<Route>,
}

/// How a routed [`PoolRef`] runs statements: on `base`'s database, in a read-your-writes
/// scope (its own mark, or the database's shared one), its plain reads on replicas or not.
pub struct Route {
    base: Arc<PoolSlot>,
    mark: Option<chakra::databases::WalMark>,
    replica: Option<bool>,
    raw_read_only: bool,
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
    /// The URL the slot's pool connects to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The dialect of the database (known from the URL, before connecting).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn new(url: &str, dialect: Dialect, route: Option<Route>) -> PoolSlot {
        PoolSlot {
            url: url.to_owned(),
            dialect,
            pool: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            named: Mutex::new(None),
            replicated: std::sync::atomic::AtomicBool::new(false),
            database: Mutex::new(None),
            route,
        }
    }

    /// Makes this URL the database `name` with `config` (its replicas and read policy); a
    /// changed configuration takes effect at the next statement.
    pub fn set_named(&self, name: &str, config: chakra::databases::DatabaseConfig) {
        // Called with the GIL held: the fork gate must not be waited on here (the forking
        // thread takes the GIL back after holding new gated calls off). No other Python
        // thread can hold these locks across a fork: the forking thread holds the GIL.
        let mut named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        let same = named
            .as_ref()
            .is_some_and(|(n, c)| n == name && *c == config);
        if !same {
            self.replicated.store(
                !config.replicas.is_empty(),
                std::sync::atomic::Ordering::Relaxed,
            );
            *named = Some((name.to_owned(), config));
            drop(named);
            let old = self
                .database
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some((pid, db)) = old {
                if pid != std::process::id() {
                    std::mem::forget(db);
                }
            }
        }
    }

    /// True when the database has replicas configured.
    pub fn has_replicas(&self) -> bool {
        self.replicated.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The core's database over this slot's pool (its replicas from the configuration).
    pub async fn database(&self) -> Result<chakra::Database> {
        let pool = self.get_plain().await?;
        let mut cell = lock(&self.database);
        if let Some((pid, db)) = cell.take() {
            if pid == std::process::id() && db.primary().same_pool(&pool) {
                *cell = Some((pid, db.clone()));
                return Ok(db);
            }
            if pid != std::process::id() {
                // Inherited through fork: its replicas' connections are the parent's.
                std::mem::forget(db);
            }
        }
        let (name, config) = lock(&self.named).clone().unwrap_or_else(|| {
            (
                chakra::databases::DEFAULT_DATABASE.to_owned(),
                chakra::databases::DatabaseConfig::new(self.url.clone()),
            )
        });
        let db = chakra::Database::with_primary(&name, pool, &config)?;
        *cell = Some((std::process::id(), db.clone()));
        Ok(db)
    }

    /// The pool, connecting it first if needed (on a routed slot: the database's pool as
    /// its scope routes it).
    pub async fn get(&self) -> Result<Pool> {
        if let Some(route) = &self.route {
            let db = route.base.database().await?;
            let mut scope = match &route.mark {
                Some(m) => db.scope_with(m.clone()),
                None => db.shared_scope(),
            };
            if let Some(on) = route.replica {
                scope = scope.replica(on);
            }
            if route.raw_read_only {
                scope = scope.raw_read_only();
            }
            return Ok(scope.routed_pool());
        }
        self.get_plain().await
    }

    /// The slot's own pool, connecting it first if needed.
    async fn get_plain(&self) -> Result<Pool> {
        if let Some(p) = self.current() {
            return Ok(p);
        }
        let _guard = self.connecting.lock().await;
        if let Some(p) = self.current() {
            return Ok(p);
        }
        let p = Pool::connect(&self.url).await?;
        *lock(&self.pool) = Some((crate::runtime::pid(), p.clone()));
        Ok(p)
    }

    /// The pool if this process opened it. One inherited through fork is forgotten without
    /// closing (closing would end the parent's sessions on the shared sockets).
    fn current(&self) -> Option<Pool> {
        let mut slot = lock(&self.pool);
        match slot.take() {
            Some((pid, p)) if pid == crate::runtime::pid() => {
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
        if let Some((pid, db)) = lock(&self.database).take() {
            if pid == std::process::id() {
                drop(db);
            } else {
                std::mem::forget(db);
            }
        }
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

impl PoolRef {
    /// The handle on the pool of `url` (see `PoolRef(url)`).
    pub fn open(url: &str) -> PyResult<Self> {
        let parsed = parse_url(url)?;
        if matches!(parsed, DatabaseUrl::SqliteFile(_)) {
            // A file Python's sqlite3 may open too: warn when it runs another SQLite copy.
            Python::attach(crate::sqlite_copy::warn_if_split)?;
        }
        let dialect = parsed.dialect();
        let slot = lock(slots())
            .entry(url.to_owned())
            .or_insert_with(|| Arc::new(PoolSlot::new(url, dialect, None)))
            .clone();
        Ok(PoolRef { slot, dialect })
    }
}

#[pymethods]
impl PoolRef {
    /// The pool for `url`, shared by every `PoolRef` of the same URL. Raises
    /// `chakra.errors.InvalidUrl` at once for a malformed URL; connecting happens on first
    /// use.
    #[new]
    fn new(url: &str) -> PyResult<Self> {
        PoolRef::open(url)
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
        if let Some(route) = &self.slot.route {
            lock(slots()).remove(&route.base.url);
            route.base.close();
            return;
        }
        lock(slots()).remove(&self.slot.url);
        self.slot.close();
    }

    /// A handle on the same database whose statements run in a read-your-writes scope
    /// (`mark`, else the database's shared one): writes and transactions on the primary,
    /// recorded in the scope; plain reads outside transactions on a replica when `replica`
    /// (else the database's `replica_reads`) says so and the scope's policy allows; raw
    /// reads there too with `raw_read_only`.
    #[pyo3(signature = (replica=None, mark=None, raw_read_only=false))]
    fn scoped(
        &self,
        replica: Option<bool>,
        mark: Option<PyRef<'_, WalMarkRef>>,
        raw_read_only: bool,
    ) -> PoolRef {
        let base = match &self.slot.route {
            Some(r) => r.base.clone(),
            None => self.slot.clone(),
        };
        let route = Route {
            base: base.clone(),
            mark: mark.map(|m| m.0.clone()),
            replica,
            raw_read_only,
        };
        PoolRef {
            slot: Arc::new(PoolSlot::new(&base.url, base.dialect, Some(route))),
            dialect: self.dialect,
        }
    }

    /// True when both handles run on the same database (a routed handle and its plain one).
    fn same_database(&self, other: PyRef<'_, PoolRef>) -> bool {
        let base = |p: &PoolRef| match &p.slot.route {
            Some(r) => r.base.clone(),
            None => p.slot.clone(),
        };
        Arc::ptr_eq(&base(self), &base(&other))
    }

    /// True when the database has replicas configured.
    fn has_replicas(&self) -> bool {
        match &self.slot.route {
            Some(r) => r.base.has_replicas(),
            None => self.slot.has_replicas(),
        }
    }

    /// `(replica, primary)`: how many plain reads of the database ran where, or `None`
    /// before it connected.
    fn read_counts(&self) -> Option<(u64, u64)> {
        let base = match &self.slot.route {
            Some(r) => r.base.clone(),
            None => self.slot.clone(),
        };
        // The GIL is held: no fork gate (see `PoolSlot::set_named`).
        let db = base
            .database
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(_, d)| d.clone())?;
        let c = db.read_counts();
        Some((c.replica, c.primary))
    }

    /// `(size, available, max_size)` of the pool, or `None` before it connected.
    fn status(&self) -> Option<(usize, usize, usize)> {
        self.slot.current().map(|p| {
            let s = p.status();
            (s.size, s.available, s.max_size)
        })
    }
}

/// A read-your-writes scope's mark (Python: `chakra._chakra.WalMark`): what the scope
/// wrote, shared by the handles made with it (`chakra.read_scope()`).
#[pyclass(frozen, module = "chakra._chakra", name = "WalMark")]
pub struct WalMarkRef(pub(crate) chakra::databases::WalMark);

#[pymethods]
impl WalMarkRef {
    /// A new, empty scope.
    #[new]
    fn new() -> Self {
        WalMarkRef(chakra::databases::WalMark::new())
    }

    /// The primary's WAL position after the scope's last recorded write (`"16/B374D848"`),
    /// or `None`.
    #[getter]
    fn lsn(&self) -> Option<String> {
        self.0.written().lsn.map(|l| l.to_string())
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
