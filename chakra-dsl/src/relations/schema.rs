//! The tables a set of models needs: foreign keys pointed at tables and columns, and the
//! join tables of many-to-many relations no model declares. DDL (`create_tables`) and the
//! migration autodetector read this, so both front doors produce the same schema.

use super::{require_model, Models};
use crate::error::{Error, Result};
use crate::meta::{FieldMeta, ForeignKeyRef, ModelMeta, OnDelete, RelationKind};
use std::sync::Arc;

/// Every model of `models` with its foreign keys resolved (`references.table` and
/// `references.column` filled from the referenced model), followed by the join tables of
/// many-to-many relations that no model maps (each a model named after its table, with a
/// composite primary key of its two columns, both cascading). Fails naming the model and
/// field when a reference points at a model that is not registered.
pub fn resolve_schema(models: &dyn Models) -> Result<Vec<ModelMeta>> {
    let all = models.all();
    let mut out: Vec<ModelMeta> = Vec::with_capacity(all.len());
    // Later registrations of the same name replace earlier ones.
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<Arc<ModelMeta>> = Vec::new();
    for m in all.iter().rev() {
        if seen.insert(m.name.clone()) {
            unique.push(m.clone());
        }
    }
    unique.reverse();
    for m in &unique {
        let mut m2 = (**m).clone();
        for f in &mut m2.fields {
            if let Some(r) = &mut f.references {
                resolve_reference(models, &m.name, &f.name, r)?;
            }
        }
        out.push(m2);
    }
    for m in &unique {
        for rel in &m.relations {
            let RelationKind::ManyToMany {
                through,
                source_column,
                target_column,
            } = &rel.kind
            else {
                continue;
            };
            if out.iter().any(|o| &o.table == through) {
                continue;
            }
            let target = require_model(models, &rel.target, &format!("{}.{}", m.name, rel.name))?;
            let key = |owner: &ModelMeta| -> Result<FieldMeta> {
                owner
                    .relation_key()
                    .cloned()
                    .map_err(|reason| Error::InvalidRelation {
                        model: m.name.clone(),
                        relation: rel.name.clone(),
                        reason,
                    })
            };
            let column = |name: &str, owner: &ModelMeta, pk: FieldMeta| {
                let mut f = FieldMeta::new(name, pk.ty.clone());
                f.primary_key = true;
                f.references = Some(ForeignKeyRef {
                    model: owner.name.clone(),
                    table: owner.table.clone(),
                    column: pk.column.clone(),
                    on_delete: OnDelete::Cascade,
                });
                f
            };
            let mut tgt = column(target_column, &target, key(&target)?);
            // The composite key's first column is indexed by the key; the second needs its
            // own index for lookups from the other side.
            tgt.index = true;
            out.push(ModelMeta {
                name: through.clone(),
                table: through.clone(),
                fields: vec![column(source_column, m, key(m)?), tgt],
                relations: Vec::new(),
                // The join table lives with the model that declares the relation.
                app: m.app.clone(),
                options: Default::default(),
                ordering: Vec::new(),
            });
        }
    }
    Ok(sort_by_dependencies(out))
}

fn resolve_reference(
    models: &dyn Models,
    model: &str,
    field: &str,
    r: &mut ForeignKeyRef,
) -> Result<()> {
    if !r.table.is_empty() && !r.column.is_empty() {
        return Ok(());
    }
    let target = require_model(models, &r.model, &format!("{model}.{field}"))?;
    if r.table.is_empty() {
        r.table = target.table.clone();
    }
    if r.column.is_empty() {
        let pk = target
            .relation_key()
            .map_err(|reason| Error::InvalidRelation {
                model: model.to_owned(),
                relation: field.to_owned(),
                reason,
            })?;
        r.column = pk.column.clone();
    }
    Ok(())
}

/// Orders tables so each comes after the tables it references (stable: ties keep the input
/// order). Tables in a reference cycle keep their input order; DDL adds the foreign keys
/// that point forward afterwards.
pub fn sort_by_dependencies(models: Vec<ModelMeta>) -> Vec<ModelMeta> {
    let mut remaining = models;
    let mut out: Vec<ModelMeta> = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|m| {
            m.fields.iter().all(|f| match &f.references {
                Some(r) => {
                    r.table == m.table
                        || out.iter().any(|o| o.table == r.table)
                        || !remaining.iter().any(|o| o.table == r.table)
                }
                None => true,
            })
        });
        // A cycle: take the first remaining one.
        out.push(remaining.remove(ready.unwrap_or(0)));
    }
    out
}
