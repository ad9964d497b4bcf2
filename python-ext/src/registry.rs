//! The registered Python models, by name: what relations, lookups across relations, load
//! plans and `create_tables` resolve model names against ([`Models`]). Registering a name
//! again replaces the earlier model (tests and notebooks redefine classes).
//!
//! Readers take a [`Snapshot`] (one `Arc` clone); registration copies the list, which
//! happens once per class definition.

use crate::model::ModelInfo;
use chakra_dsl::relations::Models;
use chakra_dsl::ModelMeta;
use std::sync::{Arc, LazyLock, RwLock};

/// The registered models at one moment.
#[derive(Clone, Default)]
pub struct Snapshot(Arc<Vec<Arc<ModelInfo>>>);

static REGISTRY: LazyLock<RwLock<Snapshot>> = LazyLock::new(RwLock::default);

/// Registers `info`, replacing a model of the same name (in the core too, so an error found
/// where only the SQL is left names the model and field: `chakra::exec::model_names`).
pub fn register(info: Arc<ModelInfo>) {
    chakra::exec::model_names::register(info.meta.clone());
    let mut guard = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    let mut list: Vec<Arc<ModelInfo>> = guard
        .0
        .iter()
        .filter(|m| m.meta.name != info.meta.name)
        .cloned()
        .collect();
    list.push(info);
    *guard = Snapshot(Arc::new(list));
}

/// The registered models now.
pub fn snapshot() -> Snapshot {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner()).clone()
}

impl Snapshot {
    /// The model named `name` with what hydration needs.
    pub fn info(&self, name: &str) -> Option<&Arc<ModelInfo>> {
        self.0.iter().find(|m| m.meta.name == name)
    }
}

impl Models for Snapshot {
    fn model(&self, name: &str) -> Option<Arc<ModelMeta>> {
        self.info(name).map(|m| m.meta.clone())
    }
    fn all(&self) -> Vec<Arc<ModelMeta>> {
        self.0.iter().map(|m| m.meta.clone()).collect()
    }
}

/// `models` narrowed to a few (for `create_tables`: the tables of the models asked for and
/// their join tables), while references still resolve against every registered model.
pub struct Subset<'a> {
    /// Every registered model.
    pub all: &'a Snapshot,
    /// The models `all()` lists.
    pub only: Vec<Arc<ModelMeta>>,
}

impl Models for Subset<'_> {
    fn model(&self, name: &str) -> Option<Arc<ModelMeta>> {
        self.only
            .iter()
            .find(|m| m.name == name)
            .cloned()
            .or_else(|| self.all.model(name))
    }
    fn all(&self) -> Vec<Arc<ModelMeta>> {
        self.only.clone()
    }
}
