//! [`Related<T>`]: a model field holding related rows (`posts: Related<Vec<Post>>`). It is not
//! a column; it starts unloaded and is filled by relationship loading (`select_related`,
//! `prefetch_related`).

use crate::error::{Error, Result};
use crate::meta::ModelMeta;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// Related rows of a model, loaded on demand. `T` is the target model (`Related<User>`), an
/// optional one (`Related<Option<Profile>>`), or a list (`Related<Vec<Post>>`).
#[derive(Clone, PartialEq)]
pub struct Related<T> {
    // Boxed: models may point at each other (`User.profile` / `Profile.user`).
    value: Option<Box<T>>,
    owner: &'static str,
    relation: &'static str,
}

impl<T> Default for Related<T> {
    fn default() -> Self {
        Related::unloaded()
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
    pub const fn unloaded() -> Self {
        Related {
            value: None,
            owner: "",
            relation: "",
        }
    }

    /// Not loaded yet, knowing its owner model and relation name (for the error
    /// [`Related::get`] gives). Generated code builds relation fields with this.
    pub const fn unloaded_for(owner: &'static str, relation: &'static str) -> Self {
        Related {
            value: None,
            owner,
            relation,
        }
    }

    /// Already loaded with `value`.
    pub fn loaded(value: T) -> Self {
        Related {
            value: Some(Box::new(value)),
            owner: "",
            relation: "",
        }
    }

    fn not_loaded(&self) -> Error
    where
        T: RelationTarget,
    {
        Error::NotLoaded {
            owner: if self.owner.is_empty() {
                "?"
            } else {
                self.owner
            }
            .to_owned(),
            relation: if self.relation.is_empty() {
                "?"
            } else {
                self.relation
            }
            .to_owned(),
            model: T::MODEL_NAME.to_owned(),
        }
    }

    /// True once loaded.
    pub fn is_loaded(&self) -> bool {
        self.value.is_some()
    }

    /// True while not loaded: with the `serde` feature,
    /// `#[serde(skip_serializing_if = "Related::is_unloaded")]` leaves an unloaded relation
    /// out of the output instead of writing `null`.
    pub fn is_unloaded(&self) -> bool {
        self.value.is_none()
    }

    /// The loaded value, or an error saying it was not loaded.
    pub fn get(&self) -> Result<&T>
    where
        T: RelationTarget,
    {
        self.value.as_deref().ok_or_else(|| self.not_loaded())
    }

    /// The loaded value, mutably, or an error saying it was not loaded.
    pub fn get_mut(&mut self) -> Result<&mut T>
    where
        T: RelationTarget,
    {
        match self.value.is_some() {
            true => Ok(self.value.as_deref_mut().expect("checked")),
            false => Err(self.not_loaded()),
        }
    }

    /// Stores the loaded value.
    pub fn set(&mut self, value: T) {
        self.value = Some(Box::new(value));
    }

    /// Takes the value out, leaving the relation unloaded.
    pub fn take(&mut self) -> Option<T> {
        self.value.take().map(|b| *b)
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
    type Model: RelationTarget;
    /// The target model's metadata.
    fn model_meta() -> &'static Arc<ModelMeta>;
}

impl<T: RelationTarget> RelationTarget for Vec<T> {
    const MODEL_NAME: &'static str = T::MODEL_NAME;
    type Model = T::Model;
    fn model_meta() -> &'static Arc<ModelMeta> {
        T::model_meta()
    }
}

impl<T: RelationTarget> RelationTarget for Option<T> {
    const MODEL_NAME: &'static str = T::MODEL_NAME;
    type Model = T::Model;
    fn model_meta() -> &'static Arc<ModelMeta> {
        T::model_meta()
    }
}

/// Field types that hold a relation rather than a column.
pub trait RelatedField {
    /// Name of the target model.
    const TARGET: &'static str;
    /// The target model type.
    type Target: RelationTarget;
    /// True when the field holds many rows (`Related<Vec<T>>`).
    const MANY: bool;
}

impl<T: RelationTarget + Cardinality> RelatedField for Related<T> {
    const TARGET: &'static str = T::MODEL_NAME;
    type Target = T::Model;
    const MANY: bool = T::MANY;
}

/// Whether a relation's value is one row (a model, `Option<Model>`) or many (`Vec<Model>`).
/// `#[derive(Model)]` implements it for the model.
pub trait Cardinality {
    /// True for many.
    const MANY: bool;
}

impl<T: RelationTarget> Cardinality for Vec<T> {
    const MANY: bool = true;
}

impl<T: RelationTarget> Cardinality for Option<T> {
    const MANY: bool = false;
}

/// Relation values holding at most one row (a model, `Option<Model>`): what
/// `select_related` joins. `#[derive(Model)]` implements it for the model.
#[diagnostic::on_unimplemented(
    message = "`{Self}` holds many rows: select_related follows relations to one row",
    label = "a one-to-many or many-to-many relation",
    note = "load relations to many rows with `prefetch_related(…)`"
)]
pub trait OneRow {}

impl<T: RelationTarget + OneRow> OneRow for Option<T> {}

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

/// With the `serde` feature: a loaded relation serialises as its value (a model, `null` or a
/// model for `Related<Option<_>>`, a list for `Related<Vec<_>>`), an unloaded one as `null` —
/// or not at all with `#[serde(skip_serializing_if = "Related::is_unloaded")]`.
#[cfg(feature = "serde")]
impl<T: serde::Serialize> serde::Serialize for Related<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match &self.value {
            Some(v) => v.serialize(s),
            None => s.serialize_none(),
        }
    }
}

/// With the `serde` feature: a value reads as a loaded relation, `null` as an unloaded one
/// (with `#[serde(default)]` a missing field too). A `Related<Option<_>>` loaded as "none"
/// writes `null`, which reads back as unloaded.
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Related<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Related::loaded(v),
            None => Related::unloaded(),
        })
    }
}
