//! The asyncio ↔ tokio bridge.
//!
//! Per awaited query there are two thread hops and no GIL acquisition off the event-loop
//! thread:
//! 1. `Completer.submit` (event-loop thread, GIL held for microseconds) spawns the job's
//!    [`Op`](crate::job::Op) on the runtime thread: one wake-up of that thread.
//! 2. The runtime thread runs the op without the GIL, pushes the outcome onto this loop's
//!    completion queue and, only if the queue was empty, writes one byte to a socket the
//!    loop watches (`loop.add_reader`): one wake-up of the loop thread, shared by every
//!    completion that lands before the loop drains.
//! 3. `Completer.drain` (event-loop thread) converts every queued outcome into Python
//!    objects and resolves the futures (`set_result` / `set_exception`), skipping futures
//!    that were cancelled meanwhile.
//!
//! After each job the runtime thread stays awake for a short window
//! ([`crate::runtime::note_done`]), so the next submission does not have to wake it.
//!
//! A cancelled await ([`Completer::cancel`], from `_bridge.run` when its task is cancelled)
//! aborts its op on the runtime: the statement's future is dropped where it waits, so
//! PostgreSQL is sent a cancel request and the statement stops on the server. Its pooled
//! connection is closed, not reused; a transaction whose statement was cancelled can only be
//! rolled back (the session does). SQLite ops are not aborted: a SQLite statement runs
//! inline and cannot be interrupted; the op runs to its end and its result is dropped (see
//! `Op::abortable`).
//!
//! SQLite ops skip the hops when they can: [`Completer::submit`] polls the op once on the
//! loop thread (GIL released); SQLite statements run inline, so the op usually completes
//! there and its future is resolved before `submit` returns (awaiting it then does not
//! suspend). An op that has to wait (another connection's lock, a free pool connection,
//! opening the database), or whose statement ran 2 ms or more, continues on the runtime
//! thread: a wait never blocks the event loop (a lock holder on the same loop can go on and
//! release it), and a long op blocks it for one statement at most. `CHAKRA_SQLITE_INLINE=0`
//! turns this off.

use crate::job::{Finish, Job, Outcome};
use chakra_dsl::Result;
use pyo3::intern;
use pyo3::prelude::*;
use std::collections::HashMap;
use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

struct Shared {
    queue: Mutex<Vec<(u64, Result<Outcome>)>>,
    armed: AtomicBool,
    wake: UnixStream,
}

impl Shared {
    fn complete(&self, id: u64, out: Result<Outcome>) {
        self.queue.lock().expect("queue lock").push((id, out));
        if !self.armed.swap(true, Ordering::AcqRel) {
            // A full socket buffer means a wake-up is already pending: nothing to do.
            let _ = (&self.wake).write(&[1]);
        }
    }
}

/// The completion side of one event loop (Python: `chakra._chakra.Completer`).
#[pyclass(module = "chakra._chakra")]
pub struct Completer {
    shared: Arc<Shared>,
    read: UnixStream,
    pending: HashMap<u64, (Py<PyAny>, Finish, Option<tokio::task::AbortHandle>)>,
    next_id: u64,
}

#[pymethods]
impl Completer {
    /// A completer with its own wake-up socket pair.
    #[new]
    fn new() -> PyResult<Self> {
        let (read, wake) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        Ok(Completer {
            shared: Arc::new(Shared {
                queue: Mutex::new(Vec::new()),
                armed: AtomicBool::new(false),
                wake,
            }),
            read,
            pending: HashMap::new(),
            next_id: 0,
        })
    }

    /// The file descriptor the event loop watches (`loop.add_reader(fd, completer.drain)`).
    fn fileno(&self) -> i32 {
        self.read.as_raw_fd()
    }

    /// Number of jobs submitted and not yet drained.
    fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Starts `job` on the runtime; `future` (from `loop.create_future()`) is resolved by
    /// [`Completer::drain`] on the loop thread. Returns the job's id (for `cancel`).
    fn submit(&mut self, py: Python<'_>, job: &Job, future: Py<PyAny>) -> PyResult<u64> {
        crate::statement_log::refresh(py);
        let (op, finish) = job.take()?;
        let id = self.next_id;
        self.next_id += 1;
        let shared = self.shared.clone();
        let abortable = op.abortable();
        if op.is_sqlite() && sqlite_inline() {
            // SQLite statements run inline: poll the op once here (GIL released). The usual
            // op completes in that poll and its future is resolved now, with no thread hop;
            // one that waits (a lock, a pool connection, opening the database) goes on on
            // the runtime, where the wait does not hold up the event loop.
            let mut running: std::pin::Pin<Box<dyn Future<Output = Result<Outcome>> + Send>> =
                Box::pin(op.run());
            let first = py.detach(|| crate::runtime::poll_once(&mut running));
            match first {
                None => return Err(crate::errors::to_py(crate::pools::closed())),
                Some(Some(out)) => {
                    crate::statement_log::emit(py);
                    resolve(py, future.bind(py), finish, out)?;
                    return Ok(id);
                }
                Some(None) => {
                    let task = async move {
                        let out = running.await;
                        shared.complete(id, out);
                        crate::runtime::note_done();
                    };
                    if !crate::runtime::spawn(task) {
                        return Err(crate::errors::to_py(crate::pools::closed()));
                    }
                    self.pending.insert(id, (future, finish, None));
                    return Ok(id);
                }
            }
        }
        let task = async move {
            let out = op.run().await;
            shared.complete(id, out);
            crate::runtime::note_done();
        };
        let abort = if abortable {
            let Some(h) = crate::runtime::spawn_abortable(task) else {
                return Err(crate::errors::to_py(crate::pools::closed()));
            };
            Some(h)
        } else {
            if !crate::runtime::spawn(task) {
                return Err(crate::errors::to_py(crate::pools::closed()));
            }
            None
        };
        self.pending.insert(id, (future, finish, abort));
        Ok(id)
    }

    /// Aborts job `id` if it is still running (its awaiting task was cancelled): its
    /// statement is cancelled on the server.
    fn cancel(&mut self, id: u64) {
        if let Some((_, _, Some(abort))) = self.pending.get(&id) {
            abort.abort();
            self.pending.remove(&id);
        }
    }

    /// Resolves the futures of every finished job. Called by the event loop when the
    /// wake-up socket is readable.
    fn drain(&mut self, py: Python<'_>) -> PyResult<()> {
        let mut buf = [0u8; 256];
        while let Ok(n) = (&self.read).read(&mut buf) {
            if n < buf.len() {
                break;
            }
        }
        self.shared.armed.store(false, Ordering::Release);
        let done = std::mem::take(&mut *self.shared.queue.lock().expect("queue lock"));
        crate::statement_log::emit(py);
        // Every queued future is resolved even if one of them fails to resolve; the first
        // such failure is reported to the loop afterwards.
        let mut first_err: Option<PyErr> = None;
        for (id, out) in done {
            let Some((future, finish, _)) = self.pending.remove(&id) else {
                continue;
            };
            if let Err(e) = resolve(py, future.bind(py), finish, out) {
                first_err.get_or_insert(e);
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        Ok(())
    }
}

/// Whether SQLite ops get their first poll on the loop thread (`CHAKRA_SQLITE_INLINE`,
/// default on; `0` sends every op to the runtime thread, so not even a SQLite op's first
/// statement runs on the event loop).
fn sqlite_inline() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("CHAKRA_SQLITE_INLINE").map_or(true, |v| v.trim() != "0"))
}

/// Resolves one future with its job's outcome (skipped when it was cancelled meanwhile).
fn resolve(
    py: Python<'_>,
    fut: &Bound<'_, PyAny>,
    finish: Finish,
    out: Result<Outcome>,
) -> PyResult<()> {
    if fut.call_method0(intern!(py, "done"))?.is_truthy()? {
        return Ok(()); // cancelled while running
    }
    let res = match out {
        Ok(o) => finish.apply(py, o),
        Err(e) => Err(crate::errors::to_py_in(py, &e, None)),
    };
    match res {
        Ok(v) => fut.call_method1(intern!(py, "set_result"), (v,))?,
        Err(e) => fut.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?,
    };
    Ok(())
}
