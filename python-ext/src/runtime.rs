//! The one tokio runtime of the process: a current-thread runtime driven by one dedicated
//! thread (`chakra-runtime`), made on first use and shut down from an `atexit` hook, before
//! the interpreter finalizes.
//!
//! Why a current-thread runtime on its own thread: on two cores it beat a multi-threaded
//! runtime for this work, and every wake-up from another thread is one cross-thread hop.
//! The runtime thread never takes the GIL: results go back to Python through
//! [`crate::bridge`], which hands them to the event-loop thread.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

struct Runtime {
    handle: Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
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
                let _ = rx.await;
                // Close every pool while the runtime still runs, so connections end cleanly.
                crate::pools::close_all();
            });
            rt.shutdown_timeout(Duration::from_secs(2));
        })
        .expect("cannot start the chakra-runtime thread");
    Runtime {
        handle,
        stop: Mutex::new(Some(tx)),
        thread: Mutex::new(Some(thread)),
    }
}

/// The runtime's handle, starting the runtime on first use. `None` after [`shutdown`].
pub fn handle() -> Option<&'static Handle> {
    if STOPPED.load(Ordering::Acquire) {
        return None;
    }
    Some(&RUNTIME.get_or_init(start).handle)
}

/// Spawns a future on the runtime thread. Returns false after shutdown.
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
    handle().map(|h| h.block_on(f))
}

/// Stops the runtime: closes the pools, ends the runtime thread and waits for it (at most a
/// few seconds). Called from `atexit`, with the GIL released by the caller.
pub fn shutdown() {
    if STOPPED.swap(true, Ordering::AcqRel) {
        return;
    }
    let Some(rt) = RUNTIME.get() else { return };
    if let Some(tx) = rt.stop.lock().expect("runtime lock").take() {
        let _ = tx.send(());
    }
    if let Some(t) = rt.thread.lock().expect("runtime lock").take() {
        let _ = t.join();
    }
}
