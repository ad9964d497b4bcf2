//! Model hooks: [`Hooks::validate`], the check a model runs on itself before it is written
//! (Python's `clean()`), its errors per field ([`ValidationErrors`]). A model opts in with
//! `#[chakra(hooks)]` and an `impl Hooks for …`; without it nothing is called.

use chakra_dsl::Error;
use std::collections::BTreeMap;

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
/// Derive with `#[chakra(hooks)]` for `save`, `save_fields`, `insert_many` and
/// `insert_all` to call it.
pub trait Hooks {
    /// Checks the object before it is written: `Err` with messages per field refuses the
    /// write ([`Error::Validation`]) before any SQL runs.
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}
