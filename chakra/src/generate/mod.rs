//! `chakra generate models`: Rust or Python model source from the migrations alone (no
//! database). Pure: a replayed [`State`] in, source text out; the same state gives the same
//! bytes. See `docs/generate.md`.
//!
//! - [`names`]: identifiers safe in both languages, model names from tables.
//! - [`plan`]: the models decided once for both languages (relations, join tables, enums).
//! - [`rust`], [`python`]: the plan written out.
//! - [`keep`]: the hand-written regions of a Python file carried into the regenerated one.
//! - [`fingerprint`]: the hash of the migration state a module was generated from;
//!   [`check::check_schema`]: its migrations compared with a database's applied history.

pub mod check;
pub mod keep;
pub mod names;
pub mod plan;
pub mod python;
pub mod rust;

use crate::migrate::operations::{Migration, Operation};
use crate::migrate::state::State;
use crate::migrate::writer::write_migration;
use crate::migrate::{Graph, LoadedMigration, MResult, MigrationError};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The language to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `#[derive(Model)]` structs.
    Rust,
    /// `chakra.Model` classes.
    Python,
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s.to_ascii_lowercase().as_str() {
            "rust" | "rs" => Ok(Lang::Rust),
            "python" | "py" => Ok(Lang::Python),
            _ => Err(format!("unknown language {s:?} (rust or python)")),
        }
    }
}

/// Where a generated module comes from: the state, the app each table was created by,
/// and the last migration of each app.
#[derive(Debug, Clone)]
pub struct Source {
    /// The replayed schema.
    pub state: State,
    /// The app whose migration created each table (by table name).
    pub apps: BTreeMap<String, String>,
    /// The last migration of each app (`users/0002_account_fields`), sorted.
    pub last: Vec<String>,
    /// Every migration (app, id, checksum), in the order they apply.
    pub migrations: Vec<(String, String, String)>,
}

impl Source {
    /// From migrations read from a folder: ordered, replayed.
    pub fn from_loaded(loaded: Vec<LoadedMigration>) -> MResult<Source> {
        let graph = Graph::new(loaded)?;
        let ordered: Vec<&Migration> = graph.ordered.iter().map(|m| &m.migration).collect();
        let migrations = graph
            .ordered
            .iter()
            .map(|m| {
                (
                    m.migration.app.clone(),
                    m.migration.id.clone(),
                    m.checksum.clone(),
                )
            })
            .collect();
        let state = State::replay(ordered.iter().copied())?;
        let mut apps = BTreeMap::new();
        let mut last: BTreeMap<String, String> = BTreeMap::new();
        for m in &ordered {
            last.insert(m.app.clone(), m.id.clone());
            for op in &m.operations {
                match op {
                    Operation::CreateModel { table, .. } => {
                        apps.insert(table.clone(), m.app.clone());
                    }
                    Operation::RenameModel {
                        table, new_table, ..
                    } => {
                        if let Some(a) = apps.remove(table) {
                            apps.insert(new_table.clone(), a);
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Source {
            state,
            apps,
            last: last
                .into_iter()
                .map(|(a, id)| format!("{a}/{id}"))
                .collect(),
            migrations,
        })
    }

    /// From a migrations folder (one subfolder per app).
    pub fn from_dir(dir: &std::path::Path) -> MResult<Source> {
        Source::from_loaded(crate::migrate::load_dir(dir)?)
    }
}

/// The hash of a migration state: SHA-256 of its canonical text (each table written as one
/// `CreateModel` by the migrations' canonical writer, tables by name, then the objects
/// `RunSQL` declared), 64 hex digits. Equal states have equal fingerprints, whatever
/// history led to them.
pub fn fingerprint(state: &State) -> String {
    let operations = state
        .tables
        .values()
        .map(|t| Operation::CreateModel {
            name: t.name.clone(),
            table: t.table.clone(),
            fields: t.fields.clone(),
            indexes: t.indexes.clone(),
            constraints: t.constraints.clone(),
        })
        .collect();
    let m = Migration {
        id: "state".into(),
        app: "state".into(),
        dependencies: Vec::new(),
        atomic: true,
        lock_timeout: None,
        operations,
    };
    let mut text = write_migration(&m);
    for r in &state.raw {
        text.push_str(&format!("{r:?}\n"));
    }
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Options of one generation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only the tables this app created.
    pub app: Option<String>,
    /// Rust: the module path of `schema.rs` (`crate::schema`) the models are checked
    /// against; `None` leaves the check out.
    pub schema_path: Option<String>,
}

/// The generated module and the notes about what the models cannot say as the migrations
/// do (also written into the module's header).
#[derive(Debug, Clone)]
pub struct Generated {
    /// The module's text.
    pub text: String,
    /// The notes.
    pub notes: Vec<String>,
}

/// Generates the module for `lang`. `existing` is the current file's text (its keep regions
/// are carried over; Python only). Fails naming the problem when an existing keep region is
/// malformed (nothing is lost then: the caller writes nothing).
pub fn generate(
    source: &Source,
    lang: Lang,
    opts: &Options,
    existing: Option<&str>,
) -> MResult<Generated> {
    if let Some(app) = &opts.app {
        if !source.apps.values().any(|a| a == app) {
            let known: std::collections::BTreeSet<&String> = source.apps.values().collect();
            return Err(MigrationError::new(format!(
                "no table was created by the app {app:?} (apps: {})",
                known.into_iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let plan = plan::plan(&source.state, &source.apps, opts.app.as_deref());
    let header = Header {
        last: source.last.join(", "),
        app: opts.app.clone(),
        fingerprint: fingerprint(&source.state),
        notes: plan.notes.clone(),
        migrations: source.migrations.clone(),
    };
    let text = match lang {
        Lang::Rust => rust::render(&plan, &header, opts.schema_path.as_deref()),
        Lang::Python => {
            let fresh = python::render(&plan, &header);
            match existing {
                Some(old) => keep::carry(old, &fresh)?,
                None => fresh,
            }
        }
    };
    Ok(Generated {
        text,
        notes: plan.notes,
    })
}

/// What a generated module's header says.
#[derive(Debug, Clone)]
pub struct Header {
    /// The last migration of each app.
    pub last: String,
    /// `--app`, when given.
    pub app: Option<String>,
    /// [`fingerprint`] of the state.
    pub fingerprint: String,
    /// Notes.
    pub notes: Vec<String>,
    /// The migrations (app, id, checksum) the module comes from, for [`check::check_schema`].
    pub migrations: Vec<(String, String, String)>,
}

/// The fingerprint a generated module carries (`chakra-fingerprint: <hex>` in its header),
/// if any.
pub fn fingerprint_of(text: &str) -> Option<&str> {
    text.lines()
        .take(20)
        .find_map(|l| l.split_once("chakra-fingerprint: ").map(|(_, h)| h.trim()))
}

#[cfg(test)]
mod tests;
