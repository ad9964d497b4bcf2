//! A bounded read-ahead for a streamed read ([`crate::bridge`]): the runtime thread reads
//! and decodes at most [`AHEAD_CHUNKS`] chunks more than the event loop has converted into
//! instances, so a large result's decoded rows and its built objects do not coexist (the
//! runtime decodes faster than the loop builds objects; unbounded, it held about half of a
//! 100,000-row result as decoded rows while the loop was still converting the first half).
//!
//! While the loop is behind, the read is not polled: the statement's later rows wait in the
//! connection (tokio-postgres's bounded response channel, then the socket), not in memory.
//! If the loop converts nothing for [`STALL`] (it is blocked, e.g. in a synchronous call that
//! itself waits for a pooled connection), the bound is lifted for the rest of the read, so a
//! read never waits on a loop that cannot drain it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Chunks handed to the loop and not yet converted before the read pauses.
pub const AHEAD_CHUNKS: usize = 4;

/// How long a paused read waits for the loop to convert a chunk before it reads on
/// without a bound.
pub const STALL: Duration = Duration::from_millis(20);

/// The count of a streamed read's chunks handed to the loop and not yet converted, and the
/// read's waker while it is paused.
#[derive(Default)]
pub struct Gate {
    outstanding: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    /// A gate with nothing outstanding.
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// One more chunk was handed to the loop (runtime thread).
    pub fn handed(&self) {
        self.outstanding.fetch_add(1, Ordering::AcqRel);
    }

    /// The loop converted one chunk (loop thread): a paused read goes on.
    pub fn converted(&self) {
        self.outstanding.fetch_sub(1, Ordering::AcqRel);
        let waker = crate::pools::lock(&self.waker).take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// True (and `waker` kept, to be woken by [`Gate::converted`]) when the loop is
    /// [`AHEAD_CHUNKS`] behind. Checked under the waker's lock, so a conversion between the
    /// check and the store still wakes the read.
    fn pause(&self, waker: &Waker) -> bool {
        let mut slot = crate::pools::lock(&self.waker);
        if self.outstanding.load(Ordering::Acquire) >= AHEAD_CHUNKS {
            *slot = Some(waker.clone());
            true
        } else {
            false
        }
    }
}

/// A streamed read polled only while its [`Gate`] is open.
pub struct Gated<F> {
    inner: F,
    gate: Arc<Gate>,
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
    unbounded: bool,
}

impl<F> Gated<F> {
    /// `inner`, paused whenever `gate` has [`AHEAD_CHUNKS`] chunks outstanding.
    pub fn new(inner: F, gate: Arc<Gate>) -> Self {
        Gated {
            inner,
            gate,
            stall: None,
            unbounded: false,
        }
    }
}

impl<F: Future + Unpin> Future for Gated<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if !this.unbounded && this.gate.pause(cx.waker()) {
            let stall = this
                .stall
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(STALL)));
            if stall.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The loop converted nothing for STALL: read the rest without a bound.
            this.unbounded = true;
        } else {
            this.stall = None;
        }
        Pin::new(&mut this.inner).poll(cx)
    }
}
