//! The statement-shape cache: the compiler's output for a statement whose shape was seen
//! before, with new values in its bind slots, so a repeated query (`User::get`) skips
//! building the IR and compiling it.
//!
//! A cached entry is exactly what [`super::compile`] produced the first time (there is one
//! compiler), and it is only reused where that output cannot depend on the data:
//!
//! - the caller names the shape ([`Shape`]: a model, a kind of statement, a dialect) and
//!   builds the statement from its values alone, each value bound once as a parameter;
//! - on a miss the compiled statement is kept only when it is cacheable and its binds are
//!   exactly the given values, in order, in the backend's storage form (a value the
//!   compiler rewrote, inlined or expanded would fail this check, and that shape is
//!   compiled every time);
//! - a hit needs values of the same types as the kept ones and no NULL (a NULL can compile
//!   to `IS NULL`); anything else is compiled afresh.
//!
//! The cache holds one entry per shape, so it is bounded by the number of models times the
//! kinds of statement, and never evicts.

use super::{compile, CompiledQuery, Dialect};
use chakra_dsl::{Result, Statement, Value, ValueType};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

/// Which statements of a model a cache entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShapeKind {
    /// Every field of the row with a given primary key (`Model::get`, `Tx::get`).
    GetByPk,
    /// The same, locked `FOR UPDATE` (`Tx::get_for_update`).
    GetByPkForUpdate,
}

/// The key of a cache entry: a model (its metadata's address, which lives as long as the
/// program), a kind of statement, a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    /// The model's metadata, by address.
    pub model: usize,
    /// The statement.
    pub kind: ShapeKind,
    /// The dialect it was compiled for.
    pub dialect: Dialect,
}

impl Shape {
    /// The shape `kind` of the model described by `meta` (a `&'static` metadata: derived
    /// models keep theirs for the whole program).
    pub fn of(
        meta: &'static Arc<chakra_dsl::ModelMeta>,
        kind: ShapeKind,
        dialect: Dialect,
    ) -> Self {
        Shape {
            model: Arc::as_ptr(meta) as usize,
            kind,
            dialect,
        }
    }
}

struct Entry {
    query: CompiledQuery,
    types: Vec<ValueType>,
}

static CACHE: LazyLock<RwLock<HashMap<Shape, Arc<Entry>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// A value as the dialect binds it (what [`super::writer::SqlWriter::bind`] stores).
pub fn storage_form(dialect: Dialect, v: Value) -> Value {
    dialect.sql().to_storage(v)
}

static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

/// How many [`compile_shape`] calls so far were served from the cache, and how many
/// compiled (process-wide counters, for tests and diagnostics).
pub fn stats() -> (u64, u64) {
    (HITS.load(Ordering::Relaxed), MISSES.load(Ordering::Relaxed))
}

/// The compiled statement of `shape` for `values`: from the cache when the shape was
/// compiled before with values of the same types, else `build(values)` compiled (and kept
/// when it qualifies, see the module documentation).
pub fn compile_shape(
    shape: Shape,
    values: Vec<Value>,
    build: impl FnOnce(Vec<Value>) -> Result<Statement>,
) -> Result<CompiledQuery> {
    let usable = !values.iter().any(Value::is_null);
    if usable {
        let entry = CACHE
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&shape)
            .cloned();
        if let Some(e) = entry {
            if e.types.len() == values.len()
                && e.types
                    .iter()
                    .zip(&values)
                    .all(|(t, v)| *t == v.value_type())
            {
                HITS.fetch_add(1, Ordering::Relaxed);
                return Ok(CompiledQuery {
                    dialect: e.query.dialect,
                    parts: Arc::clone(&e.query.parts),
                    binds: values
                        .into_iter()
                        .map(|v| storage_form(shape.dialect, v))
                        .collect(),
                    cacheable: true,
                    output: Arc::clone(&e.query.output),
                });
            }
        }
    }
    MISSES.fetch_add(1, Ordering::Relaxed);
    let types: Vec<ValueType> = values.iter().map(Value::value_type).collect();
    let expected: Vec<Value> = if usable {
        values
            .iter()
            .map(|v| storage_form(shape.dialect, v.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let q = compile(&build(values)?, shape.dialect)?;
    if usable && q.cacheable && q.binds == expected {
        CACHE.write().unwrap_or_else(|e| e.into_inner()).insert(
            shape,
            Arc::new(Entry {
                query: q.clone(),
                types,
            }),
        );
    }
    Ok(q)
}
