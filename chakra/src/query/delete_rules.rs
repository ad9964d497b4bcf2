//! `delete()` carrying out the models' declared `on_delete` rules in the ORM (Django's
//! behaviour): the keys of the rows to delete are read first, then the referencing rows are
//! deleted (CASCADE) or detached (SET NULL), deepest first, then the rows themselves, all
//! in one transaction (a savepoint inside the caller's). The statements are
//! [`chakra_dsl::relations::on_delete::delete_steps`].
//!
//! Every Rust delete path goes through [`delete_rows`]: `Query::delete`, `Query::delete_in`,
//! `Model::delete` and a `Session`'s pending deletes; Python's `delete()` runs
//! [`delete_with_rules`] too. A model that no registered model references with CASCADE or
//! SET NULL is deleted with one `DELETE`, as before.
//!
//! Steps are only written for tables the database holds (a registered model need not have
//! its table in every database). Which tables exist is asked once per table and pool
//! ([`crate::exec::KnownTables`]): a delete after the first costs no extra round trip. A
//! table remembered as present but dropped since makes a step fail; the whole delete is then
//! rolled back to its savepoint and run once more with the tables asked again.

use crate::exec::{Executor, KnownTables, Transaction};
use crate::query::raw_fetch;
use crate::sql::Dialect;
use chakra_dsl::model_query::field_expr;
use chakra_dsl::relations::on_delete::{delete_steps, dependent_tables, has_delete_actions};
use chakra_dsl::relations::Models;
use chakra_dsl::{Error, ModelMeta, ModelQuery, Result, Select, SelectItem, Statement, Value};

/// Keys per batch of steps (each batch binds this many values at most).
const KEYS_PER_BATCH: usize = 5000;

/// Deletes the rows `q` matches through `exec`, doing what the models in `models` declare
/// for the rows that reference them (see the module documentation): one `DELETE` when no
/// model references `q`'s model with CASCADE or SET NULL, else the ORM's steps in one
/// transaction (a pool) or one savepoint (a transaction). Returns how many rows of `q`'s
/// model were deleted.
pub async fn delete_rows<E: Executor>(
    exec: &mut E,
    q: &ModelQuery,
    models: &(dyn Models + Sync),
) -> Result<u64> {
    if q.meta.primary_key().is_none() || !has_delete_actions(models, &q.meta) {
        return exec.execute(&q.delete()?).await;
    }
    let keys = keys_select(q)?;
    exec.delete_with_rules(&keys, &q.meta, models).await
}

/// The Rust door's delete: [`delete_rows`] with the models of this binary (the registry),
/// whether `q`'s model needs the ORM's steps known once per model
/// ([`crate::model::registry::deletes_with_rules`]).
pub async fn delete_registered<E: Executor>(
    exec: &mut E,
    meta: &'static std::sync::Arc<ModelMeta>,
    q: &ModelQuery,
) -> Result<u64> {
    if !crate::model::registry::deletes_with_rules(meta) {
        return exec.execute(&q.delete()?).await;
    }
    let models = crate::model::registry::models_with(meta);
    let keys = keys_select(q)?;
    exec.delete_with_rules(&keys, &q.meta, &models).await
}

/// Deletes the rows of `meta` whose primary keys `keys` selects (a one-column select of
/// the key), with every CASCADE / SET NULL of the models in `models` done by the ORM,
/// inside a savepoint of `tx`: on any failure every step is undone. Returns how many rows
/// of `meta` were deleted.
pub async fn delete_with_rules(
    tx: &mut Transaction,
    keys: &Select,
    meta: &ModelMeta,
    models: &(dyn Models + Sync),
) -> Result<u64> {
    let known = tx.known_tables().unwrap_or_default();
    match in_savepoint(tx, keys, meta, models, &known).await {
        Err(Attempt::WithRemembered(e, remembered)) if names_missing_table(&e) => {
            // A remembered table may have been dropped since: ask again, once.
            known.forget(&remembered);
            in_savepoint(tx, keys, meta, models, &known)
                .await
                .map_err(Attempt::into_error)
        }
        other => other.map_err(Attempt::into_error),
    }
}

/// True when `e` is the database saying a table does not exist (SQLite's `no such table`,
/// PostgreSQL's `relation … does not exist`, MySQL's error 1146 as its room reports it).
fn names_missing_table(e: &Error) -> bool {
    let m = e.to_string();
    m.contains("no such table")
        || (m.contains("relation \"") && m.contains("does not exist"))
        || m.contains("(error 1146)")
}

/// How one attempt failed: its error, and the tables it took as present from memory
/// without asking (empty when every table was asked).
enum Attempt {
    Asked(Error),
    WithRemembered(Error, Vec<String>),
}

impl Attempt {
    fn into_error(self) -> Error {
        match self {
            Attempt::Asked(e) | Attempt::WithRemembered(e, _) => e,
        }
    }
}

async fn in_savepoint(
    tx: &mut Transaction,
    keys: &Select,
    meta: &ModelMeta,
    models: &(dyn Models + Sync),
    known: &KnownTables,
) -> std::result::Result<u64, Attempt> {
    tx.savepoint().await.map_err(Attempt::Asked)?;
    let mut remembered = Vec::new();
    let result = steps(tx, keys, meta, models, known, &mut remembered).await;
    match result {
        Ok(n) => {
            tx.release_savepoint().await.map_err(Attempt::Asked)?;
            Ok(n)
        }
        Err(e) => {
            // The statement's error wins over a failure to roll back.
            let _ = tx.rollback_to_savepoint().await;
            Err(if remembered.is_empty() {
                Attempt::Asked(e)
            } else {
                Attempt::WithRemembered(e, remembered)
            })
        }
    }
}

/// The tables of `tables` the database holds: those remembered in `known` (added to
/// `remembered`), and the others asked in one query (the present ones then remembered).
async fn present_tables(
    tx: &mut Transaction,
    tables: Vec<String>,
    known: &KnownTables,
    remembered: &mut Vec<String>,
) -> Result<Vec<String>> {
    let (mut present, ask): (Vec<String>, Vec<String>) =
        tables.into_iter().partition(|t| known.contains(t));
    remembered.extend(present.iter().cloned());
    if ask.is_empty() {
        return Ok(present);
    }
    let sql = match tx.dialect() {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name IN (SELECT value FROM json_each($1))"
        }
        Dialect::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_name IN (SELECT json_array_elements_text($1::json)) \
             AND table_schema = ANY (current_schemas(false))"
        }
        Dialect::Mysql => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name IN \
             (SELECT j.name FROM JSON_TABLE($1, '$[*]' COLUMNS (name VARCHAR(64) PATH '$')) AS j)"
        }
    };
    let names = serde_json::to_string(&ask).map_err(|e| Error::InvalidQuery(e.to_string()))?;
    let found = raw_fetch(sql).bind(names).all(&mut *tx).await?;
    for row in found.rows {
        if let Some(Value::Text(t)) = row.into_iter().next() {
            if ask.contains(&t) && !present.contains(&t) {
                known.insert(&t);
                present.push(t);
            }
        }
    }
    Ok(present)
}

async fn steps(
    tx: &mut Transaction,
    keys: &Select,
    meta: &ModelMeta,
    models: &(dyn Models + Sync),
    known: &KnownTables,
    remembered: &mut Vec<String>,
) -> Result<u64> {
    let present = present_tables(tx, dependent_tables(models, meta), known, remembered).await?;
    let present = |t: &str| present.iter().any(|p| p == t);
    let rows = tx.fetch(&Statement::Select(keys.clone())).await?;
    let keys: Vec<_> = rows
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect();
    let mut deleted = 0;
    for batch in keys.chunks(KEYS_PER_BATCH) {
        let stmts = delete_steps(models, meta, batch.to_vec(), &present);
        let last = stmts.len().saturating_sub(1);
        for (i, stmt) in stmts.iter().enumerate() {
            let n = tx.execute(stmt).await?;
            if i == last {
                deleted += n;
            }
        }
    }
    Ok(deleted)
}

/// The one-column select of the primary keys of the rows `q` matches (its filter, order
/// and slice); [`Error::InvalidQuery`] for a model
/// without a primary key.
pub fn keys_select(q: &ModelQuery) -> Result<Select> {
    let pk = q
        .meta
        .single_key("carrying out on_delete rules (a delete that cascades)")?;
    let mut keys = q.select();
    keys.columns = vec![SelectItem::new(field_expr(&q.meta, pk), pk.ty.value_type())];
    Ok(keys)
}
