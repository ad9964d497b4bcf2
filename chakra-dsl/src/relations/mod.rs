//! Relations between models, resolved against the set of registered models ([`Models`]).
//!
//! - [`resolve_relation`]: a relation name of a model (declared, or the reverse side another
//!   model declares with `back_populates`) → [`ResolvedRelation`]: both models and the
//!   columns that link them.
//! - [`resolve_schema`]: every model's foreign keys pointed at tables, plus the join tables
//!   of many-to-many relations that no model declares (what DDL and migrations see).
//! - [`exists`]: `EXISTS (…)` over a relation, the one lowering of every filter that crosses
//!   a relation (lookups such as `posts__title`, the Rust `User::posts().any(…)`).
//! - `path`: lookup keys that start with relation names (`author__username__startswith`).

pub mod aggregate;
pub(crate) mod exists;
pub mod explicit;
pub mod joined;
pub mod on_delete;
mod path;
mod schema;

pub use exists::{exists, related_value, rename_qualifiers};
pub use path::{split_path, RelPath};
pub use schema::{resolve_schema, sort_by_dependencies};

use crate::error::{Error, Result};
use crate::meta::{FieldMeta, ModelMeta, RelationKind, RelationMeta};
use std::sync::Arc;

/// The registered models a relation can point at, by name.
pub trait Models {
    /// The model named `name`.
    fn model(&self, name: &str) -> Option<Arc<ModelMeta>>;
    /// Every model.
    fn all(&self) -> Vec<Arc<ModelMeta>>;
}

impl Models for [Arc<ModelMeta>] {
    fn model(&self, name: &str) -> Option<Arc<ModelMeta>> {
        self.iter().rev().find(|m| m.name == name).cloned()
    }
    fn all(&self) -> Vec<Arc<ModelMeta>> {
        self.to_vec()
    }
}

impl Models for Vec<Arc<ModelMeta>> {
    fn model(&self, name: &str) -> Option<Arc<ModelMeta>> {
        self.as_slice().model(name)
    }
    fn all(&self) -> Vec<Arc<ModelMeta>> {
        self.clone()
    }
}

/// How the rows of two related models are linked.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// `source.source_field = target.target_field`.
    Direct {
        /// The source model's column field.
        source_field: FieldMeta,
        /// The target model's column field.
        target_field: FieldMeta,
    },
    /// Through a join table: `source.source_key = through.source_column` and
    /// `through.target_column = target.target_key`.
    Through {
        /// The join table.
        table: String,
        /// The source model's key (its primary key).
        source_key: FieldMeta,
        /// Join-table column pointing at the source.
        source_column: String,
        /// Join-table column pointing at the target.
        target_column: String,
        /// The target model's key (its primary key).
        target_key: FieldMeta,
    },
}

/// A relation with both models and its link resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRelation {
    /// The attribute name on the source model.
    pub name: String,
    /// The kind, seen from the source.
    pub kind: RelationKind,
    /// The model the relation is declared on (or derived for).
    pub source: Arc<ModelMeta>,
    /// The model it points at.
    pub target: Arc<ModelMeta>,
    /// How rows are linked.
    pub link: Link,
}

impl ResolvedRelation {
    /// True when a source row can have many related rows (one-to-many, many-to-many).
    pub fn is_many(&self) -> bool {
        matches!(
            self.kind,
            RelationKind::OneToMany | RelationKind::ManyToMany { .. }
        )
    }

    /// True for a single-valued relation that may have no row: a nullable foreign key or
    /// the reverse side of a one-to-one (a LEFT JOIN when joined).
    pub fn is_optional(&self) -> bool {
        match (&self.kind, &self.link) {
            (RelationKind::ReverseOneToOne, _) => true,
            (_, Link::Direct { source_field, .. }) => source_field.nullable,
            _ => true,
        }
    }

    /// The source field whose values identify the related rows (the foreign key for a
    /// forward relation, the primary key otherwise).
    pub fn source_key(&self) -> &FieldMeta {
        match &self.link {
            Link::Direct { source_field, .. } => source_field,
            Link::Through { source_key, .. } => source_key,
        }
    }

    /// Where this relation's name is written, for messages (`User.posts`).
    pub fn display(&self) -> String {
        format!("{}.{}", self.source.name, self.name)
    }
}

/// The model `name` from `models`, or an error naming who points at it.
pub fn require_model(models: &dyn Models, name: &str, from: &str) -> Result<Arc<ModelMeta>> {
    models.model(name).ok_or_else(|| Error::UnknownModel {
        model: name.to_owned(),
        referenced_by: from.to_owned(),
    })
}

/// A field of `meta` by attribute name or column name.
pub fn field_by_name_or_column<'m>(meta: &'m ModelMeta, name: &str) -> Option<&'m FieldMeta> {
    meta.field(name)
        .or_else(|| meta.fields.iter().find(|f| f.column == name))
}

/// The relation `name` of `source`: declared on it, or derived from a relation another model
/// declares with `back_populates = name` pointing at `source`.
pub fn find_relation(models: &dyn Models, source: &ModelMeta, name: &str) -> Option<RelationMeta> {
    if let Some(r) = source.relation(name) {
        return Some(r.clone());
    }
    for other in models.all() {
        for r in &other.relations {
            if r.target != source.name || r.back_populates.as_deref() != Some(name) {
                continue;
            }
            let kind = match &r.kind {
                RelationKind::ForeignKey => RelationKind::OneToMany,
                RelationKind::OneToOne => RelationKind::ReverseOneToOne,
                RelationKind::OneToMany => RelationKind::ForeignKey,
                RelationKind::ReverseOneToOne => RelationKind::OneToOne,
                RelationKind::ManyToMany {
                    through,
                    source_column,
                    target_column,
                } => RelationKind::ManyToMany {
                    through: through.clone(),
                    source_column: target_column.clone(),
                    target_column: source_column.clone(),
                },
            };
            return Some(RelationMeta {
                name: name.to_owned(),
                kind,
                target: other.name.clone(),
                foreign_key: r.foreign_key.clone(),
                back_populates: Some(r.name.clone()),
            });
        }
    }
    None
}

/// Every relation name of `source`, declared and derived (for messages).
pub fn relation_names(models: &dyn Models, source: &ModelMeta) -> Vec<String> {
    let mut out: Vec<String> = source.relations.iter().map(|r| r.name.clone()).collect();
    for other in models.all() {
        for r in &other.relations {
            if r.target == source.name {
                if let Some(b) = &r.back_populates {
                    if !out.contains(b) {
                        out.push(b.clone());
                    }
                }
            }
        }
    }
    out
}

/// Resolves relation `name` of `source` (see [`find_relation`]): an error names the model,
/// the relation and the choices when it does not exist, and the missing piece when it is
/// declared inconsistently.
pub fn resolve_relation(
    models: &dyn Models,
    source: &Arc<ModelMeta>,
    name: &str,
) -> Result<ResolvedRelation> {
    let Some(rel) = find_relation(models, source, name) else {
        return Err(Error::UnknownRelation {
            model: source.name.clone(),
            relation: name.to_owned(),
            choices: relation_names(models, source),
        });
    };
    resolve_meta(models, source, &rel)
}

fn missing(source: &ModelMeta, rel: &RelationMeta, what: String) -> Error {
    Error::InvalidRelation {
        model: source.name.clone(),
        relation: rel.name.clone(),
        reason: what,
    }
}

fn pk_of(m: &ModelMeta, source: &ModelMeta, rel: &RelationMeta) -> Result<FieldMeta> {
    m.relation_key()
        .cloned()
        .map_err(|why| missing(source, rel, why))
}

/// Resolves a relation's metadata against its source model.
pub fn resolve_meta(
    models: &dyn Models,
    source: &Arc<ModelMeta>,
    rel: &RelationMeta,
) -> Result<ResolvedRelation> {
    let target = require_model(
        models,
        &rel.target,
        &format!("{}.{}", source.name, rel.name),
    )?;
    let fk_name = || {
        rel.foreign_key.clone().ok_or_else(|| {
            missing(
                source,
                rel,
                "the relation names no foreign_key column".to_owned(),
            )
        })
    };
    let link = match &rel.kind {
        RelationKind::ForeignKey | RelationKind::OneToOne => {
            let fk = fk_name()?;
            let source_field = field_by_name_or_column(source, &fk)
                .cloned()
                .ok_or_else(|| {
                    missing(
                        source,
                        rel,
                        format!("{} has no field or column {fk:?}", source.name),
                    )
                })?;
            let target_field = match source_field.references.as_ref().map(|r| &r.column) {
                Some(c) if !c.is_empty() => field_by_name_or_column(&target, c)
                    .cloned()
                    .ok_or_else(|| {
                        missing(source, rel, format!("{} has no column {c:?}", target.name))
                    })?,
                _ => pk_of(&target, source, rel)?,
            };
            Link::Direct {
                source_field,
                target_field,
            }
        }
        RelationKind::OneToMany | RelationKind::ReverseOneToOne => {
            let fk = fk_name()?;
            let target_field = field_by_name_or_column(&target, &fk)
                .cloned()
                .ok_or_else(|| {
                    missing(
                        source,
                        rel,
                        format!("{} has no field or column {fk:?}", target.name),
                    )
                })?;
            let source_field = match target_field.references.as_ref().map(|r| &r.column) {
                Some(c) if !c.is_empty() => {
                    field_by_name_or_column(source, c).cloned().ok_or_else(|| {
                        missing(source, rel, format!("{} has no column {c:?}", source.name))
                    })?
                }
                _ => pk_of(source, source, rel)?,
            };
            Link::Direct {
                source_field,
                target_field,
            }
        }
        RelationKind::ManyToMany {
            through,
            source_column,
            target_column,
        } => Link::Through {
            table: through.clone(),
            source_key: pk_of(source, source, rel)?,
            source_column: source_column.clone(),
            target_column: target_column.clone(),
            target_key: pk_of(&target, source, rel)?,
        },
    };
    Ok(ResolvedRelation {
        name: rel.name.clone(),
        kind: rel.kind.clone(),
        source: source.clone(),
        target,
        link,
    })
}

/// Column `column` under `qualifier` (a table name or alias), typed like key field `key`: how
/// relation SQL names join-table columns (which have no field of their own) and key columns.
pub fn column_as(qualifier: &str, column: &str, key: &FieldMeta) -> crate::ir::Expr {
    crate::ir::Expr::Column(
        crate::ir::ColumnRef::new(qualifier, column, key.ty.value_type())
            .with_enum_type(key.ty.enum_name().map(str::to_string)),
    )
}

/// Field `f`'s column under `qualifier`.
pub fn field_as(qualifier: &str, f: &FieldMeta) -> crate::ir::Expr {
    column_as(qualifier, &f.column, f)
}

/// The default join-table column pointing at model `name`: `post_id` for `Post`,
/// `blog_post_id` for `BlogPost`.
pub fn default_join_column(model_name: &str) -> String {
    let mut s = String::new();
    for (i, c) in model_name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            s.push('_');
        }
        s.extend(c.to_lowercase());
    }
    s.push_str("_id");
    s
}

#[cfg(test)]
mod tests;
