//! Django's `get_or_create` / `update_or_create` on [`Query`], the Rust twins of the Python
//! door's: the row the query matches, or a new one. The write goes through the model's save
//! path (`Hooks::validate`, `auto_now` fields, `pre_save`/`post_save` under
//! `#[chakra(hooks)]`) inside one transaction with its hooks: the executor's own, or one
//! opened for it. A new row is always INSERTed (never an UPDATE of a row with its key, as
//! `save` would); when it loses a race to a concurrent creator (a unique violation), its
//! write is rolled back (a savepoint in a transaction that goes on, as Django's nested
//! `atomic`) and the winner's row is read instead.

use super::Query;
use crate::exec::{Executor, Transaction, TxScope};
use crate::model::hooks::Hook;
use crate::model::{write, Model};
use chakra_dsl::{Error, Result};

impl<M: Model> Query<M> {
    /// `(row, false)` for the one row the query matches, else `(make(), true)` once `make()`
    /// is inserted (Django's `get_or_create`). The read runs on `exec`; the insert, with
    /// the model's save hooks (`created` true), in `exec`'s transaction or one of its own.
    /// A concurrent insert of the same row (a unique violation) gives the row it inserted,
    /// `created` false. [`Error::MultipleObjectsReturned`] when several rows match.
    ///
    /// ```no_run
    /// # use chakra::prelude::*;
    /// # #[derive(Debug, Clone, Model)]
    /// # #[chakra(table = "users")]
    /// # struct User { #[chakra(primary_key, auto_increment)] id: i64, #[chakra(unique)] username: String }
    /// # async fn demo(pool: &Pool) -> chakra::Result<()> {
    /// let (user, created) = User::query()
    ///     .filter(User::username().eq("yves"))
    ///     .get_or_create(pool, || User { id: 0, username: "yves".into() })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_or_create<E, F>(self, mut exec: E, make: F) -> Result<(M, bool)>
    where
        E: Executor,
        F: FnOnce() -> M,
    {
        match self.clone().one(&mut exec).await {
            Ok(found) => return Ok((found, false)),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let mut scope = exec.tx_scope().await?;
        // In the caller's transaction the INSERT runs in a savepoint (a unique violation
        // must not end that transaction); in one of its own, a failure rolls it all back.
        let joined = !matches!(scope, TxScope::Own(_));
        let r = async {
            let tx = scope.tx()?;
            if joined {
                return create_or_find(self.clone(), tx, make(), |q| q).await;
            }
            let mut new = make();
            insert_hooked(&mut new, tx).await.map(|()| (new, true))
        }
        .await;
        match scope.finish(r).await {
            Err(e @ Error::UniqueViolation(_)) if !joined => match self.one(&mut exec).await {
                Ok(found) => Ok((found, false)),
                Err(Error::NotFound { .. }) => Err(e),
                Err(other) => Err(other),
            },
            other => other,
        }
    }

    /// `(row, false)` for the one row the query matches, read with a row lock
    /// (`SELECT … FOR UPDATE`; SQLite's write lock) and saved after `update` changed it,
    /// else `(row, true)` for `make()` changed by `update` and inserted (Django's
    /// `update_or_create`, `update` standing for its `defaults`). The read and the write
    /// run in one transaction with the model's save hooks (`created` false or true): the
    /// executor's, or one of its own. A concurrent insert of the same row (a unique
    /// violation) is read back (locked) and updated instead.
    ///
    /// ```no_run
    /// # use chakra::prelude::*;
    /// # #[derive(Debug, Clone, Model)]
    /// # #[chakra(table = "users")]
    /// # struct User { #[chakra(primary_key, auto_increment)] id: i64, #[chakra(unique)] username: String, balance: i64 }
    /// # async fn demo(pool: &Pool) -> chakra::Result<()> {
    /// let (user, created) = User::query()
    ///     .filter(User::username().eq("yves"))
    ///     .update_or_create(
    ///         pool,
    ///         || User { id: 0, username: "yves".into(), balance: 0 },
    ///         |u| u.balance = 10,
    ///     )
    ///     .await?;
    /// assert_eq!(user.balance, 10);
    /// # Ok(()) }
    /// ```
    pub async fn update_or_create<E, C, U>(
        self,
        mut exec: E,
        make: C,
        update: U,
    ) -> Result<(M, bool)>
    where
        E: Executor,
        C: FnOnce() -> M,
        U: Fn(&mut M),
    {
        let mut scope = exec.tx_scope().await?;
        let r = async {
            let tx = scope.tx()?;
            if let Some(mut found) = self.clone().locked_one(tx).await? {
                update(&mut found);
                found.save(&mut *tx).await?;
                return Ok((found, false));
            }
            let mut new = make();
            update(&mut new);
            let (mut row, created) = create_or_find(self, tx, new, |q| q.for_update()).await?;
            if !created {
                update(&mut row);
                row.save(&mut *tx).await?;
            }
            Ok((row, created))
        }
        .await;
        scope.finish(r).await
    }

    /// The one row the query matches, locked (`FOR UPDATE`), or `None`;
    /// [`Error::MultipleObjectsReturned`] (counted without the lock) when several do.
    async fn locked_one(self, tx: &mut Transaction) -> Result<Option<M>> {
        let mut rows = self.clone().for_update().limit(2).all(&mut *tx).await?;
        match rows.len() {
            0 => Ok(None),
            1 => Ok(rows.pop()),
            _ => self.one(&mut *tx).await.map(Some),
        }
    }
}

/// Inserts `m` in a savepoint of `tx`, with its save hooks: `(m, true)`. On a unique
/// violation the savepoint is rolled back and the row `q` (narrowed by `read`) matches is
/// returned, `(row, false)`; when none does, the violation is returned. Any other error
/// rolls back to the savepoint and is returned unchanged.
async fn create_or_find<M: Model>(
    q: Query<M>,
    tx: &mut Transaction,
    mut m: M,
    read: impl FnOnce(Query<M>) -> Query<M>,
) -> Result<(M, bool)> {
    tx.savepoint().await?;
    match insert_hooked(&mut m, tx).await {
        Ok(()) => {
            tx.release_savepoint().await?;
            Ok((m, true))
        }
        Err(e) => {
            tx.rollback_to_savepoint().await?;
            if !matches!(e, Error::UniqueViolation(_)) {
                return Err(e);
            }
            match read(q).one(&mut *tx).await {
                Ok(found) => Ok((found, false)),
                Err(Error::NotFound { .. }) => Err(e),
                Err(other) => Err(other),
            }
        }
    }
}

/// Inserts `m` (never an UPDATE) as `save` writes a new row: `pre_save`, `validate`,
/// `auto_now`/`auto_now_add`, the INSERT (its row written back), `post_save(created =
/// true)`, all in `tx`.
async fn insert_hooked<M: Model>(m: &mut M, tx: &mut Transaction) -> Result<()> {
    if M::HOOKED {
        m.run_hook(Hook::PreSave, tx).await?;
    }
    m.full_clean()?;
    m.apply_auto_now(&M::meta().auto_now_values(true))?;
    let rows = tx.fetch(&write::insert_one(m)?).await?;
    write::apply_returned(m, rows)?;
    if M::HOOKED {
        m.run_hook(Hook::PostSave { created: true }, tx).await?;
    }
    Ok(())
}
