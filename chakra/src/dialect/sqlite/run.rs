//! Compiled statements run straight on the SQLite handle beneath diesel's
//! `SqliteConnection`: a prepared-statement cache keyed on the SQL text, values bound from
//! [`Value`]s, cells decoded into the statement's declared types as they are read.
//!
//! Diesel's own path costs more than a small SQLite statement: per execution it renders the
//! SQL text through the query builder (for the cache key), boxes the query, collects the
//! binds into a vector of its own, and reads rows through its row abstraction before
//! [`crate::exec::coerce`] converted them a second time. Here a statement is looked up by its text
//! (assembled into a reused buffer), bound, stepped and reset; nothing else. Everything that
//! is not a compiled statement (scripts, transaction control, raw SQL's named rows,
//! connection setup) still goes through diesel on the same connection.
//!
//! The handle is diesel's own: SQLite hands it to the auto-extension registered here while
//! `SqliteConnection::establish` opens it on this thread ([`open_capturing`]). Statements
//! prepared here are finalized before diesel closes the connection (see
//! [`super::conn::SqliteConn`]'s `Drop`).
//!
//! Errors read like diesel's (the same kinds from the same extended result codes, SQLite's
//! message), so [`crate::exec::errors::from_diesel`] maps them as before.

use super::read_datetime::parse_datetime;
use crate::dialect::sqlite::values as sqlite_values;
use crate::exec::coerce::coerce;
use crate::sql::CompiledQuery;
use chakra_dsl::{Value, ValueType};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use libsqlite3_sys as ffi;
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr};
use std::ptr::NonNull;
use std::sync::Arc;

pub use crate::exec::errors::RunError;

/// One row, each cell in its declared type.
pub type Row = Vec<Value>;

thread_local! {
    /// While armed (`Some`), the handle of the connection this thread is opening.
    static CAPTURE: Cell<Option<*mut ffi::sqlite3>> = const { Cell::new(None) };
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// SQLite's auto-extension entry point: called for every connection opened in the process,
/// it keeps the handle only when this thread asked for it ([`open_capturing`]).
unsafe extern "C" fn capture_handle(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    if ARMED.with(Cell::get) {
        CAPTURE.with(|c| c.set(Some(db)));
    }
    ffi::SQLITE_OK
}

/// Registers `capture_handle` (once per process; initializes the library, so the global
/// configuration must have been applied first).
pub fn register_capture() -> c_int {
    // SAFETY: registering a function with the signature SQLite documents for
    // `sqlite3_auto_extension`.
    unsafe { ffi::sqlite3_auto_extension(Some(capture_handle)) }
}

/// The handle of an open connection, as [`open_capturing`] found it.
pub struct Handle(NonNull<ffi::sqlite3>);

// SAFETY: a handle is only an address until it is used through the connection that owns it
// (by one thread at a time).
unsafe impl Send for Handle {}

/// Runs `open` (which opens one SQLite connection on this thread) and returns its result with
/// the handle SQLite opened meanwhile.
pub fn open_capturing<T>(open: impl FnOnce() -> T) -> (T, Option<Handle>) {
    CAPTURE.with(|c| c.set(None));
    ARMED.with(|a| a.set(true));
    let out = open();
    ARMED.with(|a| a.set(false));
    let db = CAPTURE
        .with(|c| c.take())
        .and_then(NonNull::new)
        .map(Handle);
    (out, db)
}

/// A prepared statement, finalized when dropped.
struct Stmt(NonNull<ffi::sqlite3_stmt>);

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on a connection that is still open (the cache
        // is emptied before the connection closes) and is finalized exactly once.
        unsafe { ffi::sqlite3_finalize(self.0.as_ptr()) };
    }
}

/// The statement error SQLite reports on `db`, as diesel builds it.
fn last_error(db: *mut ffi::sqlite3) -> DieselError {
    // SAFETY: `db` is an open connection; `sqlite3_errmsg` returns a NUL-terminated string
    // owned by it, copied here at once.
    let (code, message) = unsafe {
        (
            ffi::sqlite3_extended_errcode(db),
            CStr::from_ptr(ffi::sqlite3_errmsg(db))
                .to_string_lossy()
                .into_owned(),
        )
    };
    let kind = match code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            DatabaseErrorKind::UniqueViolation
        }
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => DatabaseErrorKind::ForeignKeyViolation,
        ffi::SQLITE_CONSTRAINT_NOTNULL => DatabaseErrorKind::NotNullViolation,
        ffi::SQLITE_CONSTRAINT_CHECK => DatabaseErrorKind::CheckViolation,
        _ => DatabaseErrorKind::Unknown,
    };
    DieselError::DatabaseError(kind, Box::new(message))
}

/// Most statements a connection keeps prepared; past it the cache starts over (the shapes
/// an application runs are far fewer, and statements whose text varies with the data are
/// never kept).
const MAX_CACHED: usize = 512;

/// The statements of one connection, run on its handle.
pub struct RawStatements {
    db: NonNull<ffi::sqlite3>,
    cache: HashMap<String, Stmt>,
    /// Cached statements by the address of their compiled text pieces (a statement shape
    /// from [`crate::sql::cache`] hands every execution the same pieces): found without
    /// assembling and hashing the text. Each entry holds the pieces, so the address stays
    /// theirs; emptied whenever `cache` is.
    by_parts: HashMap<usize, (Arc<[String]>, NonNull<ffi::sqlite3_stmt>)>,
    /// The SQL text of the statement being looked up (reused between statements).
    key: String,
    /// Text forms of values bound for the statement running now (timestamps, decimals…),
    /// kept alive until it is reset.
    scratch: Vec<String>,
    /// How many statements were prepared (cached or not).
    prepared: u64,
}

// SAFETY: the handle and its statements are only used through `&mut self`, by one thread at a
// time; SQLite runs in multi-thread mode (or serialized, if another user initialized it
// first), where a connection may move between threads.
unsafe impl Send for RawStatements {}

impl RawStatements {
    /// Statements on the connection `db` (which must outlive this value).
    pub fn new(db: Handle) -> RawStatements {
        RawStatements {
            db: db.0,
            cache: HashMap::new(),
            by_parts: HashMap::new(),
            key: String::with_capacity(256),
            scratch: Vec::new(),
            prepared: 0,
        }
    }

    /// Finalizes every cached statement (before the connection closes).
    pub fn clear(&mut self) {
        self.by_parts.clear();
        self.cache.clear();
    }

    /// How many statements this connection prepared so far, and the texts it keeps
    /// prepared (for tests and diagnostics).
    pub fn prepared(&self) -> (u64, Vec<String>) {
        (self.prepared, self.cache.keys().cloned().collect())
    }

    /// The number of rows the last write changed.
    fn changes(&self) -> usize {
        // SAFETY: an open connection.
        unsafe { ffi::sqlite3_changes64(self.db.as_ptr()) as usize }
    }

    fn prepare(&mut self, sql: &str, persistent: bool) -> Result<Stmt, DieselError> {
        self.prepared += 1;
        let mut stmt = std::ptr::null_mut();
        let len =
            c_int::try_from(sql.len()).map_err(|e| DieselError::SerializationError(Box::new(e)))?;
        let flags = if persistent {
            ffi::SQLITE_PREPARE_PERSISTENT
        } else {
            0
        };
        // SAFETY: `sql` is valid for `len` bytes (no NUL terminator needed with a length);
        // `stmt` receives the new statement.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                self.db.as_ptr(),
                sql.as_ptr() as *const c_char,
                len,
                flags,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(self.db.as_ptr()));
        }
        NonNull::new(stmt)
            .map(Stmt)
            .ok_or_else(|| DieselError::QueryBuilderError(Box::new(diesel::result::EmptyQuery)))
    }

    /// Runs `f` on the prepared statement of `q`'s text (from the cache when `q` is
    /// cacheable), then resets it and clears its bindings.
    fn with_statement<T>(
        &mut self,
        q: &CompiledQuery,
        f: impl FnOnce(&mut Running<'_>) -> Result<T, RunError>,
    ) -> Result<T, RunError> {
        let by_parts = Arc::as_ptr(&q.parts) as *const String as usize;
        if q.cacheable {
            if let Some(&(_, stmt)) = self.by_parts.get(&by_parts) {
                return self.run_on(stmt, None, f);
            }
        }
        self.key.clear();
        for (i, part) in q.parts.iter().enumerate() {
            self.key.push_str(part);
            if i + 1 < q.parts.len() {
                self.key.push('?');
            }
        }
        let mut owned = None;
        let stmt = if q.cacheable {
            match self.cache.get(self.key.as_str()) {
                Some(s) => s.0,
                None => {
                    let key = std::mem::take(&mut self.key);
                    let s = self.prepare(&key, true);
                    self.key = key;
                    let s = s?;
                    let p = s.0;
                    if self.cache.len() >= MAX_CACHED {
                        self.by_parts.clear();
                        self.cache.clear();
                    }
                    self.cache.insert(self.key.clone(), s);
                    p
                }
            }
        } else {
            let key = std::mem::take(&mut self.key);
            let s = self.prepare(&key, false);
            self.key = key;
            let s = s?;
            let p = s.0;
            owned = Some(s);
            p
        };
        if q.cacheable {
            // Statements compiled afresh for each call (a bulk insert's row statement) add
            // entries no later call finds: start over when full (the statements themselves
            // stay in `cache`).
            if self.by_parts.len() >= MAX_CACHED {
                self.by_parts.clear();
            }
            self.by_parts.insert(by_parts, (Arc::clone(&q.parts), stmt));
        }
        self.run_on(stmt, owned, f)
    }

    /// Runs `f` on `stmt`, then resets it and clears its bindings; `owned` (an uncached
    /// statement) is finalized after.
    fn run_on<T>(
        &mut self,
        stmt: NonNull<ffi::sqlite3_stmt>,
        owned: Option<Stmt>,
        f: impl FnOnce(&mut Running<'_>) -> Result<T, RunError>,
    ) -> Result<T, RunError> {
        let mut running = Running {
            db: self.db.as_ptr(),
            stmt: stmt.as_ptr(),
            scratch: &mut self.scratch,
        };
        let out = f(&mut running);
        running.reset();
        drop(owned);
        out
    }

    /// Runs a statement that returns rows; each cell is read as the statement declares it
    /// (`q.output`; cells past it keep their storage class).
    pub fn load(&mut self, q: &CompiledQuery) -> Result<Vec<Row>, RunError> {
        self.with_statement(q, |r| {
            r.bind_all(&q.binds)?;
            let mut rows = Vec::new();
            r.read_rows(&q.output, &mut rows)?;
            Ok(rows)
        })
    }

    /// Runs a statement and returns the number of rows it changed.
    pub fn execute(&mut self, q: &CompiledQuery) -> Result<usize, RunError> {
        self.with_statement(q, |r| {
            r.bind_all(&q.binds)?;
            r.run_to_end()
        })?;
        Ok(self.changes())
    }

    /// Runs the one-row statement `q` once per row of `rows` (canonical values, one per
    /// bind, converted to SQLite's storage form as they are bound), reusing one prepared
    /// statement. Returns what `each` asks for, in row order, and the number of rows
    /// changed.
    pub fn load_each(
        &mut self,
        q: &CompiledQuery,
        rows: &[Vec<Value>],
        each: Each,
    ) -> Result<(Vec<Row>, usize), RunError> {
        let db = self.db.as_ptr();
        self.with_statement(q, |r| {
            let mut out = Vec::with_capacity(match each {
                Each::Count => 0,
                _ => rows.len(),
            });
            let mut changed = 0;
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    r.reset();
                }
                r.bind_all(row)?;
                match &each {
                    Each::Rows => r.read_rows(&q.output, &mut out)?,
                    Each::Count => r.run_to_end()?,
                    Each::Echo(cols) => {
                        r.run_to_end()?;
                        // SAFETY: an open connection.
                        let id = unsafe { ffi::sqlite3_last_insert_rowid(db) };
                        let mut cells = Vec::with_capacity(cols.len());
                        for (j, (from, ty)) in cols.iter().enumerate() {
                            let v = match from {
                                Echo::Rowid => Value::I64(id),
                                Echo::Sent(k) => stored(&row[*k]),
                            };
                            let v = match (v, ty) {
                                (v @ Value::I64(_), ValueType::I64) => v,
                                (v, t) => coerce(j, v, t).map_err(RunError::Decode)?,
                            };
                            cells.push(v);
                        }
                        out.push(cells);
                    }
                }
                // SAFETY: an open connection.
                changed += unsafe { ffi::sqlite3_changes64(db) } as usize;
            }
            Ok((out, changed))
        })
    }

    /// True when `column` of `table` is its rowid: declared `INTEGER PRIMARY KEY
    /// AUTOINCREMENT` (as Chakra creates auto-increment keys), which only a rowid alias can
    /// be. Anything else, or a table SQLite does not know, is false.
    pub fn is_autoincrement_rowid(&self, table: &str, column: &str) -> bool {
        let (Ok(t), Ok(c)) = (
            std::ffi::CString::new(table),
            std::ffi::CString::new(column),
        ) else {
            return false;
        };
        let mut autoinc: c_int = 0;
        let mut pk: c_int = 0;
        // SAFETY: NUL-terminated names; SQLite writes the flags it was given pointers for and
        // leaves the others (null) alone.
        let rc = unsafe {
            ffi::sqlite3_table_column_metadata(
                self.db.as_ptr(),
                std::ptr::null(),
                t.as_ptr(),
                c.as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut pk,
                &mut autoinc,
            )
        };
        rc == ffi::SQLITE_OK && pk != 0 && autoinc != 0
    }
}

/// What [`RawStatements::load_each`] gives back per row.
#[derive(Debug, Clone, PartialEq)]
pub enum Each {
    /// The rows the statement returns (`RETURNING`), read per the statement's plan.
    Rows,
    /// Nothing (the change count only).
    Count,
    /// The row an insert's `RETURNING` would give, known without it (SQLite builds a
    /// temporary table for every execution with `RETURNING`): per column, the rowid the
    /// row was given (`sqlite3_last_insert_rowid`) or the value it sent as SQLite stores it,
    /// read as the given type (what reading the stored cell gives).
    Echo(Vec<(Echo, ValueType)>),
}

/// Where a column of [`Each::Echo`] comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Echo {
    /// The rowid the row was given.
    Rowid,
    /// The row's value at this index, as stored.
    Sent(usize),
}

/// `v` as SQLite stores and hands it back: its storage form, with booleans and 32-bit
/// integers as the INTEGER they become.
fn stored(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::I64(*b as i64),
        Value::I32(x) => Value::I64(*x as i64),
        Value::Null(t) => Value::Null(t.clone()),
        Value::I64(_) | Value::F64(_) | Value::Text(_) | Value::Bytes(_) => v.clone(),
        other => sqlite_values::to_storage(other.clone()),
    }
}

impl Drop for RawStatements {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A statement being run: bound, stepped, read.
struct Running<'a> {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    scratch: &'a mut Vec<String>,
}

impl Running<'_> {
    /// Resets the statement and drops its bindings (text bound without a copy points into
    /// values that are about to go away).
    fn reset(&mut self) {
        // SAFETY: a prepared statement of an open connection.
        unsafe {
            ffi::sqlite3_reset(self.stmt);
            ffi::sqlite3_clear_bindings(self.stmt);
        }
        self.scratch.clear();
    }

    fn check(&self, rc: c_int) -> Result<(), RunError> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(RunError::Db(last_error(self.db)))
        }
    }

    fn bind_all(&mut self, values: &[Value]) -> Result<(), RunError> {
        // SAFETY: a prepared statement.
        let expected = unsafe { ffi::sqlite3_bind_parameter_count(self.stmt) } as usize;
        if expected != values.len() {
            return Err(RunError::Db(DieselError::SerializationError(
                format!(
                    "the statement has {expected} parameters, {} values were given",
                    values.len()
                )
                .into(),
            )));
        }
        for (i, v) in values.iter().enumerate() {
            self.bind(i as c_int + 1, v)?;
        }
        Ok(())
    }

    /// Binds `v` at `idx`: storage-form values as they are, canonical ones (timestamps,
    /// decimals, UUIDs, JSON, arrays, dates) in their SQLite text form
    /// ([`sqlite_values::to_storage`]). Text and blobs are bound without a copy: they stay
    /// borrowed until [`Running::reset`].
    fn bind(&mut self, idx: c_int, v: &Value) -> Result<(), RunError> {
        let s = self.stmt;
        // SAFETY: a prepared statement; text and blob pointers stay valid until the
        // statement is reset and its bindings cleared (`reset`), which happens before the
        // values (borrowed for the whole run) or the scratch strings are dropped.
        let rc = unsafe {
            match v {
                Value::Null(_) => ffi::sqlite3_bind_null(s, idx),
                Value::Bool(b) => ffi::sqlite3_bind_int(s, idx, *b as c_int),
                Value::I32(x) => ffi::sqlite3_bind_int(s, idx, *x),
                Value::I64(x) => ffi::sqlite3_bind_int64(s, idx, *x),
                Value::F64(x) => ffi::sqlite3_bind_double(s, idx, *x),
                Value::Text(t) => bind_text(s, idx, t),
                Value::Bytes(b) => ffi::sqlite3_bind_blob64(
                    s,
                    idx,
                    b.as_ptr() as *const std::ffi::c_void,
                    b.len() as u64,
                    ffi::SQLITE_STATIC(),
                ),
                Value::DateTime(dt) => {
                    let t = Value::datetime_text(dt);
                    let rc = bind_text(s, idx, &t);
                    self.scratch.push(t);
                    rc
                }
                other => match sqlite_values::to_storage(other.clone()) {
                    Value::Text(t) => {
                        let rc = bind_text(s, idx, &t);
                        self.scratch.push(t);
                        rc
                    }
                    other => {
                        return Err(RunError::Db(DieselError::SerializationError(
                            format!("value {other} has no SQLite storage form").into(),
                        )))
                    }
                },
            }
        };
        self.check(rc)
    }

    /// Steps the statement to its end, discarding rows.
    fn run_to_end(&mut self) -> Result<(), RunError> {
        loop {
            // SAFETY: a prepared, bound statement.
            match unsafe { ffi::sqlite3_step(self.stmt) } {
                ffi::SQLITE_ROW => continue,
                ffi::SQLITE_DONE => return Ok(()),
                _ => return Err(RunError::Db(last_error(self.db))),
            }
        }
    }

    /// Steps the statement to its end, appending each row, decoded per `plan`, to `out`.
    fn read_rows(&mut self, plan: &[ValueType], out: &mut Vec<Row>) -> Result<(), RunError> {
        // SAFETY: a prepared statement.
        let n = unsafe { ffi::sqlite3_column_count(self.stmt) } as usize;
        loop {
            // SAFETY: a prepared, bound statement.
            match unsafe { ffi::sqlite3_step(self.stmt) } {
                ffi::SQLITE_ROW => {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(self.cell(i, plan.get(i)).map_err(RunError::Decode)?);
                    }
                    out.push(row);
                }
                ffi::SQLITE_DONE => return Ok(()),
                _ => return Err(RunError::Db(last_error(self.db))),
            }
        }
    }

    /// Column `i` of the current row, read as `ty` (or by its storage class without one).
    fn cell(&self, i: usize, ty: Option<&ValueType>) -> chakra_dsl::Result<Value> {
        let s = self.stmt;
        let c = i as c_int;
        // SAFETY: the statement is on a row and `c` is one of its columns. Text and blob
        // pointers are read (and copied) before the next call on the statement.
        unsafe {
            match ffi::sqlite3_column_type(s, c) {
                ffi::SQLITE_NULL => Ok(Value::Null(ty.cloned().unwrap_or(ValueType::Text))),
                ffi::SQLITE_INTEGER => {
                    let x = ffi::sqlite3_column_int64(s, c);
                    match ty {
                        None | Some(ValueType::I64) => Ok(Value::I64(x)),
                        Some(ValueType::Bool) => Ok(Value::Bool(x != 0)),
                        Some(t) => coerce(i, Value::I64(x), t),
                    }
                }
                ffi::SQLITE_FLOAT => {
                    let x = ffi::sqlite3_column_double(s, c);
                    match ty {
                        None | Some(ValueType::F64) => Ok(Value::F64(x)),
                        Some(t) => coerce(i, Value::F64(x), t),
                    }
                }
                ffi::SQLITE_BLOB => {
                    let p = ffi::sqlite3_column_blob(s, c) as *const u8;
                    let n = ffi::sqlite3_column_bytes(s, c) as usize;
                    let b = if n == 0 {
                        Vec::new()
                    } else {
                        std::slice::from_raw_parts(p, n).to_vec()
                    };
                    match ty {
                        None | Some(ValueType::Bytes) => Ok(Value::Bytes(b)),
                        Some(t) => coerce(i, Value::Bytes(b), t),
                    }
                }
                _ => {
                    let p = ffi::sqlite3_column_text(s, c);
                    let n = ffi::sqlite3_column_bytes(s, c) as usize;
                    let bytes = if p.is_null() || n == 0 {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(p, n)
                    };
                    text_cell(i, bytes, ty)
                }
            }
        }
    }
}

/// Binds `t` without a copy.
///
/// # Safety
/// `s` is a prepared statement; `t` must outlive the binding (see [`Running::bind`]).
unsafe fn bind_text(s: *mut ffi::sqlite3_stmt, idx: c_int, t: &str) -> c_int {
    ffi::sqlite3_bind_text64(
        s,
        idx,
        t.as_ptr() as *const c_char,
        t.len() as u64,
        ffi::SQLITE_STATIC(),
        ffi::SQLITE_UTF8 as u8,
    )
}

/// A text cell read as `ty`: text as is, timestamps parsed from the bytes, anything else
/// through [`coerce`].
fn text_cell(i: usize, bytes: &[u8], ty: Option<&ValueType>) -> chakra_dsl::Result<Value> {
    let text = || match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    match ty {
        None | Some(ValueType::Text) => Ok(Value::Text(text())),
        Some(ValueType::DateTime) => match std::str::from_utf8(bytes).ok().and_then(parse_datetime)
        {
            Some(d) => Ok(Value::DateTime(d)),
            None => coerce(i, Value::Text(text()), &ValueType::DateTime),
        },
        Some(t) => coerce(i, Value::Text(text()), t),
    }
}
