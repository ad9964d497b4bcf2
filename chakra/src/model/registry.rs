//! The binary-wide model registry: every `#[derive(Model)]` registers its metadata here
//! (through `inventory`), so migrations can list every model a binary defines.

use chakra_dsl::ModelMeta;
use std::sync::Arc;

/// One registered model.
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

/// Every model of this binary, sorted by table name.
pub fn registered_models() -> Vec<&'static Arc<ModelMeta>> {
    let mut all: Vec<&'static Arc<ModelMeta>> = inventory::iter::<ModelRegistration>
        .into_iter()
        .map(|r| r.meta())
        .collect();
    all.sort_by(|a, b| a.table.cmp(&b.table).then(a.name.cmp(&b.name)));
    all
}

/// Every model of this binary as a relation-resolving set, with `first` (the model a query
/// starts from) winning over other models of the same name.
pub fn models_with(first: &Arc<ModelMeta>) -> Vec<Arc<ModelMeta>> {
    let mut v: Vec<Arc<ModelMeta>> = registered_models()
        .into_iter()
        .filter(|m| !Arc::ptr_eq(m, first))
        .cloned()
        .collect();
    v.push(first.clone());
    v
}

/// Every model of this binary, ready for DDL: foreign keys resolved, join tables added,
/// referenced tables first (see [`chakra_dsl::relations::resolve_schema`]).
pub fn schema() -> chakra_dsl::Result<Vec<ModelMeta>> {
    let all: Vec<Arc<ModelMeta>> = registered_models().into_iter().cloned().collect();
    chakra_dsl::relations::resolve_schema(&all)
}
