//! [`Tracked<M>`]: a row fetched in a transaction. It derefs to the model; when it is
//! dropped (or [`Tracked::into_inner`] is called) the fields that changed since it was
//! loaded are recorded, and the transaction writes them before it commits, with a
//! compare-and-set UPDATE ([`chakra_dsl::tracked`]): when another transaction changed those
//! columns (or the version column) in between, the commit fails with
//! [`chakra_dsl::Error::ConcurrentUpdate`] instead of overwriting them. A changed row is
//! validated (`Hooks::validate`) and its `auto_now` fields are set when its changes are
//! recorded (an invalid row fails the commit with [`chakra_dsl::Error::Validation`]). A
//! changed row of a model with hooks (`#[chakra(hooks)]`) gets `Hooks::pre_save` and
//! `Hooks::post_save` (`created` false) around its UPDATE when the transaction writes it.

use super::pending::Pendable;
use super::tx::{DirtyWrite, TxShared};
use crate::model::Model;
use chakra_dsl::tracked::{guarded_update, Change};
use chakra_dsl::{Error, Value};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A model row whose field changes are written back by the transaction it came from.
pub struct Tracked<M: Model> {
    value: Option<M>,
    original: Vec<Value>,
    /// One value per key field (several for a composite key).
    key: Vec<Value>,
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
            key: value.pk_values(),
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
        let Some(v) = &mut self.value else {
            return;
        };
        let mut now = v.to_values();
        if now == self.original {
            return;
        }
        let meta = M::meta();
        // A changed row is validated, and its `auto_now` fields are set and written with its
        // changes, as `save` and Python's session do.
        let mut refused = v.full_clean().err();
        let stamps = meta.auto_now_values(false);
        if !stamps.is_empty() {
            if let Err(e) = v.apply_auto_now(&stamps) {
                refused.get_or_insert(e);
            }
            now = v.to_values();
        }
        let changes: Vec<Change> = now
            .iter()
            .zip(&self.original)
            .enumerate()
            .filter(|(_, (n, was))| n != was)
            .map(|(field, (n, was))| Change {
                field,
                new: n.clone(),
                read: was.clone(),
            })
            .collect();
        let version = meta.version_field().map(|(i, _)| i);
        let stmt = match refused {
            Some(e) => Err(e),
            None => guarded_update(
                meta,
                self.key.clone(),
                &changes,
                version.map(|i| self.original[i].clone()),
            ),
        };
        let stmt = match stmt {
            Ok((stmt, new_version)) => {
                if let (Some(i), Some(nv)) = (version, new_version) {
                    now[i] = nv;
                    // The object holds the version the database will hold after the write.
                    if let Err(e) = v.apply_row(now.clone()) {
                        tracing::warn!(target: "chakra::sql", error = %e, "cannot set the version field");
                    }
                }
                Ok(stmt)
            }
            Err(e) => Err(e),
        };
        // A model with hooks: a copy of the row as written (its column fields, not its
        // loaded relations) for its save hooks at flush.
        let (stmt, hooks) = match (stmt, M::HOOKED) {
            (Ok(stmt), true) => match M::from_row(now.clone()) {
                Ok(copy) => (Ok(stmt), Some(Box::new(copy) as Box<dyn Pendable>)),
                Err(e) => (
                    Err(Error::InvalidQuery(format!(
                        "the save hooks of {} cannot see the object: {e}",
                        M::NAME
                    ))),
                    None,
                ),
            },
            (stmt, _) => (stmt, None),
        };
        self.original = now;
        self.tx.record(DirtyWrite {
            depth: 0,
            model: M::NAME,
            table: meta.table.clone(),
            key: self.key.clone(),
            stmt,
            hooks,
        });
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
