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
//! A read of model instances on a PostgreSQL pool (`.all()`, `Op::streams`) is one
//! statement whose rows are handed to the loop in chunks of [`PART_ROWS`] as they are
//! decoded: each chunk is queued like a completion and converted into instances by `drain`
//! while the runtime thread reads the next, so conversion overlaps the read instead of
//! following it. The future is resolved with the whole list when the statement ends, or
//! with its error (converted chunks are dropped). The runtime reads at most
//! [`crate::read_ahead::AHEAD_CHUNKS`] chunks ahead of the loop's conversion
//! ([`crate::read_ahead`]), so the decoded rows and the built instances of a large result
//! do not coexist.
//!
//! When the last job in flight ends, the runtime thread stays awake for a short window
//! ([`crate::runtime::InFlight`]), so the caller's next submission does not have to wake
//! it; it does not spin while a statement waits on the database.
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
//!
//! An awaited `get(pk=…)` goes further ([`start_inline`], called by `Query.pk_get_run`):
//! the op is polled before any asyncio future exists, and when it completes in that poll its
//! instance is returned to the coroutine directly (no future, no `set_result`, no coroutine
//! of `_bridge.run`). Only an op that has to wait becomes a `Job` again, holding the rest of
//! its future ([`crate::job::Op::Started`]), awaited through [`Completer::submit`] on the
//! runtime like any other.

use crate::job::{Finish, Job, Outcome};
use crate::read_ahead::{Gate as ReadAhead, Gated};
use chakra::exec::Row;
use chakra_dsl::Result;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::collections::HashMap;
use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What a job hands to its loop: a chunk of rows (a streamed read, [`PART_ROWS`] rows at a
/// time), or its outcome.
enum Event {
    Part(Vec<Row>),
    Done(Result<Outcome>),
}

/// Rows per chunk of a streamed read: the loop converts a chunk into instances while the
/// runtime thread reads and decodes the next (for PostgreSQL reads of model instances,
/// `Op::streams`). Large enough that the wake-ups are few, small enough that the loop
/// starts early.
const PART_ROWS: usize = 1024;

struct Shared {
    queue: Mutex<Vec<(u64, Event)>>,
    armed: AtomicBool,
    wake: UnixStream,
}

impl Shared {
    fn complete(&self, id: u64, out: Result<Outcome>) {
        self.push(id, Event::Done(out));
    }

    fn push(&self, id: u64, ev: Event) {
        crate::pools::lock(&self.queue).push((id, ev));
        if !self.armed.swap(true, Ordering::AcqRel) {
            // A full socket buffer means a wake-up is already pending: nothing to do.
            let _ = (&self.wake).write(&[1]);
        }
    }
}

/// A submitted job the loop waits on: its future, how its outcome is converted, its abort
/// handle (PostgreSQL), and the instances converted so far from a streamed read's chunks.
struct PendingJob {
    future: Py<PyAny>,
    finish: Finish,
    abort: Option<tokio::task::AbortHandle>,
    parts: Option<Py<PyList>>,
    /// A chunk failed to convert: the future gets this error when the job ends.
    failed: Option<PyErr>,
    /// A streamed read's read-ahead bound: told of each chunk converted.
    gate: Option<Arc<ReadAhead>>,
}

/// The completion side of one event loop (Python: `chakra._chakra.Completer`).
#[pyclass(module = "chakra._chakra")]
pub struct Completer {
    shared: Arc<Shared>,
    read: UnixStream,
    pending: HashMap<u64, PendingJob>,
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
        if op.runs_inline() && sqlite_inline() {
            // SQLite statements run inline: poll the op once here (GIL released). The usual
            // op completes in that poll and its future is resolved now, with no thread hop;
            // one that waits (a lock, a pool connection, opening the database) goes on on
            // the runtime, where the wait does not hold up the event loop.
            let mut running = boxed_in_place(|| op.run());
            let first = py.detach(|| crate::runtime::poll_once(&mut running));
            match first {
                None => return Err(crate::errors::to_py(crate::pools::closed())),
                Some(Some(out)) => {
                    let logged = crate::statement_log::emit(py);
                    resolve(py, future.bind(py), finish, out)?;
                    logged?;
                    return Ok(id);
                }
                Some(None) => {
                    let flight = crate::runtime::InFlight::start();
                    let task = async move {
                        let _flight = flight;
                        let out = running.await;
                        shared.complete(id, out);
                    };
                    if !crate::runtime::spawn(task) {
                        return Err(crate::errors::to_py(crate::pools::closed()));
                    }
                    self.pending.insert(
                        id,
                        PendingJob {
                            future,
                            finish,
                            abort: None,
                            parts: None,
                            failed: None,
                            gate: None,
                        },
                    );
                    return Ok(id);
                }
            }
        }
        let gate = (op.streams() && finish.takes_parts()).then(ReadAhead::new);
        let flight = crate::runtime::InFlight::start();
        let ahead = gate.clone();
        let task = async move {
            let _flight = flight;
            let out = match ahead {
                Some(gate) => {
                    let parts = shared.clone();
                    let handed = gate.clone();
                    let mut each = move |rows| {
                        handed.handed();
                        parts.push(id, Event::Part(rows));
                    };
                    Gated::new(Box::pin(op.run_in_parts(PART_ROWS, &mut each)), gate).await
                }
                None => op.run().await,
            };
            shared.complete(id, out);
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
        self.pending.insert(
            id,
            PendingJob {
                future,
                finish,
                abort,
                parts: None,
                failed: None,
                gate,
            },
        );
        Ok(id)
    }

    /// Aborts job `id` if it is still running (its awaiting task was cancelled): its
    /// statement is cancelled on the server.
    fn cancel(&mut self, id: u64) {
        if let Some(PendingJob {
            abort: Some(abort), ..
        }) = self.pending.get(&id)
        {
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
        let done = std::mem::take(&mut *crate::pools::lock(&self.shared.queue));
        // An interrupt raised while logging (`KeyboardInterrupt`) is raised to the loop once
        // every future is resolved.
        let mut first_err: Option<PyErr> = crate::statement_log::emit(py).err();
        // Every queued future is resolved even if one of them fails to resolve; the first
        // such failure is reported to the loop afterwards.
        for (id, ev) in done {
            let out = match ev {
                Event::Part(rows) => {
                    // A chunk of a streamed read: converted now, while the rest is read.
                    if let Some(job) = self.pending.get_mut(&id) {
                        if job.failed.is_none() {
                            if let Err(e) = job.finish.apply_part(py, rows, &mut job.parts) {
                                // Reported when the job ends: its future gets this error.
                                job.parts = None;
                                job.failed = Some(e);
                            }
                        }
                        if let Some(gate) = &job.gate {
                            gate.converted();
                        }
                    }
                    continue;
                }
                Event::Done(out) => out,
            };
            let Some(job) = self.pending.remove(&id) else {
                continue;
            };
            let r = match (job.failed, job.parts) {
                (Some(e), _) => fail(py, job.future.bind(py), e),
                (None, Some(list)) => resolve_parts(py, job.future.bind(py), job.finish, list, out),
                (None, None) => resolve(py, job.future.bind(py), job.finish, out),
            };
            if let Err(e) = r {
                first_err.get_or_insert(e);
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        Ok(())
    }
}

/// Sets `e` on the future (unless it was cancelled meanwhile).
fn fail(py: Python<'_>, fut: &Bound<'_, PyAny>, e: PyErr) -> PyResult<()> {
    if !fut.call_method0(intern!(py, "done"))?.is_truthy()? {
        fut.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?;
    }
    Ok(())
}

/// Resolves the future of a streamed read whose earlier chunks are already instances in
/// `list`: the rows left are appended to it (or the job's error is set instead).
fn resolve_parts(
    py: Python<'_>,
    fut: &Bound<'_, PyAny>,
    finish: Finish,
    list: Py<PyList>,
    out: Result<Outcome>,
) -> PyResult<()> {
    if fut.call_method0(intern!(py, "done"))?.is_truthy()? {
        return Ok(()); // cancelled while running
    }
    let res = match out {
        Ok(Outcome::Rows(rest)) => {
            let mut parts = Some(list);
            finish
                .apply_part(py, rest, &mut parts)
                .map(|()| parts.map(|l| l.into_any()))
        }
        Ok(other) => finish.apply(py, other).map(Some),
        Err(e) => Err(crate::errors::to_py_in(py, &e, None)),
    };
    match res {
        Ok(v) => fut.call_method1(intern!(py, "set_result"), (v,))?,
        Err(e) => fut.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?,
    };
    Ok(())
}

/// An awaited op run without a future when it can be: a SQLite op (see
/// [`Completer::submit`]) is polled once here (GIL released) and, when it completes in that
/// poll, its converted result is returned (or its error raised) with no asyncio future and
/// no completion; otherwise a [`Job`] to await through [`Completer::submit`] is returned:
/// the op not started (any other backend, or `CHAKRA_SQLITE_INLINE=0`), or the rest of an
/// op that has to wait ([`crate::job::Op::Started`], continued on the runtime, so the wait
/// never blocks the loop). The caller tells the two apart by type (a job's result is
/// never a `Job`).
pub fn start_inline(py: Python<'_>, op: crate::job::Op, finish: Finish) -> PyResult<Py<PyAny>> {
    crate::statement_log::refresh(py);
    if !(op.runs_inline() && sqlite_inline()) {
        return Ok(Py::new(py, Job::new(op, finish))?.into_any());
    }
    let mut running = boxed_in_place(|| op.run());
    match py.detach(|| crate::runtime::poll_once(&mut running)) {
        None => Err(crate::errors::to_py(crate::pools::closed())),
        Some(Some(out)) => crate::job::finished(py, finish, out),
        Some(None) => {
            let rest = Job::new(crate::job::Op::Started(running), finish);
            Ok(Py::new(py, rest)?.into_any())
        }
    }
}

/// `make()`'s future, boxed: written into its allocation rather than made on the stack and
/// copied there (an op's future is kilobytes, most of it the state of later awaits).
fn boxed_in_place<F>(make: impl FnOnce() -> F) -> crate::job::Running
where
    F: Future<Output = Result<Outcome>> + Send + 'static,
{
    let mut slot = Box::<F>::new_uninit();
    slot.write(make());
    // SAFETY: initialised by the write just above.
    Box::into_pin(unsafe { slot.assume_init() })
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
