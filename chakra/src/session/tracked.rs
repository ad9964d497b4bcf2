//! [`Tracked<M>`]: a row fetched in a transaction. It derefs to the model; when it is
//! dropped (or [`Tracked::into_inner`] is called) the fields that changed since it was
//! loaded are recorded, and the transaction writes them before it commits.

use super::tx::TxShared;
use crate::model::{write, Model};
use chakra_dsl::Value;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A model row whose field changes are written back by the transaction it came from.
pub struct Tracked<M: Model> {
    value: Option<M>,
    original: Vec<Value>,
    key: Value,
    tx: Arc<TxShared>,
}

impl<M: Model + std::fmt::Debug> std::fmt::Debug for Tracked<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Tracked").field(&self.value).finish()
    }
}

impl<M: Model> Tracked<M> {
    pub(crate) fn new(value: M, tx: Arc<TxShared>) -> Self {
        Tracked {
            original: value.to_values(),
            key: value.pk_value(),
            value: Some(value),
            tx,
        }
    }

    /// Records the pending changes now and returns the model (no longer tracked).
    pub fn into_inner(mut self) -> M {
        self.record();
        self.value.take().expect("tracked value present until drop")
    }

    /// The fields changed since the row was loaded, as (field index, new value).
    pub fn changes(&self) -> Vec<(usize, Value)> {
        let Some(v) = &self.value else {
            return Vec::new();
        };
        v.to_values()
            .into_iter()
            .zip(&self.original)
            .enumerate()
            .filter(|(_, (now, was))| now != *was)
            .map(|(i, (now, _))| (i, now))
            .collect()
    }

    fn record(&mut self) {
        let changes = self.changes();
        if changes.is_empty() {
            return;
        }
        self.original = match &self.value {
            Some(v) => v.to_values(),
            None => return,
        };
        self.tx
            .record(write::update_fields::<M>(self.key.clone(), changes));
    }
}

impl<M: Model> Deref for Tracked<M> {
    type Target = M;
    fn deref(&self) -> &M {
        self.value
            .as_ref()
            .expect("tracked value present until drop")
    }
}

impl<M: Model> DerefMut for Tracked<M> {
    fn deref_mut(&mut self) -> &mut M {
        self.value
            .as_mut()
            .expect("tracked value present until drop")
    }
}

impl<M: Model> Drop for Tracked<M> {
    fn drop(&mut self) {
        if self.value.is_some() {
            self.record();
        }
    }
}
