//! Tables from model metadata (`chakra.create_tables`, `drop_tables`, `create_table_sql`):
//! the models asked for, resolved against every registered model (foreign keys pointed at
//! tables, join tables of many-to-many relations added, referenced tables first), then the
//! core's DDL.

use crate::errors::to_py as err;
use crate::job::{Finish, Job, Op};
use crate::model::ModelHandle;
use crate::registry::{self, Subset};
use crate::session::target_of;
use chakra::sql::ddl;
use chakra_dsl::relations::{resolve_schema, Models};
use chakra_dsl::{ModelMeta, RelationKind, Result};
use pyo3::prelude::*;
use std::sync::Arc;

/// The tables of `models`: theirs and their many-to-many join tables (declared as models or
/// not), foreign keys resolved, referenced tables first.
pub fn tables_of(models: &[Arc<ModelMeta>]) -> Result<Vec<ModelMeta>> {
    let snap = registry::snapshot();
    let mut only: Vec<Arc<ModelMeta>> = models.to_vec();
    for m in models {
        for r in &m.relations {
            let RelationKind::ManyToMany { through, .. } = &r.kind else {
                continue;
            };
            if only.iter().any(|o| &o.table == through) {
                continue;
            }
            if let Some(j) = snap.all().into_iter().find(|o| &o.table == through) {
                only.push(j);
            }
        }
    }
    resolve_schema(&Subset { all: &snap, only })
}

fn metas(models: &[PyRef<'_, ModelHandle>]) -> Vec<Arc<ModelMeta>> {
    models.iter().map(|m| m.info.meta.clone()).collect()
}

/// `CREATE TABLE` (with `REFERENCES … ON DELETE …`, indexes and join tables) for the
/// models, in one transaction; `if_not_exists` leaves existing tables alone. Fails before
/// any I/O when a relation points at a model that is not registered.
#[pyfunction]
#[pyo3(signature = (target, models, if_not_exists=false))]
pub fn create_tables_job(
    target: &Bound<'_, PyAny>,
    models: Vec<PyRef<'_, ModelHandle>>,
    if_not_exists: bool,
) -> PyResult<Job> {
    let tables = tables_of(&metas(&models)).map_err(err)?;
    Ok(Job::new(
        Op::CreateTables(target_of(target)?, tables, if_not_exists),
        Finish::Nothing,
    ))
}

/// `DROP TABLE IF EXISTS` for the models and their join tables, referencing tables first.
#[pyfunction]
pub fn drop_tables_job(
    target: &Bound<'_, PyAny>,
    models: Vec<PyRef<'_, ModelHandle>>,
) -> PyResult<Job> {
    let tables = tables_of(&metas(&models)).map_err(err)?;
    Ok(Job::new(
        Op::DropTables(target_of(target)?, tables),
        Finish::Nothing,
    ))
}

/// The `CREATE TABLE` statements of a model (then its join tables) for a dialect
/// (`"postgres"` / `"sqlite"`).
#[pyfunction]
pub fn create_table_sql(model: PyRef<'_, ModelHandle>, dialect: &str) -> PyResult<Vec<String>> {
    let d = crate::query::dialect_of(dialect)?;
    let tables = tables_of(std::slice::from_ref(&model.info.meta)).map_err(err)?;
    ddl::create_tables(&tables, d, false).map_err(err)
}
