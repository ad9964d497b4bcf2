//! The writes a [`super::Session`] holds until commit, and how each is written inside the
//! commit's transaction.

use crate::exec::Transaction;
use crate::model::{write, Model};
use chakra_dsl::{Error, Result, Statement, Value};
use futures_util::future::BoxFuture;

/// A model the session will save, seen without its type.
pub trait Pendable: Send + Sync {
    /// Writes the model (UPDATE by key, or INSERT); returns the inserted row, if any.
    fn write<'t>(&'t self, tx: &'t mut Transaction) -> BoxFuture<'t, Result<Option<Vec<Value>>>>;
    /// Takes an inserted row back (generated key, database defaults).
    fn apply(&mut self, row: Vec<Value>) -> Result<()>;
}

impl<M: Model> Pendable for M {
    fn write<'t>(&'t self, tx: &'t mut Transaction) -> BoxFuture<'t, Result<Option<Vec<Value>>>> {
        Box::pin(async move {
            if !self.pk_is_unset() && tx.execute(&write::update_by_pk(self)?).await? > 0 {
                return Ok(None);
            }
            let mut rows = tx.fetch(&write::insert_one(self)?).await?;
            match (rows.pop(), rows.is_empty()) {
                (Some(row), true) => Ok(Some(row)),
                _ => Err(Error::InvalidQuery(format!(
                    "an insert of one {} did not return exactly one row",
                    M::NAME
                ))),
            }
        })
    }

    fn apply(&mut self, row: Vec<Value>) -> Result<()> {
        self.apply_row(row)
    }
}

/// One pending write.
pub enum Pending<'a> {
    /// Save this model.
    Save(&'a mut dyn Pendable),
    /// Delete a row by key.
    Delete {
        /// Builds the DELETE statement for the key.
        stmt: fn(Value) -> Result<Statement>,
        /// Model name, for the error when the row is gone.
        model: &'static str,
        /// The key.
        key: Value,
    },
}

impl Pending<'_> {
    /// A pending delete of `m`'s row.
    pub fn delete<M: Model>(m: &M) -> Self {
        Pending::Delete {
            stmt: write::delete_by_pk::<M>,
            model: M::NAME,
            key: m.pk_value(),
        }
    }
}

/// The pending writes of one commit, with the rows inserts returned.
pub struct PendingWork<'a> {
    items: Vec<Pending<'a>>,
    returned: Vec<Option<Vec<Value>>>,
}

impl<'a> PendingWork<'a> {
    /// Work for `items`.
    pub fn new(items: Vec<Pending<'a>>) -> Self {
        PendingWork {
            items,
            returned: Vec::new(),
        }
    }

    /// Writes every item in order: saves, and deletes (a delete that finds no row is an
    /// error).
    pub async fn write(&mut self, tx: &mut Transaction) -> Result<()> {
        self.returned.clear();
        for item in &self.items {
            match item {
                Pending::Save(m) => {
                    let row = m.write(tx).await?;
                    self.returned.push(row);
                }
                Pending::Delete { stmt, model, key } => {
                    if tx.execute(&stmt(key.clone())?).await? == 0 {
                        return Err(Error::NotFound {
                            model: (*model).to_owned(),
                            detail: Some(format!("delete of key {key}")),
                        });
                    }
                    self.returned.push(None);
                }
            }
        }
        Ok(())
    }

    /// After the commit: writes returned rows back into the saved models.
    pub fn apply_returned(&mut self) -> Result<()> {
        let returned = std::mem::take(&mut self.returned);
        for (item, row) in self.items.iter_mut().zip(returned) {
            if let (Pending::Save(m), Some(row)) = (item, row) {
                m.apply(row)?;
            }
        }
        Ok(())
    }

    /// The items, for putting back into the session after a failure.
    pub fn into_items(self) -> Vec<Pending<'a>> {
        self.items
    }
}
