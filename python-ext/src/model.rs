//! A registered model: its metadata, its Python class and what hydration needs
//! ([`ModelInfo`]), and the handle Python holds ([`ModelHandle`]). Registration (the specs
//! Python sends) is in [`crate::model_specs`], hydration in [`crate::hydrate`], the handle's
//! methods (job builders) in [`crate::model_jobs`].

use chakra_dsl::ModelMeta;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyType};
use std::sync::Arc;

/// A registered model: its metadata and what hydration needs.
pub struct ModelInfo {
    /// The metadata shared with the core.
    pub meta: Arc<ModelMeta>,
    /// The Python class.
    pub cls: Py<PyType>,
    /// Interned attribute names, one per field, in declaration order.
    pub names: Vec<Py<PyString>>,
    /// The Python `enum.Enum` class of each `Enum` field (`None` for other fields), in
    /// declaration order: stored text is read back as its member.
    pub enums: Vec<Option<Py<PyAny>>>,
    /// [`static_meta`] of `meta`, looked up once (its lookup takes a global lock).
    pub kept: std::sync::OnceLock<&'static Arc<ModelMeta>>,
}

impl ModelInfo {
    /// [`static_meta`] of the model's metadata (the core's statement-shape cache key).
    pub fn static_meta(&self) -> &'static Arc<ModelMeta> {
        self.kept.get_or_init(|| static_meta(&self.meta))
    }
}

/// `meta` for the life of the process: the core's statement-shape cache knows a model by
/// its metadata's address, so the metadata it was compiled from must never be freed (and its
/// address never reused by another model's). One clone per registered model is kept.
pub fn static_meta(meta: &Arc<ModelMeta>) -> &'static Arc<ModelMeta> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static KEPT: Mutex<Option<HashMap<usize, &'static Arc<ModelMeta>>>> = Mutex::new(None);
    let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    kept.get_or_insert_with(HashMap::new)
        .entry(Arc::as_ptr(meta) as usize)
        .or_insert_with(|| Box::leak(Box::new(meta.clone())))
}

/// A model class registered with the core (Python: `chakra._chakra.ModelHandle`).
#[pyclass(frozen, module = "chakra._chakra")]
pub struct ModelHandle {
    pub(crate) info: Arc<ModelInfo>,
    /// The query over every row (`query()`), made on first use: a query is immutable, so
    /// every `Model.objects` shares it.
    pub(crate) all: std::sync::OnceLock<Py<crate::query::Query>>,
}

impl ModelHandle {
    /// The handle of `info`.
    pub fn new(info: Arc<ModelInfo>) -> Self {
        ModelHandle {
            info,
            all: std::sync::OnceLock::new(),
        }
    }
}
