//! Running a [`LoadPlan`]: the main statement (joined relations split out of each row), then
//! one statement per prefetched relation and level, each binding the parents' keys as one
//! array. The result, [`Loaded`], is a tree of rows both front doors build their objects
//! from (Rust structs with `Related` fields, Python instances).

use crate::exec::{Executor, Row};
use chakra_dsl::load_plan::{Node, Prefetch};
use chakra_dsl::{LoadPlan, ModelMeta, Result, Statement, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Rows of one model and the relations loaded for them.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The model.
    pub meta: Arc<ModelMeta>,
    /// One row per object: the model's fields in declaration order.
    pub rows: Vec<Row>,
    /// The relations loaded for these rows.
    pub relations: Vec<LoadedRelation>,
}

/// One relation loaded for a set of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRelation {
    /// The attribute to store the related objects under.
    pub name: String,
    /// True for a relation to many rows (a list), false for one (an object or none).
    pub many: bool,
    /// The related rows.
    pub target: Loaded,
    /// For each parent row, the indexes of its related rows in `target.rows`.
    pub links: Vec<Vec<usize>>,
}

impl Loaded {
    /// How many times each row of this set is linked from `links` (a row used once can be
    /// moved into its object instead of copied).
    pub fn use_counts(links: &[Vec<usize>], n: usize) -> Vec<u32> {
        let mut uses = vec![0u32; n];
        for l in links {
            for &i in l {
                uses[i] += 1;
            }
        }
        uses
    }
}

/// A hashable form of a key value (integers of either width compare equal).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Other(String),
}

pub(crate) fn key_of(v: &Value) -> Option<Key> {
    Some(match v {
        Value::Null(_) => return None,
        Value::I32(x) => Key::Int(*x as i64),
        Value::I64(x) => Key::Int(*x),
        Value::Text(s) => Key::Text(s.clone()),
        Value::Bytes(b) => Key::Bytes(b.clone()),
        Value::Uuid(u) => Key::Bytes(u.as_bytes().to_vec()),
        other => Key::Other(other.to_string()),
    })
}

/// Runs `plan` on `exec`.
pub async fn run<E: Executor>(exec: &mut E, plan: &LoadPlan) -> Result<Loaded> {
    let rows = exec.fetch(&Statement::Select(plan.select.clone())).await?;
    let mut loaded = split(&plan.root, rows);
    prefetch_tree(exec, &plan.root, &mut loaded).await?;
    Ok(loaded)
}

/// Splits joined rows into the blocks of `node` and its joined relations.
fn split(node: &Node, rows: Vec<Row>) -> Loaded {
    if node.joined.is_empty() {
        let width = node.width();
        let rows = if rows.first().is_some_and(|r| r.len() == width) && node.offset == 0 {
            rows
        } else {
            rows.into_iter()
                .map(|r| r[node.offset..node.offset + width].to_vec())
                .collect()
        };
        return Loaded {
            meta: node.meta.clone(),
            rows,
            relations: Vec::new(),
        };
    }
    let mut relations = Vec::with_capacity(node.joined.len());
    for j in &node.joined {
        let mut links = Vec::with_capacity(rows.len());
        let mut present = Vec::new();
        for r in &rows {
            if r[j.key_column].is_null() {
                links.push(Vec::new());
            } else {
                links.push(vec![present.len()]);
                present.push(r.clone());
            }
        }
        relations.push(LoadedRelation {
            name: j.name.clone(),
            many: false,
            target: split(&j.node, present),
            links,
        });
    }
    let width = node.width();
    let own = rows
        .into_iter()
        .map(|mut r| {
            r.truncate(node.offset + width);
            if node.offset > 0 {
                r.drain(..node.offset);
            }
            r
        })
        .collect();
    Loaded {
        meta: node.meta.clone(),
        rows: own,
        relations,
    }
}

fn prefetch_tree<'a, E: Executor>(
    exec: &'a mut E,
    node: &'a Node,
    loaded: &'a mut Loaded,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        // Joined relations first: their rows may have prefetches of their own.
        for (j, rel) in node.joined.iter().zip(loaded.relations.iter_mut()) {
            prefetch_tree(exec, &j.node, &mut rel.target).await?;
        }
        for p in &node.prefetch {
            let rel = prefetch_one(exec, p, &loaded.rows).await?;
            loaded.relations.push(rel);
        }
        Ok(())
    })
}

async fn prefetch_one<E: Executor>(
    exec: &mut E,
    p: &Prefetch,
    parents: &[Row],
) -> Result<LoadedRelation> {
    let mut keys = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in parents {
        let v = &r[p.parent_key];
        if let Some(k) = key_of(v) {
            if seen.insert(k) {
                keys.push(v.clone());
            }
        }
    }
    let width = p.node.width();
    let mut rows = if keys.is_empty() {
        Vec::new()
    } else {
        exec.fetch(&p.statement(keys)).await?
    };
    // Group the related rows by the parent key each carries in its last column.
    let mut by_key: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter_mut().enumerate() {
        let k = r.pop().as_ref().and_then(key_of);
        if let Some(k) = k {
            by_key.entry(k).or_default().push(i);
        }
        r.truncate(width);
    }
    let links = parents
        .iter()
        .map(|r| {
            key_of(&r[p.parent_key])
                .and_then(|k| by_key.get(&k).cloned())
                .unwrap_or_default()
        })
        .collect();
    let mut target = Loaded {
        meta: p.node.meta.clone(),
        rows,
        relations: Vec::new(),
    };
    prefetch_tree(exec, &p.node, &mut target).await?;
    Ok(LoadedRelation {
        name: p.attr.clone(),
        many: p.rel.is_many(),
        target,
        links,
    })
}
