//! Transactions for `chakra.Session`: a [`TxHandle`] owns one open transaction (one pooled
//! connection). Dropping the handle while the transaction is open closes that connection,
//! so the database rolls back and the pool never sees the half-done work.

use crate::job::{Finish, Job, Op, Target, TxCell, TxOp};
use crate::pools::PoolRef;
use chakra_dsl::Error;
use pyo3::prelude::*;
use std::sync::Arc;

/// One session's transaction slot (Python: `chakra._chakra.TxHandle`).
#[pyclass(frozen, module = "chakra._chakra")]
pub struct TxHandle {
    pool: Arc<crate::pools::PoolSlot>,
    cell: Arc<TxCell>,
}

#[pymethods]
impl TxHandle {
    /// An empty slot on `pool`; `begin_job()` opens the transaction.
    #[new]
    fn new(pool: PyRef<'_, PoolRef>) -> Self {
        TxHandle {
            pool: pool.slot.clone(),
            cell: Arc::new(TxCell::new(pool.dialect)),
        }
    }

    /// `BEGIN` (`BEGIN IMMEDIATE` on SQLite), at an isolation level (`"read committed"`,
    /// `"repeatable read"`, `"serializable"`; SQLite accepts every level: its transactions
    /// are serialised anyway).
    #[pyo3(signature = (isolation=None))]
    fn begin_job(&self, isolation: Option<&str>) -> PyResult<Job> {
        let isolation = match isolation {
            None => chakra::Isolation::Default,
            Some(text) => chakra::Isolation::parse(text).ok_or_else(|| {
                crate::errors::to_py(Error::InvalidQuery(format!(
                    "unknown isolation level {text:?}; choices are: read committed, repeatable read, serializable"
                )))
            })?,
        };
        Ok(Job::new(
            Op::Begin(
                self.pool.clone(),
                self.cell.clone(),
                chakra::TxOptions { isolation },
            ),
            Finish::Nothing,
        ))
    }

    /// `SAVEPOINT`.
    fn savepoint_job(&self) -> Job {
        self.tx(TxOp::Savepoint)
    }

    /// `RELEASE SAVEPOINT`.
    fn release_job(&self) -> Job {
        self.tx(TxOp::Release)
    }

    /// `ROLLBACK TO SAVEPOINT`.
    fn rollback_to_job(&self) -> Job {
        self.tx(TxOp::RollbackTo)
    }

    /// `COMMIT`.
    fn commit_job(&self) -> Job {
        self.tx(TxOp::Commit)
    }

    /// `ROLLBACK`.
    fn rollback_job(&self) -> Job {
        self.tx(TxOp::Rollback)
    }

    /// True while a transaction is open (false while a job holds it).
    fn is_open(&self) -> bool {
        self.cell.try_lock().map(|g| g.is_some()).unwrap_or(true)
    }
}

impl TxHandle {
    fn tx(&self, op: TxOp) -> Job {
        Job::new(Op::Tx(self.cell.clone(), op), Finish::Nothing)
    }
}

/// The target a Python object names: a `PoolRef` or a `TxHandle`.
pub fn target_of(obj: &Bound<'_, PyAny>) -> PyResult<Target> {
    if let Ok(p) = obj.cast::<PoolRef>() {
        return Ok(Target::Pool(p.get().slot.clone()));
    }
    if let Ok(t) = obj.cast::<TxHandle>() {
        return Ok(Target::Tx(t.get().cell.clone()));
    }
    Err(crate::errors::to_py(Error::InvalidQuery(
        "statements run on a PoolRef or a TxHandle".into(),
    )))
}
