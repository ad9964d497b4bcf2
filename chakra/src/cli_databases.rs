//! `--database NAME` on the migrate commands: the named database's own migrations folder
//! (`migrations = "…"` under `[databases.NAME]` in `./chakra.toml`, used unless `--dir` is
//! given) and, for `make` and `check`, its model set: the models bound to it in code
//! ([`super::Bindings`]: Python's `__database__`) or by chakra.toml's `models = [...]`,
//! and for `default` every model bound nowhere else. A many-to-many join table the models
//! do not map goes with the models it joins.

use super::{Bindings, Command, Migrate};
use crate::databases::settings::{from_toml, DatabaseConfig};
use crate::databases::DEFAULT_DATABASE;
use chakra_dsl::ModelMeta;
use std::collections::HashSet;
use std::path::PathBuf;

/// The `--database` name and the `--dir` of a command, when it takes them.
fn target(cmd: &mut Command) -> Option<(Option<String>, &mut PathBuf, bool)> {
    let Command::Migrate(m) = cmd else {
        return None;
    };
    match m {
        Migrate::Make { database, dir, .. } => Some((database.clone(), dir, true)),
        Migrate::Apply { common, .. }
        | Migrate::Rollback { common, .. }
        | Migrate::Status { common, .. }
        | Migrate::Sql { common, .. } => Some((common.database.clone(), &mut common.dir, false)),
        Migrate::Check { common } => Some((common.database.clone(), &mut common.dir, true)),
        _ => None,
    }
}

/// The databases `./chakra.toml` declares.
fn declared() -> crate::Result<Vec<(String, DatabaseConfig)>> {
    from_toml(&std::fs::read_to_string("chakra.toml").unwrap_or_default())
}

/// Sets the command's folder to the named database's own (unless `--dir` was given) and
/// returns the models it counts: with `--database NAME`, those of NAME's model set; else
/// every model, as with one database.
pub(super) fn choose(
    cmd: &mut Command,
    dir_given: bool,
    models: Vec<ModelMeta>,
    bindings: &Bindings,
) -> crate::Result<Vec<ModelMeta>> {
    let Some((Some(name), dir, uses_models)) = target(cmd) else {
        return Ok(models);
    };
    let declared = declared()?;
    let own = declared.iter().find(|(n, _)| *n == name).map(|(_, c)| c);
    if own.is_none() && name != DEFAULT_DATABASE {
        let mut known: Vec<String> = declared.iter().map(|(n, _)| n.clone()).collect();
        if known.is_empty() {
            known.push(DEFAULT_DATABASE.to_owned());
        }
        return Err(crate::Error::UnknownDatabase {
            name,
            known: known.join(", "),
        });
    }
    if let Some(folder) = own
        .and_then(|c| c.migrations.as_ref())
        .filter(|_| !dir_given)
    {
        *dir = PathBuf::from(folder);
    }
    if !uses_models {
        return Ok(models);
    }
    let bound = all_bindings(&declared, bindings)?;
    Ok(model_set(models, &name, &bound))
}

/// Code bindings and chakra.toml's `models` lists together; a model bound to two databases
/// is an error naming both.
fn all_bindings(declared: &[(String, DatabaseConfig)], code: &Bindings) -> crate::Result<Bindings> {
    let mut all = code.clone();
    for (db, c) in declared {
        for m in &c.models {
            match all.get(m) {
                Some(other) if other != db => {
                    return Err(crate::Error::Config(format!(
                        "model {m} is bound to database {other:?} and, by chakra.toml \
                         [databases.{db}] models, to {db:?}: bind it to one"
                    )))
                }
                _ => {
                    all.insert(m.clone(), db.clone());
                }
            }
        }
    }
    Ok(all)
}

/// The models on database `name`: bound to it, or (for `default`) bound nowhere; a join
/// table no model maps (named after its table, bound nowhere) goes where every model it
/// references goes.
fn model_set(models: Vec<ModelMeta>, name: &str, bound: &Bindings) -> Vec<ModelMeta> {
    let db_of = |m: &ModelMeta| {
        bound
            .get(&m.name)
            .map(String::as_str)
            .unwrap_or(DEFAULT_DATABASE)
            .to_owned()
    };
    let here: HashSet<(String, String)> = models
        .iter()
        .filter(|m| db_of(m) == name)
        .map(|m| (m.name.clone(), m.table.clone()))
        .collect();
    let on_here = |r: &chakra_dsl::meta::ForeignKeyRef| {
        here.iter().any(|(n, t)| {
            (!r.model.is_empty() && *n == r.model) || (!r.table.is_empty() && *t == r.table)
        })
    };
    models
        .into_iter()
        .filter(|m| {
            let refs: Vec<_> = m
                .fields
                .iter()
                .filter_map(|f| f.references.as_ref())
                .collect();
            let join_table = m.name == m.table && !bound.contains_key(&m.name) && refs.len() == 2;
            if join_table {
                return refs.iter().all(|r| on_here(r));
            }
            db_of(m) == name
        })
        .collect()
}
