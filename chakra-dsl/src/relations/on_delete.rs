//! A model's declared `on_delete` rules carried out by the ORM, as Django does: deleting
//! rows first deletes (CASCADE) or detaches (SET NULL) the rows that reference them, so
//! the result is what the models declare whatever the database's constraints say (an
//! existing schema whose foreign keys have no `ON DELETE`, or a different action).
//!
//! [`delete_steps`] turns a snapshot of the keys being deleted into the statements to run,
//! in order, in one transaction: the deepest referencing rows first, the rows themselves
//! last. `RESTRICT` and `NO ACTION` add no step: the database's constraint decides (and a
//! refusal rolls the whole transaction back). A CASCADE that leads back to a table already
//! on the path (a self-referencing tree) is left to the database's constraint too.

use super::Models;
use crate::ir::{ColumnRef, Delete, Expr, Select, Source, Statement, Update};
use crate::meta::{ModelMeta, OnDelete, RelationKind};
use crate::value::Value;
use crate::ValueType;
use std::sync::Arc;

/// A foreign key of the schema: `table.column` references `target_table.target_column`.
#[derive(Debug, Clone)]
struct Reference {
    table: Arc<ModelMeta>,
    column: String,
    target_table: String,
    target_column: String,
    on_delete: OnDelete,
    /// The key's type.
    ty: ValueType,
}

/// Every foreign key the models declare (join tables of many-to-many relations included,
/// both of their columns cascading), resolved to tables and columns. Later registrations of
/// a name replace earlier ones; references to models that are not registered are skipped
/// (they cannot point at a registered table).
fn references(models: &dyn Models) -> Vec<Reference> {
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<Arc<ModelMeta>> = Vec::new();
    for m in models.all().iter().rev() {
        if seen.insert(m.name.clone()) {
            unique.push(m.clone());
        }
    }
    unique.reverse();
    let pk_column = |m: &ModelMeta| {
        m.primary_key()
            .map(|f| (f.column.clone(), f.ty.value_type()))
    };
    let mut out = Vec::new();
    for m in &unique {
        for f in &m.fields {
            let Some(r) = &f.references else { continue };
            let target = if r.model.is_empty() {
                None
            } else {
                models.model(&r.model)
            };
            let target_table = if r.table.is_empty() {
                match &target {
                    Some(t) => t.table.clone(),
                    None => continue,
                }
            } else {
                r.table.clone()
            };
            let target_column = if r.column.is_empty() {
                match target.as_deref().and_then(pk_column) {
                    Some((c, _)) => c,
                    None => continue,
                }
            } else {
                r.column.clone()
            };
            out.push(Reference {
                table: m.clone(),
                column: f.column.clone(),
                target_table,
                target_column,
                on_delete: r.on_delete,
                ty: f.ty.value_type(),
            });
        }
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
            if unique.iter().any(|o| &o.table == through) {
                continue;
            }
            let Some(target) = models.model(&rel.target) else {
                continue;
            };
            let (Some(source_pk), Some(target_pk)) = (pk_column(m), pk_column(&target)) else {
                continue;
            };
            let join = Arc::new(ModelMeta {
                name: through.clone(),
                table: through.clone(),
                fields: Vec::new(),
                relations: Vec::new(),
                app: m.app.clone(),
                options: Default::default(),
                ordering: Vec::new(),
            });
            for (column, table, (key, ty)) in [
                (source_column, &m.table, source_pk),
                (target_column, &target.table, target_pk),
            ] {
                if out
                    .iter()
                    .any(|r: &Reference| r.table.table == *through && r.column == *column)
                {
                    continue;
                }
                out.push(Reference {
                    table: join.clone(),
                    column: column.clone(),
                    target_table: table.clone(),
                    target_column: key,
                    on_delete: OnDelete::Cascade,
                    ty,
                });
            }
        }
    }
    out
}

/// True when some registered model references `meta`'s table with CASCADE or SET NULL,
/// that is when deleting its rows needs more than one `DELETE` (see [`delete_steps`]).
pub fn has_delete_actions(models: &dyn Models, meta: &ModelMeta) -> bool {
    references(models).iter().any(|r| {
        r.target_table == meta.table && matches!(r.on_delete, OnDelete::Cascade | OnDelete::SetNull)
    })
}

/// The tables [`delete_steps`] may write when deleting rows of `meta` (every table reached
/// from it through CASCADE, and the tables holding a SET NULL key to one of those), without
/// `meta`'s own. The caller checks which exist in the database: a registered model whose
/// table is absent has no rows to act on.
pub fn dependent_tables(models: &dyn Models, meta: &ModelMeta) -> Vec<String> {
    let refs = references(models);
    let mut out: Vec<String> = Vec::new();
    let mut todo = vec![meta.table.clone()];
    let mut reached = vec![meta.table.clone()];
    while let Some(t) = todo.pop() {
        for r in refs.iter().filter(|r| r.target_table == t) {
            let child = &r.table.table;
            if !matches!(r.on_delete, OnDelete::Cascade | OnDelete::SetNull) {
                continue;
            }
            if child != &meta.table && !out.contains(child) {
                out.push(child.clone());
            }
            if r.on_delete == OnDelete::Cascade && !reached.contains(child) {
                reached.push(child.clone());
                todo.push(child.clone());
            }
        }
    }
    out
}

/// The statements that delete the rows of `meta` whose primary key is in `keys`, carrying
/// out every declared `on_delete` of the models that reference it (recursively for
/// CASCADE): `UPDATE … SET fk = NULL` for SET NULL, `DELETE` of the referencing rows for
/// CASCADE, deepest first, then the `DELETE` of the rows themselves, last. Run them in
/// order, in one transaction; the last statement's count is the number of `meta` rows
/// deleted. `keys` should be a snapshot taken in that transaction (so a filter that reads
/// the referencing rows is not changed by the earlier steps). Tables for which `present`
/// is false (absent from the database) are skipped.
pub fn delete_steps(
    models: &dyn Models,
    meta: &ModelMeta,
    keys: Vec<Value>,
    present: &dyn Fn(&str) -> bool,
) -> Vec<Statement> {
    let Some(pk) = meta.primary_key() else {
        return Vec::new();
    };
    let refs: Vec<Reference> = references(models)
        .into_iter()
        .filter(|r| r.table.table == meta.table || present(&r.table.table))
        .collect();
    let filter = Expr::Column(ColumnRef::new(
        meta.table.clone(),
        pk.column.clone(),
        pk.ty.value_type(),
    ))
    .is_in(keys);
    let mut out = Vec::new();
    let mut path = vec![meta.table.clone()];
    dependents(&refs, &meta.table, &filter, &mut path, &mut out);
    out.push(Statement::Delete(Delete {
        table: meta.table.clone(),
        filter: Some(filter),
        returning: Vec::new(),
    }));
    out
}

/// The steps for the rows referencing the rows of `table` that match `filter`.
fn dependents(
    refs: &[Reference],
    table: &str,
    filter: &Expr,
    path: &mut Vec<String>,
    out: &mut Vec<Statement>,
) {
    for r in refs.iter().filter(|r| r.target_table == table) {
        if !matches!(r.on_delete, OnDelete::Cascade | OnDelete::SetNull) {
            continue;
        }
        let child = r.table.table.clone();
        // The referenced keys, read from the parent rows (which still exist: parents are
        // deleted after their children).
        let parent_keys = Select::from(Source::table(table.to_owned()))
            .column(
                Expr::Column(ColumnRef {
                    enum_type: None,
                    table: Some(table.to_owned()),
                    column: r.target_column.clone(),
                    ty: r.ty.clone(),
                }),
                r.ty.clone(),
            )
            .filter(filter.clone());
        let child_filter = Expr::InSubquery {
            expr: Box::new(Expr::Column(ColumnRef {
                enum_type: None,
                table: Some(child.clone()),
                column: r.column.clone(),
                ty: r.ty.clone(),
            })),
            query: Box::new(parent_keys),
        };
        match r.on_delete {
            OnDelete::SetNull => out.push(Statement::Update(Update {
                enum_types: Default::default(),
                table: child,
                sets: vec![(r.column.clone(), Expr::Value(Value::Null(r.ty.clone())))],
                filter: Some(child_filter),
                returning: Vec::new(),
            })),
            OnDelete::Cascade => {
                if path.contains(&child) {
                    continue;
                }
                path.push(child.clone());
                dependents(refs, &child, &child_filter, path, out);
                path.pop();
                out.push(Statement::Delete(Delete {
                    table: child,
                    filter: Some(child_filter),
                    returning: Vec::new(),
                }));
            }
            OnDelete::Restrict | OnDelete::NoAction => {}
        }
    }
}
