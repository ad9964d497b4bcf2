//! `make`: the next migration files, from the migrations on disk and the models. Pure: the
//! caller writes the files (and asks about renames before calling).
//!
//! A table belongs to the app whose migrations created it; a new table goes to
//! [`MakeOptions::app`] (or to the only app there is). Each new migration depends on its app's
//! current leaf and on the leaves of the apps whose tables its foreign keys reference.

use super::autodetect::{diff_phased, DiffOptions, Renames};
use super::error::{MResult, MigrationError};
use super::graph::{leaves, Graph};
use super::loader::{valid_file_stem, LoadedMigration};
use super::operations::{ConstraintKind, Dependency, Migration, Operation};
use super::state::State;
use super::writer::write_migration;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What `make` is told.
#[derive(Debug, Clone, Default)]
pub struct MakeOptions {
    /// The app new tables go to.
    pub app: Option<String>,
    /// Apps the models declare for their tables (`#[chakra(app = …)]`, `__app__`), by
    /// table; they win over `app` for a new table.
    pub declared_apps: BTreeMap<String, String>,
    /// The migration name (`0002_<name>`); derived from the operations when absent.
    pub name: Option<String>,
    /// Confirmed renames.
    pub renames: Renames,
    /// The value existing rows get for a NOT NULL field added without a database default
    /// (a Python callable default, `chakra.NOW` on the Python side), by `(table, field)`, as
    /// written on the command line (`--default loans.due=now()`): the migration adds the
    /// column with it as default, then drops the default (the model keeps its own).
    pub backfill: BTreeMap<(String, String), String>,
    /// Write such fields without a value for existing rows instead of refusing (for listing
    /// what the models need: `check`, `make --check`).
    pub lenient: bool,
    /// The target owns every named index and table constraint (foreign keys, unique
    /// constraints and raw-SQL checks too), not only what models declare: `migrate inspect`,
    /// whose target is the database.
    pub all_constraints: bool,
}

/// The NOT NULL fields added to existing tables without a database default and with no
/// value in [`MakeOptions::backfill`] yet: `(table, field)`. `make` refuses until each has
/// one (the CLI asks, or takes `--default table.field=value`).
pub fn needs_backfill(
    migrations: &[LoadedMigration],
    models: &State,
    opts: &MakeOptions,
) -> MResult<Vec<(String, chakra_dsl::FieldMeta)>> {
    let graph = Graph::new(migrations.to_vec())?;
    let from = State::replay(graph.ordered.iter().map(|m| &m.migration))?;
    let (first, deferred) = diff_phased(
        &from,
        models,
        &opts.renames,
        DiffOptions {
            model_options: true,
            named_indexes_and_constraints: opts.all_constraints,
        },
    )?;
    Ok(first
        .iter()
        .chain(&deferred)
        .filter_map(|op| match op {
            Operation::AddField { table, field }
                if wants_backfill(field)
                    && !opts
                        .backfill
                        .contains_key(&(table.clone(), field.name.clone())) =>
            {
                Some((table.clone(), field.clone()))
            }
            _ => None,
        })
        .collect())
}

fn wants_backfill(f: &chakra_dsl::FieldMeta) -> bool {
    !f.nullable && f.default.is_none() && !f.auto_increment && !f.primary_key
}

/// Reads a value typed on the command line (`42`, `1.5`, `true`, `now()`, `'text'` or
/// `text`) as a default of the field's type.
pub fn backfill_value(
    text: &str,
    f: &chakra_dsl::FieldMeta,
) -> Result<chakra_dsl::DefaultValue, String> {
    use super::values::RawDefault;
    let t = text.trim();
    let raw = if let Ok(i) = t.parse::<i64>() {
        RawDefault::Int(i)
    } else if let Ok(x) = t.parse::<f64>() {
        RawDefault::Float(x)
    } else if t == "true" || t == "false" {
        RawDefault::Bool(t == "true")
    } else {
        let unquoted = t
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .or_else(|| t.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            .unwrap_or(t);
        RawDefault::Str(unquoted.to_owned())
    };
    match (super::values::default_from_raw(&raw, &f.ty), &raw) {
        (Ok(d), _) => Ok(d),
        // A number where text is wanted is still text ("007").
        (Err(_), RawDefault::Int(_) | RawDefault::Float(_) | RawDefault::Bool(_)) => {
            super::values::default_from_raw(&RawDefault::Str(t.to_owned()), &f.ty)
        }
        (Err(e), _) => Err(e),
    }
}

/// Replaces each AddField that needs a value for existing rows by AddField with that value
/// as default, then AlterField back to no default.
fn with_backfills(ops: Vec<Operation>, opts: &MakeOptions) -> MResult<Vec<Operation>> {
    let mut out = Vec::with_capacity(ops.len());
    let mut missing = Vec::new();
    for op in ops {
        match op {
            Operation::AddField { table, field } if wants_backfill(&field) => {
                match opts.backfill.get(&(table.clone(), field.name.clone())) {
                    Some(text) => {
                        let value = backfill_value(text, &field).map_err(|why| {
                            MigrationError::new(format!(
                                "--default {table}.{}={text}: {why}",
                                field.name
                            ))
                        })?;
                        let mut with_default = field.clone();
                        with_default.default = Some(value);
                        out.push(Operation::AddField {
                            table: table.clone(),
                            field: with_default,
                        });
                        out.push(Operation::AlterField {
                            table,
                            field,
                            lossy: false,
                            using: None,
                        });
                    }
                    None if opts.lenient => out.push(Operation::AddField { table, field }),
                    None => {
                        missing.push(format!("{table}.{}", field.name));
                        out.push(Operation::AddField { table, field });
                    }
                }
            }
            other => out.push(other),
        }
    }
    if !missing.is_empty() {
        return Err(MigrationError::new(format!(
            "{} NOT NULL without a database default (a callable default lives in the program, \
             not the database), added to a table that may have rows: say what existing rows get \
             with --default {}=VALUE (for example now() for a DateTime), or make the field \
             nullable, or give it a constant or server default (chakra.NOW)",
            if missing.len() == 1 {
                format!("{} is", missing[0])
            } else {
                format!("{} are", missing.join(", "))
            },
            missing[0]
        )));
    }
    Ok(out)
}

/// A migration file to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMigration {
    /// Where (`<dir>/<app>/<id>.toml`).
    pub path: PathBuf,
    /// The migration.
    pub migration: Migration,
    /// Its canonical text.
    pub text: String,
}

/// The app owning each table: the app of the migration that created it (or renamed it to its
/// current name).
pub fn table_apps(graph: &Graph) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for m in &graph.ordered {
        for op in &m.migration.operations {
            match op {
                Operation::CreateModel { table, .. } => {
                    out.insert(table.clone(), m.migration.app.clone());
                }
                Operation::RenameModel {
                    table, new_table, ..
                } => {
                    if let Some(app) = out.remove(table) {
                        out.insert(new_table.clone(), app);
                    }
                }
                Operation::DeleteModel { table } => {
                    out.remove(table);
                }
                _ => {}
            }
        }
    }
    out
}

fn op_table(op: &Operation) -> Option<&str> {
    match op {
        Operation::CreateModel { table, .. }
        | Operation::DeleteModel { table }
        | Operation::RenameModel { table, .. }
        | Operation::AddField { table, .. }
        | Operation::RemoveField { table, .. }
        | Operation::AlterField { table, .. }
        | Operation::RenameField { table, .. }
        | Operation::AddIndex { table, .. }
        | Operation::RemoveIndex { table, .. }
        | Operation::AddConstraint { table, .. }
        | Operation::RemoveConstraint { table, .. } => Some(table),
        Operation::RunSql { .. } => None,
    }
}

fn referenced_tables(op: &Operation) -> Vec<String> {
    let fields = match op {
        Operation::CreateModel { fields, .. } => fields.iter().collect(),
        Operation::AddField { field, .. } | Operation::AlterField { field, .. } => vec![field],
        Operation::AddConstraint { constraint, .. } => {
            return match &constraint.kind {
                ConstraintKind::ForeignKey { table, .. } => vec![table.clone()],
                _ => vec![],
            }
        }
        _ => vec![],
    };
    fields
        .into_iter()
        .filter_map(|f| f.references.as_ref().map(|r| r.table.clone()))
        .collect()
}

fn next_number(migrations: &[LoadedMigration], app: &str) -> u32 {
    migrations
        .iter()
        .filter(|m| m.migration.app == app)
        .filter_map(|m| m.migration.id.get(..4)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

fn auto_name(ops: &[Operation], first: bool) -> String {
    if first {
        return "initial".into();
    }
    let name = match ops {
        [Operation::CreateModel { table, .. }] => format!("create_{table}"),
        [Operation::DeleteModel { table }] => format!("delete_{table}"),
        [Operation::RenameModel { new_table, .. }] => format!("rename_to_{new_table}"),
        [Operation::AddField { table, field }] => format!("{table}_{}", field.name),
        [Operation::AlterField { table, field, .. }] => format!("alter_{table}_{}", field.name),
        [Operation::RemoveField { table, name }] => format!("remove_{table}_{name}"),
        [Operation::RenameField {
            table, new_name, ..
        }] => format!("rename_{table}_{new_name}"),
        _ => "auto".into(),
    };
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    clean
}

/// The migrations that bring the files in line with `models` (empty when they agree).
pub fn make(
    migrations: &[LoadedMigration],
    dir: &Path,
    models: &State,
    opts: &MakeOptions,
) -> MResult<Vec<NewMigration>> {
    let graph = Graph::new(migrations.to_vec())?;
    let from = State::replay(graph.ordered.iter().map(|m| &m.migration))?;
    let (first, deferred) = diff_phased(
        &from,
        models,
        &opts.renames,
        DiffOptions {
            model_options: true,
            named_indexes_and_constraints: opts.all_constraints,
        },
    )?;
    if first.is_empty() && deferred.is_empty() {
        return Ok(Vec::new());
    }
    let first = with_backfills(first, opts)?;
    let deferred = with_backfills(deferred, opts)?;
    let mut owners = table_apps(&graph);
    let apps: BTreeSet<String> = graph
        .ordered
        .iter()
        .map(|m| m.migration.app.clone())
        .collect();
    let default_app = match (&opts.app, apps.len()) {
        (Some(a), _) => Some(a.clone()),
        (None, 1) => apps.iter().next().cloned(),
        _ => None,
    };
    // (phase, app) → operations, in order.
    let mut groups: BTreeMap<(u8, String), Vec<Operation>> = BTreeMap::new();
    for (phase, ops) in [(0u8, first), (1u8, deferred)] {
        for op in ops {
            let table = op_table(&op).unwrap_or_default().to_owned();
            if let Operation::RenameModel { new_table, .. } = &op {
                if let Some(a) = owners.get(&table).cloned() {
                    owners.insert(new_table.clone(), a);
                }
            }
            let app = match owners.get(&table) {
                Some(a) => a.clone(),
                None if opts.declared_apps.contains_key(&table) => {
                    let a = opts.declared_apps[&table].clone();
                    owners.insert(table.clone(), a.clone());
                    a
                }
                None => {
                    let a = default_app.clone().ok_or_else(|| {
                        MigrationError::new(format!(
                            "new table {table:?}: which app does it belong to? declare it on the \
                             model (`#[chakra(app = \"…\")]`, `__app__ = \"…\"`) or pass --app"
                        ))
                    })?;
                    owners.insert(table.clone(), a.clone());
                    a
                }
            };
            groups.entry((phase, app)).or_default().push(op);
        }
    }
    // Ids first, so dependencies can name any new migration.
    let mut numbers: BTreeMap<String, u32> = BTreeMap::new();
    let mut keys: BTreeMap<(u8, String), Dependency> = BTreeMap::new();
    for ((phase, app), ops) in &groups {
        if !valid_file_stem(&format!("0001_{app}")) {
            return Err(MigrationError::new(format!(
                "app name {app:?}: use letters, digits and underscores"
            )));
        }
        let n = numbers
            .entry(app.clone())
            .or_insert_with(|| next_number(migrations, app));
        let name = match &opts.name {
            Some(name) if *phase == 0 => name.clone(),
            Some(name) => format!("{name}_keys"),
            None => auto_name(ops, *n == 1),
        };
        let id = format!("{n:04}_{name}");
        if !valid_file_stem(&id) {
            return Err(MigrationError::new(format!(
                "migration name {name:?}: use letters, digits and underscores"
            )));
        }
        *n += 1;
        keys.insert(
            (*phase, app.clone()),
            Dependency {
                app: app.clone(),
                id,
            },
        );
    }
    // Tables the new migrations create (or rename into being): others depend on those.
    let mut created_in: BTreeMap<String, Dependency> = BTreeMap::new();
    for (group, ops) in &groups {
        for op in ops {
            match op {
                Operation::CreateModel { table, .. }
                | Operation::RenameModel {
                    new_table: table, ..
                } => {
                    created_in.insert(table.clone(), keys[group].clone());
                }
                _ => {}
            }
        }
    }
    let current_leaves = leaves(migrations);
    let leaf_deps = |a: &str| -> Vec<Dependency> {
        current_leaves
            .get(a)
            .into_iter()
            .flatten()
            .map(|id| Dependency {
                app: a.to_owned(),
                id: id.clone(),
            })
            .collect()
    };
    let mut out: Vec<NewMigration> = Vec::new();
    for ((phase, app), ops) in groups {
        let mut deps: BTreeSet<Dependency> = BTreeSet::new();
        match (phase, keys.get(&(0, app.clone()))) {
            (1, Some(own_first)) => {
                deps.insert(own_first.clone());
            }
            _ => deps.extend(leaf_deps(&app)),
        }
        for t in ops.iter().flat_map(referenced_tables) {
            let Some(a) = owners.get(&t).filter(|a| **a != app) else {
                continue;
            };
            match created_in.get(&t) {
                Some(k) => {
                    deps.insert(k.clone());
                }
                None => deps.extend(leaf_deps(a)),
            }
        }
        let key = &keys[&(phase, app.clone())];
        let migration = Migration {
            id: key.id.clone(),
            app: app.clone(),
            dependencies: deps.into_iter().collect(),
            atomic: true,
            lock_timeout: None,
            operations: ops,
        };
        out.push(NewMigration {
            path: dir.join(&app).join(format!("{}.toml", key.id)),
            text: write_migration(&migration),
            migration,
        });
    }
    // The new migrations must order: a cycle between apps cannot be written automatically.
    let mut all = migrations.to_vec();
    for m in &out {
        all.push(LoadedMigration::from_text(&m.text, &m.path)?);
    }
    Graph::new(all).map_err(|e| {
        MigrationError::new(format!(
            "the new migrations would not apply in any order ({}); split the change, or write \
             the migrations by hand",
            e.message
        ))
    })?;
    Ok(out)
}

/// Merge migrations for every app with several leaves (`make --merge`): no operations,
/// depending on all the leaves.
pub fn merge(migrations: &[LoadedMigration], dir: &Path) -> MResult<Vec<NewMigration>> {
    let mut out = Vec::new();
    for (app, ids) in leaves(migrations) {
        if ids.len() < 2 {
            continue;
        }
        let id = format!("{:04}_merge", next_number(migrations, &app));
        let migration = Migration {
            id: id.clone(),
            app: app.clone(),
            dependencies: ids
                .iter()
                .map(|i| Dependency {
                    app: app.clone(),
                    id: i.clone(),
                })
                .collect(),
            atomic: true,
            lock_timeout: None,
            operations: Vec::new(),
        };
        out.push(NewMigration {
            path: dir.join(&app).join(format!("{id}.toml")),
            text: write_migration(&migration),
            migration,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "make_tests.rs"]
mod tests;
