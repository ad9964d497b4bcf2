//! [`Placement`]: which database each model lives on (bindings, a router, `default`), and
//! the check that a read statement's tables all live on one database. [`super::Databases`]
//! hands it to each of its databases, so the check runs whichever way a query reaches one
//! (`dbs.route(&q)`, `dbs.for_read::<M>()`, `dbs.get(name)`, a scope).

use super::tables;
use super::Router;
use chakra_dsl::{Error, ModelMeta, Result, Source, Statement};
use std::collections::HashMap;
use std::sync::Arc;

/// Which database each model lives on.
#[derive(Clone)]
pub struct Placement {
    /// Model name → database name.
    pub(crate) bound: HashMap<String, String>,
    pub(crate) router: Option<Arc<dyn Router>>,
    /// The database of a model nothing places (`default`, or the only one).
    pub(crate) default: String,
}

impl Placement {
    /// The database a binding or the router names for `meta` (`None`: the default).
    pub fn named_for(&self, meta: &ModelMeta, write: bool) -> Option<String> {
        if let Some(r) = &self.router {
            let routed = if write {
                r.db_for_write(meta)
            } else {
                r.db_for_read(meta)
            };
            if routed.is_some() {
                return routed;
            }
        }
        self.bound.get(&meta.name).cloned()
    }

    /// The database `meta` is read from.
    pub fn read_db(&self, meta: &ModelMeta) -> String {
        self.named_for(meta, false)
            .unwrap_or_else(|| self.default.clone())
    }

    /// Checks that every table read statement `stmt` reads (joins, subqueries) belongs to a
    /// model of the same database as the model it reads from: else
    /// [`Error::CrossDatabase`] naming both. Writes and tables of no registered model pass.
    pub fn check(&self, stmt: &Statement) -> Result<()> {
        let (Statement::Select(s) | Statement::Count(s) | Statement::Exists(s)) = stmt else {
            return Ok(());
        };
        let known = crate::model::registry::registered_models();
        let model_of = |table: &str| known.iter().find(|m| m.table == table).copied();
        let root = match &s.from {
            Source::Table { name, .. } => model_of(name),
            _ => None,
        };
        let all = tables::tables_of(stmt);
        let Some(root) = root.or_else(|| all.iter().find_map(|t| model_of(t))) else {
            return Ok(());
        };
        self.check_from(root, stmt).map(|_| ())
    }

    /// [`Placement::check`] with the model `stmt` reads from given: the database it reads on.
    pub fn check_from(&self, model: &ModelMeta, stmt: &Statement) -> Result<String> {
        let db = self.read_db(model);
        let known = crate::model::registry::registered_models();
        for table in tables::tables_of(stmt) {
            if table == model.table {
                continue;
            }
            let Some(other) = known.iter().find(|m| m.table == table) else {
                continue;
            };
            let theirs = self.read_db(other);
            if theirs != db {
                return Err(Error::CrossDatabase {
                    model: model.name.clone(),
                    database: db,
                    other_model: other.name.clone(),
                    other_database: theirs,
                });
            }
        }
        Ok(db)
    }
}
