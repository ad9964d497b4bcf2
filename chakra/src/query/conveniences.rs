//! Django's everyday helpers on [`Query`], the Rust twins of the Python door's: `none`,
//! `in_bulk`, `latest` / `earliest`. Each is a composition of the query's own statements, so
//! it means the same on every backend (`docs/queries.md`, "Everyday helpers").

use super::Query;
use crate::exec::Executor;
use crate::model::Model;
use chakra_dsl::model_query::{field_expr, pk_filter_values};
use chakra_dsl::typed::{Column, ColumnType, KeyType};
use chakra_dsl::{Error, Expr, Result};
use std::collections::HashMap;
use std::hash::Hash;

/// Keys per statement of [`Query::in_bulk`] on a composite primary key (4 key fields times
/// 500 keys stay under every backend's bound-parameter limit).
pub const IN_BULK_COMPOSITE_CHUNK: usize = 500;

impl<M: Model> Query<M> {
    /// A query matching no row (Django's `none()`): every terminal method answers as over an
    /// empty table, and any further filter keeps it empty. One statement with `WHERE FALSE`
    /// still runs, so the answer has the same shape on every backend.
    pub fn none(mut self) -> Self {
        self.inner = self.inner.filter(Expr::Bool(false));
        self
    }

    /// The matching rows whose primary key is in `keys`, by key (Django's `in_bulk`): keys
    /// without a row are absent; an empty `keys` sends no statement. A composite key's keys
    /// are tuples (Django 5.2's `CompositePrimaryKey`), read [`IN_BULK_COMPOSITE_CHUNK`] keys
    /// per statement, each `(k1 = ? AND k2 = ?) OR …`.
    pub async fn in_bulk<E, I>(self, mut exec: E, keys: I) -> Result<HashMap<M::PrimaryKey, M>>
    where
        E: Executor,
        I: IntoIterator<Item = M::PrimaryKey>,
        M::PrimaryKey: Eq + Hash,
    {
        let keys: Vec<Vec<_>> = keys.into_iter().map(|k| k.key_values()).collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        if self.inner.limit.is_some() || self.inner.offset.is_some() {
            return Err(Error::InvalidQuery(format!(
                "in_bulk() on a sliced {} query: filter instead of limit/offset",
                M::NAME
            )));
        }
        let meta = M::meta();
        if meta.has_composite_key() {
            let mut out = HashMap::with_capacity(keys.len());
            for chunk in keys.chunks(IN_BULK_COMPOSITE_CHUNK) {
                let cond = Expr::Or(
                    chunk
                        .iter()
                        .map(|k| pk_filter_values(meta, k.clone()))
                        .collect::<Result<_>>()?,
                );
                let mut q = self.clone();
                q.inner = q.inner.filter(cond);
                let rows = q.fetch_models(&mut exec).await?;
                out.extend(rows.into_iter().map(|m| (m.pk(), m)));
            }
            return Ok(out);
        }
        let values: Vec<_> = keys.into_iter().flatten().collect();
        let pk = meta.single_key("in_bulk()")?;
        let cond = Expr::In {
            expr: Box::new(field_expr(meta, pk)),
            values,
        };
        let mut q = self;
        q.inner = q.inner.filter(cond);
        let rows = q.fetch_models(&mut exec).await?;
        Ok(rows.into_iter().map(|m| (m.pk(), m)).collect())
    }

    /// The row with the greatest `col` (Django's `latest`); [`Error::NotFound`] when no row
    /// matches. Other orderings of the query are replaced.
    pub async fn latest<T: ColumnType, E: Executor>(self, exec: E, col: Column<M, T>) -> Result<M> {
        self.extreme(exec, col, true).await
    }

    /// The row with the smallest `col` (Django's `earliest`); [`Error::NotFound`] when no row
    /// matches.
    pub async fn earliest<T: ColumnType, E: Executor>(
        self,
        exec: E,
        col: Column<M, T>,
    ) -> Result<M> {
        self.extreme(exec, col, false).await
    }

    async fn extreme<T: ColumnType, E: Executor>(
        mut self,
        exec: E,
        col: Column<M, T>,
        desc: bool,
    ) -> Result<M> {
        let which = if desc { "latest" } else { "earliest" };
        if self.inner.limit.is_some() || self.inner.offset.is_some() {
            return Err(Error::InvalidQuery(format!(
                "{which}() on a sliced {} query",
                M::NAME
            )));
        }
        self.inner.clear_order();
        let q = self.order_by(if desc { col.desc() } else { col.asc() });
        q.first(exec).await?.ok_or_else(|| Error::NotFound {
            model: M::NAME.to_owned(),
            detail: Some(format!("{which}({})", col.field_name())),
        })
    }
}
