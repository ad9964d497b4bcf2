//! [`TxScope`]: the transaction a write with model hooks runs in, the executor's own (a
//! [`Transaction`], a session's `Tx`) or one opened for it from a pool
//! ([`super::Executor::tx_scope`]).

use super::Transaction;
use chakra_dsl::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::MutexGuard;

/// A transaction to run a write and its hooks in.
pub enum TxScope<'a> {
    /// The executor's transaction, borrowed: the caller commits or rolls it back.
    Joined(&'a mut Transaction),
    /// A session transaction's connection, held while the write runs, and the flag that
    /// marks the attempt for a re-run when the write fails with a retryable error.
    Guarded(MutexGuard<'a, Option<Transaction>>, &'a AtomicBool),
    /// A transaction opened for this write: committed by [`TxScope::finish`] on success,
    /// rolled back on error.
    Own(Box<Transaction>),
}

impl TxScope<'_> {
    /// The transaction.
    pub fn tx(&mut self) -> Result<&mut Transaction> {
        match self {
            TxScope::Joined(t) => Ok(t),
            TxScope::Guarded(g, _) => g
                .as_mut()
                .ok_or_else(|| Error::Transaction("the transaction has already ended".into())),
            TxScope::Own(t) => Ok(&mut **t),
        }
    }

    /// Ends the scope with the write's result: a transaction of its own is committed when
    /// `r` is `Ok`, rolled back when it is `Err` (the error returned unchanged, even when the
    /// rollback fails); a joined one is left to its owner (a session's, told when the error
    /// is retryable).
    pub async fn finish<T>(self, r: Result<T>) -> Result<T> {
        match self {
            TxScope::Own(t) => match r {
                Ok(v) => (*t).commit().await.map(|()| v),
                Err(e) => {
                    let _ = (*t).rollback().await;
                    Err(e)
                }
            },
            TxScope::Guarded(_, retryable_seen) => {
                if r.as_ref().is_err_and(Error::retryable) {
                    retryable_seen.store(true, Ordering::SeqCst);
                }
                r
            }
            TxScope::Joined(_) => r,
        }
    }
}
