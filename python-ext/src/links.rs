//! Many-to-many links of one row (`post.tags.add(a, b)`, `remove`, `clear`, `set`): the
//! core's join-table statements (`relations::explicit::{linked, link, unlink}`), run on one
//! executor. Adding a link that exists is a no-op.

use crate::job::LinkOp;
use chakra::Executor;
use chakra_dsl::relations::explicit::{link, linked, unlink};
use chakra_dsl::relations::ResolvedRelation;
use chakra_dsl::{Result, Statement, Value};

fn dedup(values: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

async fn add<E: Executor>(
    exec: &mut E,
    rel: &ResolvedRelation,
    key: &Value,
    targets: Vec<Value>,
) -> Result<u64> {
    let targets = dedup(targets);
    if targets.is_empty() {
        return Ok(0);
    }
    let have = exec
        .fetch(&Statement::Select(linked(
            rel,
            key.clone(),
            targets.clone(),
        )?))
        .await?;
    let missing: Vec<Value> = targets
        .into_iter()
        .filter(|t| !have.iter().any(|r| r.first() == Some(t)))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    exec.execute(&Statement::Insert(link(rel, key.clone(), missing)?))
        .await
}

/// Applies `op` to the links of the row whose key is `key`; returns the join rows written
/// (add, set) or deleted (remove, clear).
pub async fn run<E: Executor>(
    exec: &mut E,
    rel: &ResolvedRelation,
    key: Value,
    op: LinkOp,
) -> Result<u64> {
    match op {
        LinkOp::Add(t) => add(exec, rel, &key, t).await,
        LinkOp::Remove(t) if t.is_empty() => Ok(0),
        LinkOp::Remove(t) => {
            exec.execute(&Statement::Delete(unlink(rel, key, Some(dedup(t)))?))
                .await
        }
        LinkOp::Clear => {
            exec.execute(&Statement::Delete(unlink(rel, key, None)?))
                .await
        }
        LinkOp::Set(t) => {
            exec.execute(&Statement::Delete(unlink(rel, key.clone(), None)?))
                .await?;
            let t = dedup(t);
            if t.is_empty() {
                return Ok(0);
            }
            exec.execute(&Statement::Insert(link(rel, key, t)?)).await
        }
    }
}
