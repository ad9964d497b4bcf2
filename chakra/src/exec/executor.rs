//! [`Executor`]: what front doors run statements through, a [`Pool`] or a [`Transaction`].

use super::conn::Row;
use super::pool::Pool;
use super::row::NamedRows;
use super::scope::TxScope;
use super::transaction::Transaction;
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::error::MAX_GET_RESULTS;
use chakra_dsl::relations::Models;
use chakra_dsl::typed::ReadRow;
use chakra_dsl::{Error, ModelMeta, Result, Select, Statement};
use std::future::Future;

/// Something statements can run on.
pub trait Executor: Send {
    /// The SQL dialect.
    fn dialect(&self) -> Dialect;
    /// Runs a statement and returns its rows.
    fn fetch(&mut self, stmt: &Statement) -> impl Future<Output = Result<Vec<Row>>> + Send;
    /// Runs a statement and returns the affected-row count.
    fn execute(&mut self, stmt: &Statement) -> impl Future<Output = Result<u64>> + Send;
    /// Runs a compiled statement and returns its rows.
    fn fetch_compiled(
        &mut self,
        q: &CompiledQuery,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send;
    /// Runs a compiled statement and returns the affected-row count.
    fn execute_compiled(&mut self, q: &CompiledQuery) -> impl Future<Output = Result<u64>> + Send;
    /// Runs a compiled statement and returns its rows with their column names (raw SQL).
    fn fetch_named_compiled(
        &mut self,
        q: &CompiledQuery,
    ) -> impl Future<Output = Result<NamedRows>> + Send;
    /// Runs a statement and reads each row into an `M` by its generated row reader
    /// ([`ReadRow`]; on PostgreSQL straight from the wire, no [`chakra_dsl::Value`] per
    /// cell). The default reads [`Executor::fetch`]'s rows.
    fn fetch_models<M: ReadRow>(
        &mut self,
        stmt: &Statement,
    ) -> impl Future<Output = Result<Vec<M>>> + Send {
        async move {
            let rows = self.fetch(stmt).await?;
            rows.into_iter().map(M::from_values).collect()
        }
    }
    /// Runs a compiled statement and reads each row into an `M` by its generated row
    /// reader. The default reads [`Executor::fetch_compiled`]'s rows.
    fn fetch_compiled_models<M: ReadRow>(
        &mut self,
        q: &CompiledQuery,
    ) -> impl Future<Output = Result<Vec<M>>> + Send {
        async move {
            let rows = self.fetch_compiled(q).await?;
            rows.into_iter().map(M::from_values).collect()
        }
    }
    /// Deletes the rows of `meta` whose primary keys `keys` selects, doing what `models`
    /// declare for the rows referencing them (CASCADE, SET NULL), all or nothing: a pool
    /// runs it in a transaction of its own, a transaction in a savepoint
    /// ([`crate::query::delete_rules`]). Returns how many rows of `meta` were deleted.
    fn delete_with_rules(
        &mut self,
        keys: &Select,
        meta: &ModelMeta,
        models: &(dyn Models + Sync),
    ) -> impl Future<Output = Result<u64>> + Send;

    /// The transaction a write with model hooks runs in ([`TxScope`]): this executor's own
    /// (a transaction, a session's `Tx`), or a new one from a pool, which
    /// [`TxScope::finish`] commits or rolls back.
    fn tx_scope(&mut self) -> impl Future<Output = Result<TxScope<'_>>> + Send;

    /// Runs a select that must match exactly one row (`get()`): [`Error::NotFound`] when it
    /// matches none, [`Error::MultipleObjectsReturned`] when it matches several. At most
    /// [`MAX_GET_RESULTS`] rows are read. `detail` says what was looked for (`id=1`).
    fn fetch_one(
        &mut self,
        select: &Select,
        model: &str,
        detail: Option<String>,
    ) -> impl Future<Output = Result<Row>> + Send {
        let mut limited = select.clone();
        if limited.limit.is_none_or(|l| l > MAX_GET_RESULTS as u64) {
            limited.limit = Some(MAX_GET_RESULTS as u64);
        }
        let model = model.to_owned();
        async move {
            let mut rows = self.fetch(&Statement::Select(limited)).await?;
            match rows.len() {
                1 => Ok(rows.pop().expect("one row")),
                0 => Err(Error::NotFound { model, detail }),
                n => Err(Error::MultipleObjectsReturned { model, count: n }),
            }
        }
    }
}

impl Executor for &Pool {
    fn dialect(&self) -> Dialect {
        Pool::dialect(self)
    }
    async fn fetch(&mut self, stmt: &Statement) -> Result<Vec<Row>> {
        Pool::fetch(self, stmt).await
    }
    async fn execute(&mut self, stmt: &Statement) -> Result<u64> {
        Pool::execute(self, stmt).await
    }
    async fn fetch_compiled(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        Pool::fetch_compiled(self, q).await
    }
    async fn execute_compiled(&mut self, q: &CompiledQuery) -> Result<u64> {
        Pool::execute_compiled(self, q).await
    }
    async fn fetch_named_compiled(&mut self, q: &CompiledQuery) -> Result<NamedRows> {
        Pool::fetch_named_compiled(self, q).await
    }
    async fn fetch_models<M: ReadRow>(&mut self, stmt: &Statement) -> Result<Vec<M>> {
        Pool::fetch_models(self, stmt).await
    }
    async fn fetch_compiled_models<M: ReadRow>(&mut self, q: &CompiledQuery) -> Result<Vec<M>> {
        Pool::fetch_compiled_models(self, q).await
    }
    async fn delete_with_rules(
        &mut self,
        keys: &Select,
        meta: &ModelMeta,
        models: &(dyn Models + Sync),
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        match crate::query::delete_rules::delete_with_rules(&mut tx, keys, meta, models).await {
            Ok(n) => tx.commit().await.map(|()| n),
            Err(e) => {
                // The delete's error wins over a failure to roll back.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
    async fn tx_scope(&mut self) -> Result<TxScope<'_>> {
        Ok(TxScope::Own(Box::new(self.begin().await?)))
    }
}

impl Executor for Transaction {
    fn dialect(&self) -> Dialect {
        Transaction::dialect(self)
    }
    async fn fetch(&mut self, stmt: &Statement) -> Result<Vec<Row>> {
        Transaction::fetch(self, stmt).await
    }
    async fn execute(&mut self, stmt: &Statement) -> Result<u64> {
        Transaction::execute(self, stmt).await
    }
    async fn fetch_compiled(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        Transaction::fetch_compiled(self, q).await
    }
    async fn execute_compiled(&mut self, q: &CompiledQuery) -> Result<u64> {
        Transaction::execute_compiled(self, q).await
    }
    async fn fetch_named_compiled(&mut self, q: &CompiledQuery) -> Result<NamedRows> {
        Transaction::fetch_named_compiled(self, q).await
    }
    async fn fetch_models<M: ReadRow>(&mut self, stmt: &Statement) -> Result<Vec<M>> {
        if let Statement::Select(_) = stmt {
            let mut parts = crate::sql::compile_parts(stmt, self.dialect())?;
            if parts.len() == 1 {
                return self.fetch_compiled_models(&parts.remove(0)).await;
            }
        }
        let rows = Transaction::fetch(self, stmt).await?;
        rows.into_iter().map(M::from_values).collect()
    }
    async fn fetch_compiled_models<M: ReadRow>(&mut self, q: &CompiledQuery) -> Result<Vec<M>> {
        Transaction::fetch_compiled_models(self, q).await
    }
    async fn delete_with_rules(
        &mut self,
        keys: &Select,
        meta: &ModelMeta,
        models: &(dyn Models + Sync),
    ) -> Result<u64> {
        crate::query::delete_rules::delete_with_rules(self, keys, meta, models).await
    }
    async fn tx_scope(&mut self) -> Result<TxScope<'_>> {
        Ok(TxScope::Joined(self))
    }
}

/// A mutable borrow of an executor is one too (`User::get(&mut tx, 1)` on a raw
/// [`Transaction`]).
impl<E: Executor + ?Sized> Executor for &mut E {
    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }
    fn fetch(&mut self, stmt: &Statement) -> impl Future<Output = Result<Vec<Row>>> + Send {
        (**self).fetch(stmt)
    }
    fn execute(&mut self, stmt: &Statement) -> impl Future<Output = Result<u64>> + Send {
        (**self).execute(stmt)
    }
    fn fetch_compiled(
        &mut self,
        q: &CompiledQuery,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send {
        (**self).fetch_compiled(q)
    }
    fn execute_compiled(&mut self, q: &CompiledQuery) -> impl Future<Output = Result<u64>> + Send {
        (**self).execute_compiled(q)
    }
    fn fetch_named_compiled(
        &mut self,
        q: &CompiledQuery,
    ) -> impl Future<Output = Result<NamedRows>> + Send {
        (**self).fetch_named_compiled(q)
    }
    fn fetch_models<M: ReadRow>(
        &mut self,
        stmt: &Statement,
    ) -> impl Future<Output = Result<Vec<M>>> + Send {
        (**self).fetch_models(stmt)
    }
    fn fetch_compiled_models<M: ReadRow>(
        &mut self,
        q: &CompiledQuery,
    ) -> impl Future<Output = Result<Vec<M>>> + Send {
        (**self).fetch_compiled_models(q)
    }
    fn delete_with_rules(
        &mut self,
        keys: &Select,
        meta: &ModelMeta,
        models: &(dyn Models + Sync),
    ) -> impl Future<Output = Result<u64>> + Send {
        (**self).delete_with_rules(keys, meta, models)
    }
    fn tx_scope(&mut self) -> impl Future<Output = Result<TxScope<'_>>> + Send {
        (**self).tx_scope()
    }
}
