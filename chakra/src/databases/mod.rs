//! Several databases in one process, and read replicas with read-your-writes.
//!
//! - [`settings`] — [`DatabaseConfig`]: a named database's URL, pool settings, replicas and
//!   read policy (`chakra.toml` `[databases.NAME]`, or code).
//! - [`database`] — [`Database`] (a primary pool and its replicas) and [`Scope`], the
//!   executor that routes a read-your-writes scope's statements.
//! - [`replica`] — [`Replica`]: one replica's pool and health (down, lagging, retried).
//! - [`wal`] — WAL positions, [`ReadPolicy`], the [`WalMark`] a scope records its writes in.
//! - [`tables`] — the tables a statement reads (a query stays on one database).
//! - [`placement`] — [`Placement`]: which database each model lives on, and the check
//!   that a read stays on one, run by every database of a [`Databases`].
//!
//! [`Databases`] holds the named databases, which models are bound to which
//! ([`DatabasesBuilder::bind`], or a [`Router`]), and refuses a query that would join
//! across databases ([`Error::CrossDatabase`]). One database configured the old way
//! (`[database]`, `CHAKRA_DATABASE_URL`) is the database `default`, and a bare [`Pool`]
//! keeps working exactly as before.

pub mod database;
pub mod placement;
pub mod replica;
pub mod settings;
pub mod tables;
pub mod wal;

pub use database::{Database, ReadCounts, Scope};
pub use placement::Placement;
pub use replica::{Replica, Skip};
pub use settings::{DatabaseConfig, ReplicaSettings, DEFAULT_DATABASE};
pub use wal::{Lsn, ReadPolicy, WalMark};

use crate::model::Model;
use crate::Pool;
use chakra_dsl::{Error, ModelMeta, Result, Statement};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Decides a model's database when no binding names one (Django's database routers).
/// `None`: the next rule decides (a binding, then `default`).
pub trait Router: Send + Sync {
    /// The database a read of `model` runs on.
    fn db_for_read(&self, _model: &ModelMeta) -> Option<String> {
        None
    }
    /// The database a write of `model` runs on.
    fn db_for_write(&self, _model: &ModelMeta) -> Option<String> {
        None
    }
}

/// The named databases of a process, and which models live where.
#[derive(Clone)]
pub struct Databases {
    by_name: BTreeMap<String, Database>,
    /// Model name → database name.
    bound: HashMap<String, String>,
    router: Option<Arc<dyn Router>>,
}

impl std::fmt::Debug for Databases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Databases")
            .field("databases", &self.by_name.keys().collect::<Vec<_>>())
            .field("bound", &self.bound)
            .finish()
    }
}

/// Builds [`Databases`] in code: `Databases::builder().database("default", url)
/// .database("analytics", url2).bind::<Event>("analytics").connect().await?`.
#[derive(Default)]
pub struct DatabasesBuilder {
    configs: Vec<(String, DatabaseConfig)>,
    pools: Vec<(String, Pool, DatabaseConfig)>,
    bound: HashMap<String, String>,
    router: Option<Arc<dyn Router>>,
}

impl DatabasesBuilder {
    /// Adds a database at `url` (default settings, no replicas).
    pub fn database(self, name: &str, url: &str) -> DatabasesBuilder {
        self.database_with(name, DatabaseConfig::new(url))
    }

    /// Adds a database with its settings and replicas.
    pub fn database_with(mut self, name: &str, config: DatabaseConfig) -> DatabasesBuilder {
        self.configs.retain(|(n, _)| n != name);
        self.configs.push((name.to_owned(), config));
        self
    }

    /// Adds a database around a pool already connected (its replicas, if any, in
    /// `config`; its URL there is not used).
    pub fn pool(mut self, name: &str, pool: Pool, config: DatabaseConfig) -> DatabasesBuilder {
        self.pools.push((name.to_owned(), pool, config));
        self
    }

    /// Binds model `M` to database `name`: its queries, `get`, writes and sessions made
    /// through [`Databases`] go there.
    pub fn bind<M: Model>(self, name: &str) -> DatabasesBuilder {
        self.bind_model(M::NAME, name)
    }

    /// Binds the model named `model` to database `name`.
    pub fn bind_model(mut self, model: &str, name: &str) -> DatabasesBuilder {
        self.bound.insert(model.to_owned(), name.to_owned());
        self
    }

    /// Routes models no binding names.
    pub fn router(mut self, router: impl Router + 'static) -> DatabasesBuilder {
        self.router = Some(Arc::new(router));
        self
    }

    /// Connects every database's primary (failing at once, naming it, when one cannot be
    /// reached). A binding to a database not declared is [`Error::UnknownDatabase`]. The
    /// models a database's settings name (`models = [...]` in chakra.toml,
    /// [`DatabaseConfig::model`]) are bound to it as [`DatabasesBuilder::bind`] does; a model
    /// bound to two databases is an [`Error::Config`] naming both.
    pub async fn connect(mut self) -> Result<Databases> {
        let named = self
            .configs
            .iter()
            .map(|(n, c)| (n, c))
            .chain(self.pools.iter().map(|(n, _, c)| (n, c)));
        for (db, config) in named {
            for m in &config.models {
                match self.bound.get(m) {
                    Some(other) if other != db => {
                        return Err(Error::Config(format!(
                            "model {m} is bound to database {other:?} and, by its settings, to {db:?}: bind it to one"
                        )))
                    }
                    _ => {
                        self.bound.insert(m.clone(), db.clone());
                    }
                }
            }
        }
        let mut by_name = BTreeMap::new();
        for (name, config) in &self.configs {
            crate::dsl::ident::validate(name)?;
            by_name.insert(name.clone(), Database::connect(name, config).await?);
        }
        for (name, pool, config) in self.pools {
            crate::dsl::ident::validate(&name)?;
            let db = Database::with_primary(&name, pool, &config)?;
            by_name.insert(name, db);
        }
        let dbs = Databases {
            by_name,
            bound: self.bound,
            router: self.router,
        };
        for name in dbs.bound.values() {
            dbs.get(name)?;
        }
        let placement = Arc::new(dbs.placement()?);
        for db in dbs.by_name.values() {
            db.set_placement(placement.clone());
        }
        Ok(dbs)
    }
}

impl Databases {
    /// A builder.
    pub fn builder() -> DatabasesBuilder {
        DatabasesBuilder::default()
    }

    /// The databases `chakra.toml` declares (`[databases.NAME]`, or `[database]` as
    /// `default`); `CHAKRA_DATABASE_URL`, when set, is the `default` database's URL; with
    /// nothing configured, `default` is the embedded default, as [`Pool::connect_default`].
    pub async fn from_config() -> Result<Databases> {
        let text = std::fs::read_to_string("chakra.toml").ok();
        let mut configs = match &text {
            Some(t) => settings::from_toml(t)?,
            None => Vec::new(),
        };
        let env = std::env::var("CHAKRA_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty());
        match configs.iter_mut().find(|(n, _)| n == DEFAULT_DATABASE) {
            Some((_, c)) => {
                if let Some(url) = env {
                    c.url = url;
                }
            }
            None => configs.push((
                DEFAULT_DATABASE.to_owned(),
                DatabaseConfig::new(crate::config::default_url()?),
            )),
        }
        let mut b = Databases::builder();
        for (name, c) in configs {
            b = b.database_with(&name, c);
        }
        b.connect().await
    }

    /// The database named `name`; [`Error::UnknownDatabase`] when none is.
    pub fn get(&self, name: &str) -> Result<&Database> {
        self.by_name
            .get(name)
            .ok_or_else(|| Error::UnknownDatabase {
                name: name.to_owned(),
                known: self.names().join(", "),
            })
    }

    /// The names of the databases, sorted.
    pub fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }

    /// The `default` database (the only one, when only one is declared).
    pub fn default_db(&self) -> Result<&Database> {
        match self.by_name.get(DEFAULT_DATABASE) {
            Some(d) => Ok(d),
            None if self.by_name.len() == 1 => Ok(self.by_name.values().next().expect("one")),
            None => self.get(DEFAULT_DATABASE),
        }
    }

    /// Where each model lives, as this set's databases check their reads against.
    fn placement(&self) -> Result<Placement> {
        Ok(Placement {
            bound: self.bound.clone(),
            router: self.router.clone(),
            default: self
                .default_db()
                .map(|d| d.name().to_owned())
                .unwrap_or_else(|_| DEFAULT_DATABASE.to_owned()),
        })
    }

    fn name_for(&self, meta: &ModelMeta, write: bool) -> Option<String> {
        Placement {
            bound: self.bound.clone(),
            router: self.router.clone(),
            default: String::new(),
        }
        .named_for(meta, write)
    }

    /// The database model `meta` is read from (router, then binding, then `default`).
    pub fn for_read_meta(&self, meta: &ModelMeta) -> Result<&Database> {
        match self.name_for(meta, false) {
            Some(n) => self.get(&n),
            None => self.default_db(),
        }
    }

    /// The database model `meta` is written to (router, then binding, then `default`).
    pub fn for_write_meta(&self, meta: &ModelMeta) -> Result<&Database> {
        match self.name_for(meta, true) {
            Some(n) => self.get(&n),
            None => self.default_db(),
        }
    }

    /// The database `M` is read from: `User::get(dbs.for_read::<User>()?, 1)`.
    pub fn for_read<M: Model>(&self) -> Result<&Database> {
        self.for_read_meta(M::meta())
    }

    /// The database `M` is written to: `Session::new(dbs.for_write::<User>()?.primary())`.
    pub fn for_write<M: Model>(&self) -> Result<&Database> {
        self.for_write_meta(M::meta())
    }

    /// The database `model`'s read statement `stmt` runs on, after checking that every
    /// table it reads (relations followed in filters, `select_related` joins, subqueries)
    /// belongs to a model of the same database: else [`Error::CrossDatabase`] naming both.
    /// Tables of no registered model are not checked. The same check runs on every read
    /// through a database of this set ([`Databases::for_read`], [`Databases::get`], a
    /// [`Scope`]), so `route` only adds the choice of database.
    pub fn route_statement(&self, model: &ModelMeta, stmt: &Statement) -> Result<&Database> {
        let db = self.for_read_meta(model)?;
        let placement = self.placement()?;
        placement.check_from(model, stmt)?;
        Ok(db)
    }

    /// The database query `q` over `M` runs on ([`Databases::route_statement`]):
    /// `User::objects().filter(…).all(dbs.route(&q)?)`.
    pub fn route<M: Model>(&self, q: &crate::query::Query<M>) -> Result<&Database> {
        // The load plan's statement: select_related joins included.
        let stmt = Statement::Select(q.load_plan()?.select);
        self.route_statement(M::meta(), &stmt)
    }
}
