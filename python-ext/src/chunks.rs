//! [`ChunkCursor`]: `QuerySet.iterator(chunk_size)` / `async for obj in qs`, a query's rows
//! read a chunk at a time (Python: `chakra._chakra.ChunkCursor`). The chunking is the core's
//! ([`chakra_dsl::chunks::Chunks`], also behind Rust's `Query::stream`): keyset by primary
//! key, or `LIMIT`/`OFFSET` under another ordering. Python asks for the next chunk's job
//! until there is none; each job's finish records the chunk (row count, last key) before its
//! rows become instances, so only one chunk is held at a time.

use crate::errors::to_py as err;
use crate::job::{Finish, Job, Op};
use crate::model::ModelInfo;
use crate::session::target_of;
use chakra::exec::Row;
use chakra_dsl::chunks::Chunks;
use chakra_dsl::{Error, ModelQuery, Statement};
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::sync::{Arc, Mutex};

/// The chunking state shared by a cursor and its in-flight job.
pub struct ChunkState(Mutex<Chunks>);

impl ChunkState {
    /// Records a chunk that came back: its length and its last row's key.
    pub fn record(&self, rows: &[Row]) {
        let mut c = self.0.lock().expect("chunk lock");
        let last = c
            .pk_index()
            .and_then(|i| rows.last().and_then(|r| r.get(i).cloned()));
        c.advance(rows.len(), last);
    }
}

/// A chunked read of one query (Python: `chakra._chakra.ChunkCursor`).
#[pyclass(frozen, module = "chakra._chakra")]
pub struct ChunkCursor {
    info: Arc<ModelInfo>,
    annotations: Vec<String>,
    state: Arc<ChunkState>,
    deferred: Arc<[usize]>,
    deferred_names: Vec<Py<PyString>>,
}

impl ChunkCursor {
    /// A cursor over `mq`'s model rows, `size` per chunk (0 is `InvalidQuery`).
    /// `deferred` are the fields left unloaded (named `deferred_names`).
    pub fn new(
        info: Arc<ModelInfo>,
        mq: ModelQuery,
        size: u64,
        deferred: Arc<[usize]>,
        deferred_names: Vec<Py<PyString>>,
    ) -> PyResult<ChunkCursor> {
        let annotations = mq.annotations.iter().map(|(n, _)| n.clone()).collect();
        let chunks = Chunks::new(mq, size).map_err(err)?;
        Ok(ChunkCursor {
            info,
            annotations,
            state: Arc::new(ChunkState(Mutex::new(chunks))),
            deferred,
            deferred_names,
        })
    }
}

#[pymethods]
impl ChunkCursor {
    /// The job reading the next chunk (a list of instances), or `None` when the rows are
    /// exhausted.
    fn next_job(&self, target: &Bound<'_, PyAny>) -> PyResult<Option<Job>> {
        let next = self.state.0.lock().expect("chunk lock").next_query();
        let Some(q) = next else {
            return Ok(None);
        };
        let inner = if self.annotations.is_empty() {
            Finish::Models(self.info.clone())
        } else {
            let names = self
                .annotations
                .iter()
                .map(|n| PyString::intern(target.py(), n).unbind())
                .collect();
            Finish::Annotated(self.info.clone(), names)
        };
        let inner = if self.deferred_names.is_empty() {
            inner
        } else {
            let names = self
                .deferred_names
                .iter()
                .map(|n| n.clone_ref(target.py()))
                .collect();
            Finish::Deferred(Box::new(inner), names)
        };
        let mut select = q.select();
        chakra_dsl::deferred::apply(&mut select, &self.info.meta, &self.deferred);
        Ok(Some(Job::new(
            Op::Fetch(target_of(target)?, Statement::Select(select)),
            Finish::Chunk(self.state.clone(), Box::new(inner)),
        )))
    }
}

/// `InvalidQuery` for what `iterator()` does not stream.
pub fn unsupported(model: &str, what: &str) -> PyErr {
    err(Error::InvalidQuery(format!(
        "iterator() on {model} streams model rows; {what} is not supported with it yet: fetch with `await qs` instead"
    )))
}
