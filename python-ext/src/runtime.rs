//! The one tokio runtime of the process: a current-thread runtime driven by one dedicated
//! thread (`chakra-runtime`), made on first use and shut down from an `atexit` hook, before
//! the interpreter finalizes.
//!
//! Why a current-thread runtime on its own thread: on two cores it beat a multi-threaded
//! runtime for this work, and every wake-up from another thread is one cross-thread hop.
//! The runtime thread never takes the GIL: results go back to Python through
//! [`crate::bridge`], which hands them to the event-loop thread.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::{oneshot, Notify};

struct Runtime {
    /// The process that started it: a forked child gets a runtime of its own (the parent's
    /// thread does not exist in the child).
    pid: u32,
    handle: Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

static RUNTIME: Mutex<Option<&'static Runtime>> = Mutex::new(None);
/// The runtime [`RUNTIME`] holds, read without its lock by [`current`] (set under the lock;
/// a runtime is leaked, never freed, so the pointer stays valid).
static CURRENT: std::sync::atomic::AtomicPtr<Runtime> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
static STOPPED: AtomicBool = AtomicBool::new(false);

fn start() -> Runtime {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("chakra-runtime")
        .build()
        .expect("cannot build the tokio runtime");
    let handle = rt.handle().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("chakra-runtime".into())
        .spawn(move || {
            rt.block_on(async move {
                let window = spin_window_us();
                if window > 0 {
                    tokio::spawn(spinner(window));
                }
                let _ = rx.await;
                // Close every pool while the runtime still runs, so connections end cleanly.
                crate::pools::close_all();
            });
            rt.shutdown_timeout(Duration::from_secs(2));
        })
        .expect("cannot start the chakra-runtime thread");
    Runtime {
        pid: pid(),
        handle,
        stop: Mutex::new(Some(tx)),
        thread: Mutex::new(Some(thread)),
    }
}

static CLOCK: OnceLock<Instant> = OnceLock::new();
static LAST_DONE_US: AtomicU64 = AtomicU64::new(0);
/// Jobs submitted through the bridge and not yet finished (or dropped).
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
/// Microseconds between the last time the bridge went idle (no job in flight) and the
/// submission that followed it: the spinner spins only while that gap fits the window.
static LAST_GAP_US: AtomicU64 = AtomicU64::new(0);
static SPIN: Notify = Notify::const_new();

fn now_us() -> u64 {
    CLOCK.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// How long the runtime thread stays awake after the bridge goes idle, and a synchronous
/// caller spins before it parks (`CHAKRA_SPIN_US`; 0 turns spinning off). Default: 200 µs
/// on a machine of [`SPIN_MIN_CPUS`] CPUs or more, else 0.
fn spin_window_us() -> u64 {
    static WINDOW: OnceLock<u64> = OnceLock::new();
    *WINDOW.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::var("CHAKRA_SPIN_US")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(if cpus >= SPIN_MIN_CPUS { 200 } else { 0 })
    })
}

/// The fewest CPUs on which the bridge spins by default. A spinning thread holds a core:
/// it pays only when a core is spare besides the event loop's and the database's. On the
/// 2-CPU VM (load 8-10) spinning doubled the CPU of 5,000 gets and 2,000 filtered queries
/// and made their wall time worse, not better (`docs/performance.md`, "Python against
/// asyncpg, round three").
const SPIN_MIN_CPUS: usize = 4;

/// One bridge job in flight, from its submission (on the loop thread) until it is dropped on
/// the runtime thread (finished or aborted): the spinner spins only while none is in flight.
pub struct InFlight(());

impl InFlight {
    /// Counts a job submitted now; made before the job is spawned, moved into its task.
    pub fn start() -> InFlight {
        if IN_FLIGHT.fetch_add(1, Ordering::AcqRel) == 0 {
            // The bridge was idle: how long since it went idle (the caller's turn-around).
            let gap = now_us().saturating_sub(LAST_DONE_US.load(Ordering::Relaxed));
            LAST_GAP_US.store(gap, Ordering::Relaxed);
        }
        InFlight(())
    }
}

impl Drop for InFlight {
    /// Notes that a job finished (or was aborted). When no other job is in flight, the
    /// runtime thread stays awake for the spin window, so a query that follows right away
    /// (the usual `await` in a loop) is picked up without waking a sleeping thread.
    fn drop(&mut self) {
        LAST_DONE_US.store(now_us(), Ordering::Relaxed);
        if IN_FLIGHT.fetch_sub(1, Ordering::AcqRel) == 1 {
            SPIN.notify_one();
        }
    }
}

/// Keeps the runtime thread awake in the gap between one job's end and the next
/// submission (the loop thread converting the result and running the caller's code up to
/// its next `await`), never while a job waits on the database: then the thread sleeps in
/// its I/O driver, as it would without the window. It stops as soon as a job is submitted,
/// and does not spin when the caller did not come back within the window the last time (a
/// caller that queries now and then costs no spinning).
async fn spinner(window_us: u64) {
    loop {
        SPIN.notified().await;
        if LAST_GAP_US.load(Ordering::Relaxed) >= window_us {
            // The last gap outlasted the window: spinning would have been for nothing
            // (the next submission records a new gap).
            continue;
        }
        // Yielding keeps the scheduler polling its I/O driver and inject queue without
        // parking; a submission (or the end of the window) ends the spin.
        while IN_FLIGHT.load(Ordering::Acquire) == 0
            && now_us().saturating_sub(LAST_DONE_US.load(Ordering::Relaxed)) < window_us
        {
            tokio::task::yield_now().await;
        }
    }
}

static PID: AtomicU32 = AtomicU32::new(0);

extern "C" {
    fn pthread_atfork(
        prepare: Option<unsafe extern "C" fn()>,
        parent: Option<unsafe extern "C" fn()>,
        child: Option<unsafe extern "C" fn()>,
    ) -> std::ffi::c_int;
}

unsafe extern "C" fn forget_pid() {
    PID.store(0, Ordering::Relaxed);
}

/// This process's id, as `std::process::id()`, without its system call on every use (two
/// per statement before: the runtime and the pool check that they are this process's own).
/// A forked child reads it again: the cached value is dropped in the child of every
/// `fork()` (`pthread_atfork`, registered before the first read).
pub fn pid() -> u32 {
    let p = PID.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    static ATFORK: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a handler that only stores to an atomic (async-signal-safe).
    ATFORK.call_once(|| unsafe {
        pthread_atfork(None, None, Some(forget_pid));
    });
    let p = std::process::id();
    PID.store(p, Ordering::Relaxed);
    p
}

/// The runtime's handle, starting the runtime on first use. `None` after [`shutdown`].
pub fn handle() -> Option<Handle> {
    if STOPPED.load(Ordering::Acquire) {
        return None;
    }
    let mut slot = crate::pools::lock(&RUNTIME);
    let pid = pid();
    match *slot {
        Some(rt) if rt.pid == pid => Some(rt.handle.clone()),
        // None, or inherited through fork: the parent's runtime thread is not here, so
        // start one (the inherited one is leaked, never dropped: its thread is gone).
        _ => {
            let rt: &'static Runtime = Box::leak(Box::new(start()));
            *slot = Some(rt);
            CURRENT.store(std::ptr::from_ref(rt).cast_mut(), Ordering::Release);
            Some(rt.handle.clone())
        }
    }
}

/// [`handle`] without its lock and without cloning the handle, for the calls made per
/// statement: the runtime of this process once one is running (a forked child's first
/// call, or the first call of all, takes [`handle`]'s path). `None` after [`shutdown`].
fn current() -> Option<&'static Handle> {
    if STOPPED.load(Ordering::Acquire) {
        return None;
    }
    let p = CURRENT.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: `CURRENT` only ever holds a leaked (never freed) `Runtime`.
        let rt: &'static Runtime = unsafe { &*p };
        if rt.pid == pid() {
            return Some(&rt.handle);
        }
    }
    handle()?;
    let p = CURRENT.load(Ordering::Acquire);
    // SAFETY: as above; `handle` stored this process's runtime.
    (!p.is_null()).then(|| unsafe { &(*p).handle })
}

/// Spawns a future on the runtime thread. Returns false after shutdown.
/// Spawns `f` on the runtime and returns the handle that aborts it (drops it where it is
/// waiting); `None` after shutdown.
pub fn spawn_abortable<F: Future<Output = ()> + Send + 'static>(
    f: F,
) -> Option<tokio::task::AbortHandle> {
    handle().map(|h| h.spawn(f).abort_handle())
}

pub fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) -> bool {
    match handle() {
        Some(h) => {
            h.spawn(f);
            true
        }
        None => false,
    }
}

/// Runs a future to completion on the calling thread (which must not hold the GIL), its
/// I/O driven by the runtime thread. `None` after shutdown.
pub fn block_on<F: Future>(f: F) -> Option<F::Output> {
    block_on_pinned(std::pin::pin!(f))
}

/// [`block_on`] for a future already pinned where it was made: it is never moved. A job's
/// future is large (the state of its largest op), and moving it costs a copy of all of it
/// on every call (`Job::run_sync` pins it on its own stack).
pub fn block_on_pinned<F: Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let h = current()?;
    let _entered = h.enter();
    spin_then_park(f, spin_window_us())
}

/// Polls `f` once on the calling thread (which must not hold the GIL), inside the runtime's
/// context: `Some(Some(out))` when it completed, `Some(None)` when it waits for something
/// (it must then be driven on the runtime, which re-registers its wake-ups), `None` after
/// shutdown.
pub fn poll_once<F: Future + Unpin>(f: &mut F) -> Option<Option<F::Output>> {
    let h = current()?;
    let _entered = h.enter();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::Pin::new(f).poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(Some(v)),
        std::task::Poll::Pending => Some(None),
    }
}

/// Wakes a thread blocked in [`spin_then_park`].
struct ThreadWaker {
    woken: AtomicBool,
    thread: std::thread::Thread,
}

impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Polls `f` on this thread until it completes. While it waits it first spins for up to
/// `spin_us` (a reply that comes back quickly then costs no sleep and no wake-up), then
/// parks until woken. `None` when the runtime stopped meanwhile (interpreter exit while a
/// daemon thread waits, e.g. for a SQLite lock): the future is dropped, never polled on a
/// runtime that is shutting down (tokio would panic).
fn spin_then_park<F: Future>(mut f: std::pin::Pin<&mut F>, spin_us: u64) -> Option<F::Output> {
    if STOPPED.load(Ordering::Acquire) {
        return None;
    }
    // The first poll with a waker that does nothing: a future that completes in it (a
    // SQLite statement runs inline) needs no waker of this thread. One that waits is polled
    // again below with the real waker, which it then registers (a future registers the
    // waker of its latest poll).
    let mut noop = std::task::Context::from_waker(std::task::Waker::noop());
    if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut noop) {
        return Some(v);
    }
    let waker = std::sync::Arc::new(ThreadWaker {
        woken: AtomicBool::new(false),
        thread: std::thread::current(),
    });
    let task_waker = std::task::Waker::from(waker.clone());
    let mut cx = std::task::Context::from_waker(&task_waker);
    loop {
        if STOPPED.load(Ordering::Acquire) {
            return None;
        }
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return Some(v);
        }
        let started = Instant::now();
        while !waker.woken.load(Ordering::Acquire)
            && (started.elapsed().as_micros() as u64) < spin_us
        {
            std::hint::spin_loop();
        }
        while !waker.woken.swap(false, Ordering::AcqRel) {
            std::thread::park();
        }
    }
}

/// Stops the runtime: closes the pools, ends the runtime thread and waits for it (at most a
/// few seconds). Called from `atexit`, with the GIL released by the caller.
pub fn shutdown() {
    if STOPPED.swap(true, Ordering::AcqRel) {
        return;
    }
    let Some(rt) = *RUNTIME.lock().unwrap_or_else(|e| e.into_inner()) else {
        return;
    };
    if rt.pid != std::process::id() {
        return;
    }
    if let Some(tx) = rt.stop.lock().expect("runtime lock").take() {
        let _ = tx.send(());
    }
    if let Some(t) = rt.thread.lock().expect("runtime lock").take() {
        let _ = t.join();
    }
}
