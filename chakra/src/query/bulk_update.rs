//! `bulk_update` from the Rust front door: `chakra::bulk_update(&rows, (User::email(),
//! User::balance())).execute(&pool)` updates each row's fields by primary key in one
//! statement (the same one Python's `bulk_update(objs, fields)` builds); returns the count.

use crate::exec::Executor;
use crate::model::Model;
use chakra_dsl::typed::group::GroupKey;
use chakra_dsl::{bulk_update_rows, Error, Result, Statement};

/// Rows and the fields of them to write.
pub struct BulkUpdateRows<'a, M> {
    models: &'a [M],
    fields: Vec<String>,
}

/// Updates `fields` (one column or a tuple) of `models` by primary key (every key field of
/// a composite key, as Django 5.2's `bulk_update` on a `CompositePrimaryKey`).
pub fn bulk_update<M: Model, K: GroupKey<M>>(models: &[M], fields: K) -> BulkUpdateRows<'_, M> {
    BulkUpdateRows {
        models,
        fields: fields.columns().into_iter().map(|k| k.name).collect(),
    }
}

impl<M: Model> BulkUpdateRows<'_, M> {
    /// The statement [`BulkUpdateRows::execute`] runs (`None` without rows).
    pub fn statement(&self) -> Result<Option<Statement>> {
        if self.models.is_empty() {
            return Ok(None);
        }
        let meta = M::meta();
        let pk: Vec<usize> = meta
            .primary_key_fields()
            .iter()
            .filter_map(|f| meta.field_index(&f.name))
            .collect();
        if pk.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "{} has no primary key",
                M::NAME
            )));
        }
        let idx: Vec<usize> = self
            .fields
            .iter()
            .map(|n| meta.field_index(n).expect("typed columns are fields"))
            .collect();
        let rows = self
            .models
            .iter()
            .map(|m| {
                let values = m.to_values();
                let key = pk.iter().map(|&i| values[i].clone()).collect();
                (key, idx.iter().map(|&i| values[i].clone()).collect())
            })
            .collect();
        Ok(Some(Statement::BulkUpdate(bulk_update_rows(
            meta,
            &self.fields,
            rows,
        )?)))
    }

    /// Runs it; returns the number of rows updated.
    pub async fn execute<E: Executor>(self, mut exec: E) -> Result<u64> {
        match self.statement()? {
            Some(s) => exec.execute(&s).await,
            None => Ok(0),
        }
    }
}
