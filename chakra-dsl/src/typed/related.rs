//! [`Related<T>`]: a model field holding related rows (`posts: Related<Vec<Post>>`). It is not
//! a column; it starts unloaded and is filled by relationship loading (`select_related`,
//! `prefetch_related`).

use crate::error::{Error, Result};
use std::fmt;
use std::marker::PhantomData;

/// Related rows of a model, loaded on demand. `T` is the target model (`Related<User>`), an
/// optional one (`Related<Option<Profile>>`), or a list (`Related<Vec<Post>>`).
#[derive(Clone, PartialEq)]
pub struct Related<T> {
    value: Option<T>,
}

impl<T> Default for Related<T> {
    fn default() -> Self {
        Related { value: None }
    }
}

impl<T: fmt::Debug> fmt::Debug for Related<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => f.debug_tuple("Related").field(v).finish(),
            None => f.write_str("Related(<not loaded>)"),
        }
    }
}

impl<T> Related<T> {
    /// Not loaded yet.
    pub fn unloaded() -> Self {
        Related { value: None }
    }

    /// Already loaded with `value`.
    pub fn loaded(value: T) -> Self {
        Related { value: Some(value) }
    }

    /// True once loaded.
    pub fn is_loaded(&self) -> bool {
        self.value.is_some()
    }

    /// The loaded value, or an error saying it was not loaded.
    pub fn get(&self) -> Result<&T>
    where
        T: RelationTarget,
    {
        self.value.as_ref().ok_or_else(|| Error::NotLoaded {
            model: T::MODEL_NAME.to_owned(),
        })
    }

    /// The loaded value, mutably, or an error saying it was not loaded.
    pub fn get_mut(&mut self) -> Result<&mut T>
    where
        T: RelationTarget,
    {
        self.value.as_mut().ok_or_else(|| Error::NotLoaded {
            model: T::MODEL_NAME.to_owned(),
        })
    }

    /// Stores the loaded value.
    pub fn set(&mut self, value: T) {
        self.value = Some(value);
    }

    /// Takes the value out, leaving the relation unloaded.
    pub fn take(&mut self) -> Option<T> {
        self.value.take()
    }
}

/// What a [`Related`] field can point at: a model (`#[derive(Model)]` implements this), an
/// `Option` of one, or a `Vec` of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model a relation can point at",
    label = "expected a `#[derive(Model)]` struct, `Option<Model>` or `Vec<Model>`"
)]
pub trait RelationTarget {
    /// The target model's name.
    const MODEL_NAME: &'static str;
    /// The target model type.
    type Model;
}

impl<T: RelationTarget> RelationTarget for Vec<T> {
    const MODEL_NAME: &'static str = T::MODEL_NAME;
    type Model = T::Model;
}

impl<T: RelationTarget> RelationTarget for Option<T> {
    const MODEL_NAME: &'static str = T::MODEL_NAME;
    type Model = T::Model;
}

/// Field types that hold a relation rather than a column.
pub trait RelatedField {
    /// Name of the target model.
    const TARGET: &'static str;
}

impl<T: RelationTarget> RelatedField for Related<T> {
    const TARGET: &'static str = T::MODEL_NAME;
}

/// A relation of model `M` whose field type is `Related<T>`, as returned by generated
/// relation accessors (`User::posts()`); relationship loading takes these.
pub struct Relation<M, T> {
    name: &'static str,
    _p: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Relation<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Relation<M, T> {}

impl<M, T> fmt::Debug for Relation<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Relation({})", self.name)
    }
}

impl<M, T> Relation<M, T> {
    /// The relation named `name` (the field's name).
    pub const fn new(name: &'static str) -> Self {
        Relation {
            name,
            _p: PhantomData,
        }
    }

    /// The relation's field name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}
