//! Which model and field a table's column belongs to, for errors found where only the SQL is
//! left (a value the server's flavour cannot store, refused as its parameters are bound):
//! every `#[derive(Model)]` of the binary (registered through `inventory`, here so the
//! executor can read it without importing the typed layer) and the models a front door
//! defines while running ([`register`]: Python classes).

use chakra_dsl::ModelMeta;
use std::sync::{Arc, RwLock};

/// One `#[derive(Model)]` registration (re-exported as `chakra::model::ModelRegistration`).
pub struct ModelRegistration {
    meta: fn() -> &'static Arc<ModelMeta>,
}

impl ModelRegistration {
    /// A registration reading the model's metadata through `meta`.
    pub const fn new(meta: fn() -> &'static Arc<ModelMeta>) -> Self {
        ModelRegistration { meta }
    }

    /// The model's metadata.
    pub fn meta(&self) -> &'static Arc<ModelMeta> {
        (self.meta)()
    }
}

inventory::collect!(ModelRegistration);

/// Models defined at run time, the latest last.
static RUNTIME: RwLock<Vec<Arc<ModelMeta>>> = RwLock::new(Vec::new());

/// Registers a model a front door defined at run time (a model of the same name is
/// replaced).
pub fn register(meta: Arc<ModelMeta>) {
    let mut list = RUNTIME.write().unwrap_or_else(|e| e.into_inner());
    list.retain(|m| m.name != meta.name);
    list.push(meta);
}

/// A model's field, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldName {
    /// The model's name.
    pub model: String,
    /// The field's name.
    pub field: String,
    /// The field type's canonical name (`Json`, `String`, …).
    pub ty: String,
}

/// The model and field of `table`'s column `column`: the models defined at run time first
/// (the latest wins), then the binary's derived models.
pub fn field_of(table: &str, column: &str) -> Option<FieldName> {
    let find = |m: &ModelMeta| {
        (m.table == table)
            .then(|| m.fields.iter().find(|f| f.column == column))
            .flatten()
            .map(|f| FieldName {
                model: m.name.clone(),
                field: f.name.clone(),
                ty: f.ty.canonical_name().to_owned(),
            })
    };
    let runtime = RUNTIME.read().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = runtime.iter().rev().find_map(|m| find(m)) {
        return Some(found);
    }
    drop(runtime);
    inventory::iter::<ModelRegistration>
        .into_iter()
        .find_map(|r| find(r.meta()))
}
