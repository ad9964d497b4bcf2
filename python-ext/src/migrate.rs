//! `chakra migrate …` from Python: the console script and `chakra.migrate.main` hand their
//! arguments and the registered Python models to the Rust CLI (`chakra::cli::exit_status`),
//! the same code the `chakra` binary runs.

use crate::model::ModelHandle;
use crate::registry::{self, Subset};
use chakra_dsl::relations::resolve_schema;
use chakra_dsl::ModelMeta;
use pyo3::prelude::*;
use std::io::Write;
use std::sync::Arc;

/// Runs the command line `argv` (the first item is the program name) with `models` as the
/// program's models and returns the exit status (0 success, 1 failure or difference, 2 bad
/// usage). Runs with the GIL released, on its own async runtime; prints to the process's
/// standard output and error.
#[pyfunction]
#[pyo3(signature = (argv, models, bindings = None))]
pub fn migrate_main(
    py: Python<'_>,
    argv: Vec<String>,
    models: Vec<PyRef<'_, ModelHandle>>,
    bindings: Option<std::collections::HashMap<String, String>>,
) -> u8 {
    let bindings = bindings.unwrap_or_default();
    let metas: Vec<Arc<ModelMeta>> = models.iter().map(|m| m.info.meta.clone()).collect();
    let snap = registry::snapshot();
    // Foreign keys pointed at tables through every registered model, so a subset of the
    // models still resolves; the CLI adds the join tables and reports what cannot resolve.
    let resolved: Vec<ModelMeta> = if metas.is_empty() {
        Vec::new()
    } else {
        match resolve_schema(&Subset {
            all: &snap,
            only: metas.clone(),
        }) {
            Ok(ms) => ms,
            Err(_) => metas.iter().map(|m| (**m).clone()).collect(),
        }
    };
    py.detach(move || {
        let code = chakra::cli::exit_status_bound(argv, resolved, &bindings);
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        code
    })
}

/// `chakra generate models` as a function: the model module for `lang` (`"rust"` or
/// `"python"`) generated from the migrations in `migrations`, and the notes about what the
/// models cannot say as the migrations do. `existing` is the current file's text (its keep
/// regions are carried over); `app` keeps one app's tables; `schema` is the Rust models'
/// `schema.rs` module path (empty: no schema check). Pure: writes nothing.
#[pyfunction]
#[pyo3(signature = (migrations, lang, *, app = None, existing = None, schema = "crate::schema"))]
pub fn generate_models(
    py: Python<'_>,
    migrations: std::path::PathBuf,
    lang: &str,
    app: Option<String>,
    existing: Option<String>,
    schema: &str,
) -> PyResult<(String, Vec<String>)> {
    let schema = (!schema.is_empty()).then(|| schema.to_owned());
    use chakra::generate::{generate, Lang, Options, Source};
    let lang: Lang = lang
        .parse()
        .map_err(pyo3::exceptions::PyValueError::new_err)?;
    py.detach(move || {
        let source = Source::from_dir(&migrations)?;
        let opts = Options {
            app,
            schema_path: schema,
        };
        let g = generate(&source, lang, &opts, existing.as_deref())?;
        Ok::<_, chakra::migrate::MigrationError>((g.text, g.notes))
    })
    .map_err(|e| crate::errors::to_py(e.into()))
}

/// Registers a generated model layer (`module`, its fingerprint, the migrations it came from,
/// its models' names) for the check pools run when they connect (`schema_check`).
#[pyfunction]
pub fn register_model_layer(
    module: String,
    fingerprint: String,
    migrations: Vec<(String, String, String)>,
    models: Vec<String>,
) {
    chakra::generate::check::register_layer(chakra::generate::check::RegisteredLayer {
        module,
        fingerprint,
        migrations,
        models,
    });
}

/// The differences between the migrations a generated model layer came from (`migrations`:
/// app, id, checksum) and those the database of `pool` has applied; empty when they agree.
/// Blocks (the GIL released) while it reads the history table.
#[pyfunction]
pub fn check_schema(
    py: Python<'_>,
    pool: PyRef<'_, crate::pools::PoolRef>,
    migrations: Vec<(String, String, String)>,
) -> PyResult<Vec<String>> {
    let slot = pool.slot.clone();
    py.detach(move || {
        crate::runtime::block_on(async move {
            // A stale registered layer fails the pool's connect: this call is asked to
            // name what differs, so it reads through a pool of its own without the check.
            let pool = match slot.get().await {
                Err(chakra::Error::StaleModels { .. }) => {
                    chakra::Pool::connect_with(
                        slot.url(),
                        chakra::PoolOptions {
                            max_size: 1,
                            schema_check: chakra::SchemaCheck::Off,
                            ..Default::default()
                        },
                    )
                    .await?
                }
                other => other?,
            };
            let generated: Vec<(&str, &str, &str)> = migrations
                .iter()
                .map(|(a, i, c)| (a.as_str(), i.as_str(), c.as_str()))
                .collect();
            chakra::generate::check::check_schema(&pool, &generated).await
        })
        .unwrap_or_else(|| Err(crate::pools::closed()))
    })
    .map_err(crate::errors::to_py)
}
