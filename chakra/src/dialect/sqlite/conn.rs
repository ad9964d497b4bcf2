//! [`SqliteConn`]: diesel's synchronous `SqliteConnection`, run inline on the calling
//! thread, with an asynchronous wait for another connection's lock; and [`SqliteManager`],
//! the deadpool manager that opens them. Compiled statements run on the connection's handle
//! through [`super::run`] (Chakra's own prepared-statement cache and decoding);
//! scripts and raw SQL's named rows through diesel.
//!
//! A SQLite statement is a function call into the library (microseconds for the usual
//! query): handing each one to a blocking-pool thread, as diesel-async's
//! `SyncConnectionWrapper` does, costs more than the statement. So statements run where the
//! future is polled. The one thing that may block for long is waiting for a lock another
//! connection holds (a writer in `BEGIN IMMEDIATE`): if that wait blocked the thread, the
//! lock holder could never run on a single-threaded runtime (deadlock until the timeout).
//! So connections run with `busy_timeout = 0`; a statement answered `SQLITE_BUSY` is retried
//! after an asynchronous sleep (`tokio::time::sleep`, backing off from 1 ms to 5 ms) until
//! the busy timeout has passed, then fails with `database is locked`
//! ([`chakra_dsl::Error::LockTimeout`]).
//!
//! Which statements are retried: those that cannot have had an effect when SQLite answered
//! busy, i.e. every statement outside an explicit transaction (SQLite rolls back a
//! statement that failed), `BEGIN`, and `COMMIT` (SQLite's documented retry cases). A
//! statement inside a transaction that gets `SQLITE_BUSY` (possible only with a rollback
//! journal, not in WAL, when the writer must wait for readers) fails at once: the
//! transaction is then rolled back. Scripts of several statements are run one statement at
//! a time, so each is retried on its own. The connection follows `BEGIN`/`COMMIT`/`END`/
//! `ROLLBACK` in the SQL it runs to know whether it is inside a transaction.
//!
//! Each statement consumes a unit of tokio's cooperative budget, as a socket read would: a
//! task running many statements in a row yields to the scheduler now and then, so the other
//! tasks of a single-threaded runtime get their turn. A statement that ran 2 ms or more
//! yields once right away (a caller that polls the future itself, like the Python bridge's
//! first poll on the event-loop thread, then hands the rest to the runtime). A running
//! statement cannot be interrupted: a timeout around the caller only fires once the
//! caller's future waits (for a lock, a pool connection, a yield, anything it awaits).

use super::run::{self, Each, RawStatements, RunError};
use super::setup::{self, Durability};
use crate::sql::CompiledQuery;
use chakra_dsl::{Error, Result, Value};
use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};
use diesel::SqliteConnection;
use std::time::{Duration, Instant};

/// Shortest and longest sleep between two attempts of a statement that found the database
/// locked.
const FIRST_BACKOFF: Duration = Duration::from_millis(1);
const MAX_BACKOFF: Duration = Duration::from_millis(5);

/// A statement that ran at least this long yields to the scheduler before its result is
/// returned.
const YIELD_AFTER: Duration = Duration::from_millis(2);

/// Rows of a row-by-row insert run between checks of [`YIELD_AFTER`].
const EACH_CHUNK: usize = 256;

/// One SQLite connection whose statements run on the thread that polls them, waiting for
/// locks asynchronously (see the module documentation).
pub struct SqliteConn {
    /// Compiled statements, run on the connection's handle (declared before `conn`: its
    /// statements are finalized before the connection closes). Boxed, as `conn` is: the
    /// pool moves a checked-out connection several times per checkout and return, and
    /// moving two pointers is cheaper than copying the two structs (~450 instructions a
    /// SQLite get, `docs/performance.md`).
    stmts: Box<RawStatements>,
    /// Closed in `drop` while a fork is held off ([`crate::exec::fork`]).
    conn: std::mem::ManuallyDrop<Box<SqliteConnection>>,
    /// How long a statement waits for another connection's lock.
    busy: Duration,
    /// Inside an explicit transaction (a `BEGIN` ran, no `COMMIT`/`ROLLBACK` since).
    in_tx: bool,
    /// The tables the pool's database was seen to hold.
    tables: crate::exec::KnownTables,
}

/// What a statement does to the connection's transaction state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxEffect {
    Begin,
    Commit,
    Rollback,
    None,
}

/// An error that may be SQLite's `SQLITE_BUSY`.
trait MaybeBusy {
    fn is_busy(&self) -> bool;
}

impl MaybeBusy for DieselError {
    fn is_busy(&self) -> bool {
        is_busy(self)
    }
}

impl MaybeBusy for RunError {
    fn is_busy(&self) -> bool {
        matches!(self, RunError::Db(e) if is_busy(e))
    }
}

impl SqliteConn {
    /// Wraps an open, set-up connection whose handle is `db`; `busy` is how long a statement
    /// waits for a lock.
    fn new(
        conn: SqliteConnection,
        db: run::Handle,
        busy: Duration,
        tables: crate::exec::KnownTables,
    ) -> Self {
        SqliteConn {
            stmts: Box::new(RawStatements::new(db)),
            conn: std::mem::ManuallyDrop::new(Box::new(conn)),
            busy,
            in_tx: false,
            tables,
        }
    }

    /// The tables the pool's database was seen to hold ([`crate::exec::KnownTables`]).
    pub fn known_tables(&self) -> &crate::exec::KnownTables {
        &self.tables
    }

    /// True inside an explicit transaction.
    pub fn in_transaction(&self) -> bool {
        self.in_tx
    }

    /// The diesel connection (runs statements synchronously, without the lock wait).
    pub fn raw(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    /// Runs a compiled statement that returns rows, each cell read as the statement
    /// declares it.
    pub async fn load(
        &mut self,
        q: &CompiledQuery,
    ) -> std::result::Result<Vec<Vec<Value>>, RunError> {
        let retry = !self.in_tx;
        self.with_busy_wait(retry, |c| c.stmts.load(q)).await
    }

    /// Runs the one-row statement `q` once per row of `rows` (canonical values, one per
    /// placeholder), reusing one prepared statement: what `each` asks for, in row order, and
    /// the number of rows changed. Several rows belong in a transaction (the caller's): a
    /// lock wait retries only a single row outside one.
    pub async fn load_each(
        &mut self,
        q: &CompiledQuery,
        rows: &[Vec<Value>],
        each: Each,
    ) -> std::result::Result<(Vec<Vec<Value>>, usize), RunError> {
        let retry = !self.in_tx && rows.len() <= 1;
        if rows.len() <= EACH_CHUNK {
            return self
                .with_busy_wait(retry, |c| c.stmts.load_each(q, rows, each.clone()))
                .await;
        }
        // Many rows: in chunks, yielding whenever YIELD_AFTER has passed, so a large insert
        // does not hold the thread that polls it (an event loop, for Python) to the end.
        let (mut out, mut n) = (Vec::new(), 0);
        let mut since = Instant::now();
        for chunk in rows.chunks(EACH_CHUNK) {
            let (o, k) = self
                .with_busy_wait(retry, |c| c.stmts.load_each(q, chunk, each.clone()))
                .await?;
            out.extend(o);
            n += k;
            if since.elapsed() >= YIELD_AFTER {
                tokio::task::yield_now().await;
                since = Instant::now();
            }
        }
        Ok((out, n))
    }

    /// How many compiled statements this connection prepared so far, and the texts it
    /// keeps prepared.
    pub fn prepared_statements(&self) -> (u64, Vec<String>) {
        self.stmts.prepared()
    }

    /// True when `column` of `table` is declared `INTEGER PRIMARY KEY AUTOINCREMENT` (the
    /// table's rowid).
    pub fn is_autoincrement_rowid(&self, table: &str, column: &str) -> bool {
        self.stmts.is_autoincrement_rowid(table, column)
    }

    /// Runs a statement that returns rows, decoded as `R` by diesel (raw SQL's `NamedRow`,
    /// matched to fields by column name).
    pub async fn load_as<R>(&mut self, q: &CompiledQuery) -> QueryResult<Vec<R>>
    where
        R: diesel::deserialize::FromSqlRow<diesel::sql_types::Untyped, diesel::sqlite::Sqlite>
            + 'static,
    {
        let retry = !self.in_tx;
        self.with_busy_wait(retry, |c| {
            diesel::RunQueryDsl::load::<R>(crate::exec::query::DynQuery(q), &mut **c.conn)
        })
        .await
    }

    /// Runs a compiled statement and returns the affected-row count.
    pub async fn execute(&mut self, q: &CompiledQuery) -> std::result::Result<usize, RunError> {
        let retry = !self.in_tx;
        self.with_busy_wait(retry, |c| c.stmts.execute(q)).await
    }

    /// Runs SQL text without binds, one statement at a time.
    pub async fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
        for stmt in split_statements(sql) {
            let effect = tx_effect(stmt);
            let retry = !self.in_tx || effect == TxEffect::Commit;
            let r = self
                .with_busy_wait(retry, |c| c.conn.batch_execute(stmt))
                .await;
            match (effect, &r) {
                (TxEffect::Begin, Ok(())) => self.in_tx = true,
                (TxEffect::Commit | TxEffect::Rollback, Ok(())) => self.in_tx = false,
                _ => {}
            }
            r?;
        }
        Ok(())
    }

    /// Runs `f` on this thread; while it answers `SQLITE_BUSY` and `retry` allows, sleeps
    /// (asynchronously) and runs it again, until the busy timeout.
    async fn with_busy_wait<T, E: MaybeBusy>(
        &mut self,
        retry: bool,
        mut f: impl FnMut(&mut SqliteConn) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut deadline: Option<Instant> = None;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let started = Instant::now();
            let r = {
                let _call = crate::exec::fork::call();
                f(self)
            };
            if started.elapsed() >= YIELD_AFTER {
                tokio::task::yield_now().await;
            } else {
                tokio::task::coop::consume_budget().await;
            }
            match r {
                Err(e) if retry && e.is_busy() => {
                    let now = Instant::now();
                    let until = *deadline.get_or_insert(now + self.busy);
                    if now >= until {
                        return Err(e);
                    }
                    tokio::time::sleep(backoff.min(until - now)).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                other => return other,
            }
        }
    }
}

impl Drop for SqliteConn {
    fn drop(&mut self) {
        // Finalize the prepared statements while the connection is still open.
        let _call = crate::exec::fork::call();
        self.stmts.clear();
        // SAFETY: `conn` is dropped once, here, and never used after.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.conn) };
    }
}

/// `SQLITE_BUSY`: another connection holds the lock this statement needs.
fn is_busy(e: &DieselError) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
        if info.message().starts_with("database is locked"))
}

/// The statements of a script, each with its `;` (SQLite's own `sqlite3_complete` decides
/// where one ends: semicolons in strings, comments and trigger bodies do not split).
fn split_statements(sql: &str) -> Vec<&str> {
    // The usual case, one statement, costs no scan beyond looking for a semicolon.
    let trimmed = sql.trim_end();
    let body = trimmed.strip_suffix(';').unwrap_or(trimmed);
    if !body.contains(';') {
        return vec![sql];
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in sql.match_indices(';') {
        let candidate = &sql[start..=i];
        if is_complete(candidate) {
            out.push(candidate);
            start = i + 1;
        }
    }
    let rest = &sql[start..];
    if !rest.trim().is_empty() {
        out.push(rest);
    }
    out
}

fn is_complete(sql: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(sql) else {
        return false;
    };
    // SAFETY: `sqlite3_complete` only reads the NUL-terminated string it is given.
    unsafe { libsqlite3_sys::sqlite3_complete(c.as_ptr()) != 0 }
}

/// What a statement does to the transaction state, from its first keywords.
fn tx_effect(stmt: &str) -> TxEffect {
    let mut words = skip_comments(stmt)
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty());
    let first = words.next().unwrap_or("").to_ascii_uppercase();
    match first.as_str() {
        "BEGIN" => TxEffect::Begin,
        "COMMIT" | "END" => TxEffect::Commit,
        "ROLLBACK" => {
            // `ROLLBACK [TRANSACTION] TO [SAVEPOINT] x` keeps the transaction open.
            let rest: Vec<String> = words.take(2).map(|w| w.to_ascii_uppercase()).collect();
            if rest.iter().any(|w| w == "TO") {
                TxEffect::None
            } else {
                TxEffect::Rollback
            }
        }
        _ => TxEffect::None,
    }
}

/// The text after leading whitespace and comments.
fn skip_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            return s;
        }
    }
}

/// Sets SQLite's process-wide configuration once, before the library first initializes, then
/// registers the hook that hands each new connection's handle to the thread opening it
/// (`run::open_capturing`; registering initializes the library).
///
/// With the `bundled-sqlite` feature the library is this program's own copy, so it is put in
/// multi-thread mode (`SQLITE_CONFIG_MULTITHREAD`: no mutex around every `bind`, `step` and
/// `column` call on a connection) with its memory statistics off (`SQLITE_CONFIG_MEMSTATUS`:
/// no process-wide mutex around every allocation). Safe: a Chakra connection and its
/// statements are only ever used by one thread at a time (`SqliteConnection` is `Send`, not
/// `Sync`), and another Rust user of the same copy (rusqlite) opens its connections without
/// mutexes anyway. A shared `libsqlite3` (the Python extension's, which CPython's `sqlite3`
/// module uses too) is left as its other users expect it: serialized mode, where a Python
/// `sqlite3` connection made with `check_same_thread=False` may be used from several threads;
/// multi-thread mode would take its mutex away without telling it. When the library was
/// already initialized (another SQLite user opened a connection first) nothing changes.
fn configure_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(feature = "bundled-sqlite")]
        {
            // SAFETY: `sqlite3_config` with its documented arguments; SQLite refuses it
            // (SQLITE_MISUSE) once initialized, which is harmless.
            let rc = unsafe {
                libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD)
            };
            // SAFETY: as above.
            let rc2 = unsafe {
                libsqlite3_sys::sqlite3_config(
                    libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                    0 as std::ffi::c_int,
                )
            };
            tracing::debug!(target: "chakra::sql", rc, rc2, "SQLite multi-thread mode, no memory statistics");
        }
        let rc3 = run::register_capture();
        tracing::debug!(target: "chakra::sql", rc3, "SQLite connection handle capture registered");
    });
}

/// Opens the connections of a SQLite pool (deadpool's manager for [`SqliteConn`]).
#[derive(Debug, Clone)]
pub struct SqliteManager {
    target: String,
    is_file: bool,
    busy: Duration,
    durability: Durability,
    tables: crate::exec::KnownTables,
}

impl SqliteManager {
    /// A manager for the database file `target` (or `:memory:` with `is_file` false).
    /// `busy` is how long a statement waits for another connection's lock; `tables` is
    /// shared by the connections it opens.
    pub fn new(
        target: String,
        is_file: bool,
        busy: Duration,
        durability: Durability,
        tables: crate::exec::KnownTables,
    ) -> Self {
        configure_library();
        SqliteManager {
            target,
            is_file,
            busy,
            durability,
            tables,
        }
    }
}

impl deadpool::managed::Manager for SqliteManager {
    type Type = SqliteConn;
    type Error = Error;

    async fn create(&self) -> Result<SqliteConn> {
        let m = self.clone();
        let busy_ms = m.busy.as_millis() as u64;
        // Opening a file (and switching it to WAL) may wait on the disk and on other
        // connections: once per connection, on a blocking thread.
        let (conn, db) = tokio::task::spawn_blocking(move || {
            let _call = crate::exec::fork::call();
            let (conn, db) = run::open_capturing(|| {
                setup::establish(&m.target, m.is_file, Some(busy_ms), m.durability)
            });
            let db = db.ok_or_else(|| {
                Error::Connection(format!(
                    "opening SQLite database {:?}: the connection's handle was not found",
                    m.target
                ))
            });
            Ok::<_, Error>((conn?, db?))
        })
        .await
        .map_err(|e| Error::Connection(format!("opening a SQLite connection: {e}")))??;
        Ok(SqliteConn::new(conn, db, self.busy, self.tables.clone()))
    }

    async fn recycle(
        &self,
        _conn: &mut SqliteConn,
        _metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<Error> {
        // Nothing to check: a SQLite connection has no server that could have closed it,
        // and transactions close their connection when dropped while open.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_where_sqlite_says_a_statement_ends() {
        assert_eq!(split_statements("COMMIT"), vec!["COMMIT"]);
        assert_eq!(split_statements("SELECT 1;"), vec!["SELECT 1;"]);
        assert_eq!(
            split_statements("ROLLBACK TO SAVEPOINT a; RELEASE SAVEPOINT a"),
            vec!["ROLLBACK TO SAVEPOINT a;", " RELEASE SAVEPOINT a"]
        );
        assert_eq!(
            split_statements("INSERT INTO t VALUES ('a;b'); SELECT 2;\n"),
            vec!["INSERT INTO t VALUES ('a;b');", " SELECT 2;"]
        );
        let trigger = "CREATE TRIGGER x AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END;";
        assert_eq!(split_statements(&format!("{trigger} SELECT 1")).len(), 2);
    }

    #[test]
    fn transaction_control_is_recognised() {
        assert_eq!(tx_effect("BEGIN IMMEDIATE"), TxEffect::Begin);
        assert_eq!(tx_effect(" -- c\n commit;"), TxEffect::Commit);
        assert_eq!(tx_effect("END TRANSACTION"), TxEffect::Commit);
        assert_eq!(tx_effect("ROLLBACK"), TxEffect::Rollback);
        assert_eq!(tx_effect("ROLLBACK TO SAVEPOINT s"), TxEffect::None);
        assert_eq!(tx_effect("rollback transaction to s"), TxEffect::None);
        assert_eq!(tx_effect("/* x */ SELECT 1"), TxEffect::None);
    }
}
