//! The binary-wide model registry: every `#[derive(Model)]` registers its metadata here
//! (through `inventory`), so migrations can list every model a binary defines.

use chakra_dsl::ModelMeta;
use std::sync::Arc;

pub use crate::exec::model_names::ModelRegistration;

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

/// True when some model of this binary references `meta`'s table with CASCADE or SET NULL,
/// so deleting its rows takes the ORM's steps ([`crate::query::delete_rules`]). Worked out
/// once per model (the registry does not change while the binary runs), so a delete pays
/// nothing for it.
pub fn deletes_with_rules(meta: &'static Arc<ModelMeta>) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static KNOWN: OnceLock<Mutex<HashMap<usize, bool>>> = OnceLock::new();
    let key = Arc::as_ptr(meta) as usize;
    let known = KNOWN.get_or_init(Default::default);
    if let Some(&b) = known.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return b;
    }
    let b = meta.primary_key().is_some()
        && chakra_dsl::relations::on_delete::has_delete_actions(&models_with(meta), meta);
    known
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, b);
    b
}
