//! Model hooks: [`Hooks::validate`], the check a model runs on itself before it is written
//! (Python's `clean()`), its errors per field ([`ValidationErrors`]), and the hooks around
//! writes ([`Hooks::pre_save`], [`Hooks::post_save`], [`Hooks::pre_delete`],
//! [`Hooks::post_delete`]), which run inside the write's transaction. A model opts in with
//! `#[chakra(hooks)]` and an `impl Hooks for …`; without it nothing is called.

use crate::exec::Transaction;
use chakra_dsl::Error;
use std::collections::BTreeMap;
use std::future::Future;

/// The key of messages about the object as a whole, not one field (Django's
/// `NON_FIELD_ERRORS`).
pub const NON_FIELD: &str = "__all__";

/// Messages per field name, gathered by [`Hooks::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    errors: BTreeMap<String, Vec<String>>,
}

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a message about `field` (an attribute name, or [`NON_FIELD`]).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) -> &mut Self {
        self.errors
            .entry(field.into())
            .or_default()
            .push(message.into());
        self
    }

    /// True when no message was added.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(())` when empty, else the errors (the usual last line of a `validate`).
    pub fn result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// The messages per field.
    pub fn errors(&self) -> &BTreeMap<String, Vec<String>> {
        &self.errors
    }

    /// The [`Error::Validation`] naming `model`.
    pub fn into_error(self, model: &str) -> Error {
        Error::Validation {
            model: model.to_owned(),
            errors: self.errors,
        }
    }
}

/// What a model runs on itself around its writes; every method defaults to doing nothing.
/// Derive with `#[chakra(hooks)]` for the writes to call it: `validate` by `save`,
/// `save_fields`, `insert_many`, `insert_all` and a `Session`'s commit; the save hooks by
/// `save`, `save_fields`, `Query::get_or_create` / `Query::update_or_create` when they
/// write, a `Session`'s commit and a changed [`crate::session::Tracked`]
/// row when its transaction writes it (`created` false; its `validate` ran when its
/// changes were recorded, so before `pre_save`), the delete hooks by `delete` and a
/// `Session`'s commit. The bulk paths (`insert_many`, `insert_all`, `Query::update`,
/// `Query::delete`) call no save or delete hook, as in Django.
///
/// The save and delete hooks get the transaction the write runs in (`tx`: statements run on
/// it commit or roll back with the write). With no surrounding transaction (`save(&pool)`)
/// the write opens one of its own for itself and its hooks; an `Err` from a hook is
/// returned unchanged, and the write is rolled back (`pre_*`: it never runs).
pub trait Hooks {
    /// Checks the object before it is written: `Err` with messages per field refuses the
    /// write ([`Error::Validation`]) before any SQL runs.
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }

    /// Called before the object is written (before [`Hooks::validate`]), in the write's
    /// transaction.
    fn pre_save(&self, tx: &mut Transaction) -> impl Future<Output = crate::Result<()>> + Send {
        let _ = tx;
        async { Ok(()) }
    }

    /// Called after the object is written, in the same transaction; `created`: it was
    /// inserted.
    fn post_save(
        &self,
        tx: &mut Transaction,
        created: bool,
    ) -> impl Future<Output = crate::Result<()>> + Send {
        let _ = (tx, created);
        async { Ok(()) }
    }

    /// Called before the object's row is deleted, in the delete's transaction.
    fn pre_delete(&self, tx: &mut Transaction) -> impl Future<Output = crate::Result<()>> + Send {
        let _ = tx;
        async { Ok(()) }
    }

    /// Called after the object's row is deleted, in the same transaction.
    fn post_delete(&self, tx: &mut Transaction) -> impl Future<Output = crate::Result<()>> + Send {
        let _ = tx;
        async { Ok(()) }
    }
}

/// Which hook of [`Hooks`] to run ([`crate::Model::run_hook`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// [`Hooks::pre_save`].
    PreSave,
    /// [`Hooks::post_save`], with `created`.
    PostSave {
        /// The row was inserted.
        created: bool,
    },
    /// [`Hooks::pre_delete`].
    PreDelete,
    /// [`Hooks::post_delete`].
    PostDelete,
}

/// Runs `hook` of `m` in `tx` (the derive's `Model::run_hook` under `#[chakra(hooks)]`).
pub async fn dispatch<H: Hooks + Sync>(
    m: &H,
    hook: Hook,
    tx: &mut Transaction,
) -> crate::Result<()> {
    match hook {
        Hook::PreSave => m.pre_save(tx).await,
        Hook::PostSave { created } => m.post_save(tx, created).await,
        Hook::PreDelete => m.pre_delete(tx).await,
        Hook::PostDelete => m.post_delete(tx).await,
    }
}
