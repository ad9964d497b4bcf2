//! The typed-query cache: a model query's `SELECT` compiled once per shape
//! ([`super::query_shape`]: the model, the dialect, the filter tree, ordering and slice with
//! the data left out), so the second and later calls of `User::query().filter(…)…all()`
//! skip lowering the query to a `Select` and writing its text, and only collect the binds.
//!
//! How a cached text is kept correct:
//!
//! - The text is what [`super::compile`] wrote for the first query of the shape, and it is
//!   kept only when that compile was cacheable and the binds-only walk
//!   ([`super::writer::SqlWriter::binds_only`]) of the same query gave exactly its binds.
//! - A later query of the shape gets its binds from the same compiler code in binds-only
//!   mode (every value check, `LIKE` escaping, case folding, `IN` lists as one bind and
//!   storage forms as in a full compile), and is served only when those binds have the
//!   kept ones' types, NULL-ness and count; otherwise it is compiled in full.
//! - What the shape leaves out never changes the text: the expression kinds served are
//!   those whose text does not depend on a value's content (see [`super::query_shape`]).
//!
//! Bounded: at most [`CAPACITY`] shapes; past it the least recently used is dropped.
//! Lookups take a read lock for a hash probe and a comparison (no await under it);
//! inserting takes the write lock.

use super::query_shape::{blank_value, same_value_shape, shape_hash, Template};
use super::writer::SqlWriter;
use super::{compile, statement, CompiledQuery, Dialect};
use chakra_dsl::{ModelQuery, Result, Select, Source, Statement, Value, ValueType};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, RwLock};

/// The most shapes kept at once (all models and dialects together).
pub const CAPACITY: usize = 512;

struct Entry {
    dialect: Dialect,
    template: Template,
    parts: Arc<[String]>,
    output: Arc<[ValueType]>,
    /// The kept compile's binds with their data dropped: only their shapes are compared.
    binds: Vec<Value>,
    last_used: AtomicU64,
}

#[derive(Default)]
struct Cache {
    buckets: HashMap<u64, Vec<Arc<Entry>>>,
    len: usize,
}

static CACHE: LazyLock<RwLock<Cache>> = LazyLock::new(|| RwLock::new(Cache::default()));
static CLOCK: AtomicU64 = AtomicU64::new(0);
static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);
static UNSERVED: AtomicU64 = AtomicU64::new(0);

/// Counters of [`compile_select`] (process-wide, for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Served from a kept text, only the binds collected.
    pub hits: u64,
    /// Compiled in full (a new shape, or binds that did not fit the kept ones).
    pub misses: u64,
    /// Queries of a kind the cache does not serve (given back to the caller).
    pub unserved: u64,
    /// Shapes kept now.
    pub entries: usize,
}

/// The counters so far.
pub fn stats() -> CacheStats {
    CacheStats {
        hits: HITS.load(Relaxed),
        misses: MISSES.load(Relaxed),
        unserved: UNSERVED.load(Relaxed),
        entries: read().len,
    }
}

/// Drops every kept shape (tests, benchmarks measuring a cold cache).
pub fn clear() {
    *CACHE.write().unwrap_or_else(|e| e.into_inner()) = Cache::default();
}

fn read() -> std::sync::RwLockReadGuard<'static, Cache> {
    CACHE.read().unwrap_or_else(|e| e.into_inner())
}

/// What [`compile_select`] did with a query.
#[derive(Debug)]
pub enum Served {
    /// The query's `SELECT` of every field, compiled (from the cache or afresh).
    Compiled(CompiledQuery),
    /// A query of a kind the cache does not serve, given back unchanged.
    Unserved(Box<ModelQuery>),
}

/// The compiled `SELECT` of every field of `q` (what `compile(&Statement::Select(q.select()))`
/// gives), from the cache when a query of the same shape was compiled before; a query the
/// cache does not serve is handed back as [`Served::Unserved`].
pub fn compile_select(mut q: ModelQuery, dialect: Dialect) -> Result<Served> {
    let Some(hash) = shape_hash(&q, dialect) else {
        UNSERVED.fetch_add(1, Relaxed);
        return Ok(Served::Unserved(Box::new(q)));
    };
    let found = read().buckets.get(&hash).and_then(|bucket| {
        bucket
            .iter()
            .find(|e| e.dialect == dialect && e.template.matches(&q))
            .cloned()
    });
    let known = found.is_some();
    if let Some(e) = found {
        e.last_used.store(CLOCK.fetch_add(1, Relaxed), Relaxed);
        let sel = take_select(&mut q);
        let (binds, cacheable) = binds_of(&sel, dialect)?;
        if cacheable
            && binds.len() == e.binds.len()
            && binds
                .iter()
                .zip(&e.binds)
                .all(|(a, b)| same_value_shape(a, b))
        {
            HITS.fetch_add(1, Relaxed);
            return Ok(Served::Compiled(CompiledQuery {
                dialect,
                parts: Arc::clone(&e.parts),
                binds,
                cacheable: true,
                output: Arc::clone(&e.output),
            }));
        }
        put_back(&mut q, sel);
    }
    MISSES.fetch_add(1, Relaxed);
    let full = compile(&Statement::Select(q.select()), dialect)?;
    if full.cacheable && !known {
        let mut copy = q.clone();
        let (binds, _) = binds_of(&take_select(&mut copy), dialect)?;
        if binds == full.binds {
            insert(hash, dialect, &q, &full);
        }
    }
    Ok(Served::Compiled(full))
}

/// The parts of `q` the binds come from, moved into a `Select` with no columns and no
/// table name (the binds-only walk writes neither).
fn take_select(q: &mut ModelQuery) -> Select {
    let mut s = Select::from(Source::table(String::new()));
    s.filter = q.filter.take();
    s.order_by = std::mem::take(&mut q.order_by);
    s.limit = q.limit;
    s.offset = q.offset;
    s.distinct = q.distinct;
    s.distinct_on = std::mem::take(&mut q.distinct_on);
    s.lock = q.lock.take();
    s
}

fn put_back(q: &mut ModelQuery, s: Select) {
    q.filter = s.filter;
    q.order_by = s.order_by;
    q.distinct_on = s.distinct_on;
    q.lock = s.lock;
}

/// The binds the compiler writes for `s`, in order, and whether it stayed cacheable.
fn binds_of(s: &Select, dialect: Dialect) -> Result<(Vec<Value>, bool)> {
    let mut w = SqlWriter::binds_only(dialect);
    statement::select(&mut w, s)?;
    Ok(w.into_binds())
}

fn insert(hash: u64, dialect: Dialect, q: &ModelQuery, full: &CompiledQuery) {
    let entry = Arc::new(Entry {
        dialect,
        template: Template::of(q),
        parts: Arc::clone(&full.parts),
        output: Arc::clone(&full.output),
        binds: full.binds.iter().map(blank_value).collect(),
        last_used: AtomicU64::new(CLOCK.fetch_add(1, Relaxed)),
    });
    let mut cache = CACHE.write().unwrap_or_else(|e| e.into_inner());
    let present = cache.buckets.get(&hash).is_some_and(|b| {
        b.iter()
            .any(|e| e.dialect == dialect && e.template.matches(q))
    });
    if present {
        return;
    }
    if cache.len >= CAPACITY {
        evict_oldest(&mut cache);
    }
    cache.buckets.entry(hash).or_default().push(entry);
    cache.len += 1;
}

/// Drops the least recently used entry.
fn evict_oldest(cache: &mut Cache) {
    let oldest = cache
        .buckets
        .iter()
        .flat_map(|(h, b)| {
            b.iter()
                .enumerate()
                .map(move |(i, e)| (e.last_used.load(Relaxed), *h, i))
        })
        .min();
    if let Some((_, h, i)) = oldest {
        let bucket = cache.buckets.get_mut(&h).expect("the bucket just seen");
        bucket.swap_remove(i);
        if bucket.is_empty() {
            cache.buckets.remove(&h);
        }
        cache.len -= 1;
    }
}

#[cfg(test)]
#[path = "query_cache_tests.rs"]
mod tests;
