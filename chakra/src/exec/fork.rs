//! Fork safety for SQLite: a process that forks while another thread is inside SQLite would
//! hand its child SQLite's internal mutexes locked (the child then hangs in
//! `unixShmMap` → `pthread_mutex_lock` on its first statement). Every call into SQLite holds
//! a [`Call`]; [`prepare`] (run just before `fork()`) stops new calls and waits for the
//! running ones to end, so the child inherits no lock state; [`parent`] and [`child`] (run
//! after it) let calls go on. The child never uses an inherited connection: the Python
//! front door's pools open their own after a fork. Outside a fork the cost is two atomic
//! operations per call.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

static FORKING: AtomicBool = AtomicBool::new(false);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Calls this thread is inside (a nested call never waits: the fork waits for it).
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One call into SQLite (or one critical section a forked child would otherwise inherit
/// locked) in progress, ended when dropped.
pub struct Call(());

/// Marks the start of a call into SQLite, first waiting while a fork is being prepared.
pub fn call() -> Call {
    if DEPTH.with(|d| {
        let nested = d.get() > 0;
        d.set(d.get() + 1);
        nested
    }) {
        IN_FLIGHT.fetch_add(1, SeqCst);
        return Call(());
    }
    loop {
        IN_FLIGHT.fetch_add(1, SeqCst);
        if !FORKING.load(SeqCst) {
            return Call(());
        }
        IN_FLIGHT.fetch_sub(1, SeqCst);
        while FORKING.load(SeqCst) {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
        IN_FLIGHT.fetch_sub(1, SeqCst);
    }
}

/// Before `fork()`: no new call into SQLite starts, and the running ones are waited for.
pub fn prepare() {
    FORKING.store(true, SeqCst);
    while IN_FLIGHT.load(SeqCst) > 0 {
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// After `fork()`, in the parent: calls go on.
pub fn parent() {
    FORKING.store(false, SeqCst);
}

/// After `fork()`, in the child: no call of the parent's threads exists here.
pub fn child() {
    IN_FLIGHT.store(0, SeqCst);
    DEPTH.with(|d| d.set(0));
    FORKING.store(false, SeqCst);
}
