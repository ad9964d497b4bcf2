//! Creating and dropping the tables of models straight from their metadata (tests, demos,
//! prototypes; applications with a history use migrations). Foreign keys become
//! `REFERENCES … ON DELETE …` with an index, and many-to-many join tables are created with
//! the models that declare them.

use crate::exec::Pool;
use crate::model::registered_models;
use crate::sql::ddl;
use chakra_dsl::relations::resolve_schema;
use chakra_dsl::{ModelMeta, Result};
use std::sync::Arc;

/// The tables of `models` (and the join tables of their many-to-many relations), with
/// foreign keys resolved against `models` and every model of the binary, referenced tables
/// first.
pub fn tables_of(models: &[&Arc<ModelMeta>]) -> Result<Vec<ModelMeta>> {
    let mut set: Vec<Arc<ModelMeta>> = registered_models().into_iter().cloned().collect();
    set.extend(models.iter().map(|m| (*m).clone()));
    let all = resolve_schema(&set)?;
    let wanted: Vec<&str> = models.iter().map(|m| m.table.as_str()).collect();
    Ok(all
        .into_iter()
        .filter(|t| {
            wanted.contains(&t.table.as_str())
                || (t.relations.is_empty()
                    && models.iter().any(|m| {
                        m.relations.iter().any(|r| {
                            matches!(&r.kind, chakra_dsl::RelationKind::ManyToMany { through, .. } if through == &t.table)
                        })
                    }))
        })
        .collect())
}

/// Creates the tables of `models` (see [`tables_of`]) in one transaction; with
/// `if_not_exists`, tables that exist are left as they are.
pub async fn create_tables(
    pool: &Pool,
    models: &[&Arc<ModelMeta>],
    if_not_exists: bool,
) -> Result<()> {
    let tables = tables_of(models)?;
    let stmts = ddl::create_tables(&tables, pool.dialect(), if_not_exists)?;
    let mut tx = pool.begin().await?;
    for s in stmts {
        tx.batch_execute(&s).await?;
    }
    tx.commit().await
}

/// Drops the tables of `models` and their join tables, if they exist.
pub async fn drop_tables(pool: &Pool, models: &[&Arc<ModelMeta>]) -> Result<()> {
    let tables = tables_of(models)?;
    for s in ddl::drop_tables(&tables, pool.dialect())? {
        pool.batch_execute(&s).await?;
    }
    Ok(())
}
