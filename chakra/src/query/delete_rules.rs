//! `delete()` carrying out the models' declared `on_delete` rules in the ORM (Django's
//! behaviour): the keys of the rows to delete are read first, then the referencing rows are
//! deleted (CASCADE) or detached (SET NULL), deepest first, then the rows themselves, all
//! in one transaction (a savepoint inside the caller's). The statements are
//! [`chakra_dsl::relations::on_delete::delete_steps`].

use crate::exec::Transaction;
use crate::query::raw_fetch;
use crate::sql::Dialect;
use chakra_dsl::model_query::field_expr;
use chakra_dsl::relations::on_delete::{delete_steps, dependent_tables};
use chakra_dsl::relations::Models;
use chakra_dsl::{Error, ModelMeta, ModelQuery, Result, Select, SelectItem, Statement};

/// Keys per batch of steps (each batch binds this many values at most).
const KEYS_PER_BATCH: usize = 5000;

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
    tx.savepoint().await?;
    match steps(tx, keys, meta, models).await {
        Ok(n) => {
            tx.release_savepoint().await?;
            Ok(n)
        }
        Err(e) => {
            // The statement's error wins over a failure to roll back.
            let _ = tx.rollback_to_savepoint().await;
            Err(e)
        }
    }
}

async fn steps(
    tx: &mut Transaction,
    keys: &Select,
    meta: &ModelMeta,
    models: &(dyn Models + Sync),
) -> Result<u64> {
    let mut present = Vec::new();
    for table in dependent_tables(models, meta) {
        let sql = match tx.dialect() {
            Dialect::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
            Dialect::Postgres => {
                "SELECT 1 FROM information_schema.tables WHERE table_name = $1 \
                 AND table_schema = ANY (current_schemas(false))"
            }
        };
        let found = raw_fetch(sql).bind(table.clone()).all(&mut *tx).await?;
        if !found.rows.is_empty() {
            present.push(table);
        }
    }
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
    let pk = q.meta.primary_key().ok_or_else(|| {
        Error::InvalidQuery(format!(
            "{} has no primary key, so its on_delete rules cannot be carried out",
            q.meta.name
        ))
    })?;
    let mut keys = q.select();
    keys.columns = vec![SelectItem::new(field_expr(&q.meta, pk), pk.ty.value_type())];
    Ok(keys)
}
