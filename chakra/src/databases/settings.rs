//! What configures one named database: its URL, pool settings, replicas and how reads use
//! them ([`DatabaseConfig`]), read from `chakra.toml` (`[databases.NAME]`, or the single
//! `[database]` as `default`) or built in code.

use super::wal::ReadPolicy;
use crate::config::{parse_duration, PoolSettings, POOL_PARAMS};
use chakra_dsl::{Error, Result};
use std::time::Duration;

/// The settings of a `[databases.NAME]` table beyond the pool's own ([`POOL_PARAMS`]).
pub const DATABASE_KEYS: [&str; 10] = [
    "url",
    "migrations",
    "models",
    "replicas",
    "replica_reads",
    "read_your_writes",
    "replica_wait",
    "max_replica_lag",
    "replica_retry",
    "sticky_for",
];

/// The name of the database used when none is chosen.
pub const DEFAULT_DATABASE: &str = "default";

/// How a database's reads use its replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSettings {
    /// `replica_reads`: reads outside transactions go to a replica without being asked
    /// per query (default false: replicas are used only where a query or scope opts in).
    pub reads: bool,
    /// `read_your_writes`: `exact` (default), `sticky`, `window` or `none`.
    pub policy: ReadPolicy,
    /// `replica_wait`: how long an exact read waits for a replica to replay the scope's
    /// last write before reading on the primary (default 1 s).
    pub wait: Duration,
    /// `max_replica_lag`: a replica further behind than this is skipped (default 30 s).
    pub max_lag: Duration,
    /// `replica_retry`: how long a replica found down or lagging is skipped before it is
    /// tried again (default 2 s).
    pub retry_after: Duration,
    /// `sticky_for`: how long after a write the `sticky` and `window` policies read on the
    /// primary (default 2 s).
    pub sticky_for: Duration,
}

impl Default for ReplicaSettings {
    fn default() -> Self {
        ReplicaSettings {
            reads: false,
            policy: ReadPolicy::Exact,
            wait: Duration::from_secs(1),
            max_lag: Duration::from_secs(30),
            retry_after: Duration::from_secs(2),
            sticky_for: Duration::from_secs(2),
        }
    }
}

/// One named database: where it is, its pool settings, its replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// The primary's URL (query parameters such as `?pooler=transaction` apply to it).
    pub url: String,
    /// Pool settings of the primary (`max_size`, `pooler`, …); each replica URL may carry
    /// its own as query parameters.
    pub settings: PoolSettings,
    /// The replicas' URLs (PostgreSQL standbys).
    pub replicas: Vec<String>,
    /// How reads use the replicas.
    pub replica: ReplicaSettings,
    /// The database's own migrations folder (`migrations = "migrations/analytics"`): what
    /// `chakra migrate … --database NAME` reads when `--dir` is not given.
    pub migrations: Option<String>,
    /// Models bound to the database by name (`models = ["Event", "PageView"]`): the model
    /// set `chakra migrate make|check --database NAME` compares with its migrations (with
    /// those bound in code: Python's `__database__`, [`crate::cli::exit_status_bound`]).
    pub models: Vec<String>,
}

impl DatabaseConfig {
    /// A database at `url` with default settings and no replicas.
    pub fn new(url: impl Into<String>) -> DatabaseConfig {
        DatabaseConfig {
            url: url.into(),
            settings: PoolSettings::default(),
            replicas: Vec::new(),
            replica: ReplicaSettings::default(),
            migrations: None,
            models: Vec::new(),
        }
    }

    /// The database's own migrations folder (see [`DatabaseConfig::migrations`]).
    pub fn migrations_dir(mut self, dir: impl Into<String>) -> DatabaseConfig {
        self.migrations = Some(dir.into());
        self
    }

    /// Binds the model named `model` to this database for the migration commands (see
    /// [`DatabaseConfig::models`]).
    pub fn model(mut self, model: impl Into<String>) -> DatabaseConfig {
        self.models.push(model.into());
        self
    }

    /// Adds a replica.
    pub fn replica(mut self, url: impl Into<String>) -> DatabaseConfig {
        self.replicas.push(url.into());
        self
    }

    /// Sends reads outside transactions to replicas by default (`replica_reads = true`).
    pub fn replica_reads(mut self, on: bool) -> DatabaseConfig {
        self.replica.reads = on;
        self
    }

    /// The read-your-writes policy.
    pub fn read_your_writes(mut self, policy: ReadPolicy) -> DatabaseConfig {
        self.replica.policy = policy;
        self
    }

    /// How long an exact read waits for a replica before reading on the primary.
    pub fn replica_wait(mut self, d: Duration) -> DatabaseConfig {
        self.replica.wait = d;
        self
    }

    /// The lag past which a replica is skipped.
    pub fn max_replica_lag(mut self, d: Duration) -> DatabaseConfig {
        self.replica.max_lag = d;
        self
    }

    /// How long a replica found down or lagging is skipped.
    pub fn replica_retry(mut self, d: Duration) -> DatabaseConfig {
        self.replica.retry_after = d;
        self
    }

    /// How long the sticky and window policies read on the primary after a write.
    pub fn sticky_for(mut self, d: Duration) -> DatabaseConfig {
        self.replica.sticky_for = d;
        self
    }

    /// Reads one `chakra.toml` table (`[databases.NAME]`, or `[database]`). Every key is
    /// checked (by [`crate::config::parse_config`] first); a value of the wrong kind is an
    /// [`Error::Config`] naming the table and key.
    pub fn from_table(whence: &str, t: &toml::Table) -> Result<DatabaseConfig> {
        let text = |key: &str| -> Result<Option<String>> {
            Ok(match t.get(key) {
                None => None,
                Some(toml::Value::String(s)) => Some(s.clone()),
                Some(toml::Value::Integer(n)) => Some(n.to_string()),
                Some(toml::Value::Boolean(b)) => Some(b.to_string()),
                Some(other) => {
                    return Err(Error::Config(format!(
                        "{whence}: {key} = {other} must be a string"
                    )))
                }
            })
        };
        let mut c = DatabaseConfig::new(
            text("url")?.unwrap_or_else(|| crate::config::DEFAULT_URL.to_owned()),
        );
        let mut pool = String::new();
        for key in POOL_PARAMS {
            if let Some(v) = text(key)? {
                if !pool.is_empty() {
                    pool.push('&');
                }
                pool.push_str(&format!("{key}={v}"));
            }
        }
        if !pool.is_empty() {
            c.settings = PoolSettings::split_url(&format!("x?{pool}"))
                .map_err(|e| Error::Config(format!("{whence}: {e}")))?
                .1;
        }
        match t.get("replicas") {
            None => {}
            Some(toml::Value::Array(items)) => {
                for item in items {
                    match item {
                        toml::Value::String(u) => {
                            crate::config::DatabaseUrl::parse(u)?;
                            c.replicas.push(u.clone())
                        }
                        other => {
                            return Err(Error::Config(format!(
                                "{whence}: replicas must be a list of URLs (found {other})"
                            )))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(Error::Config(format!(
                    "{whence}: replicas must be a list of URLs, like replicas = [\"postgres://…\"] (found {other})"
                )))
            }
        }
        c.migrations = text("migrations")?;
        match t.get("models") {
            None => {}
            Some(toml::Value::Array(items)) => {
                for item in items {
                    match item {
                        toml::Value::String(m) if !m.trim().is_empty() => {
                            c.models.push(m.trim().to_owned())
                        }
                        other => {
                            return Err(Error::Config(format!(
                                "{whence}: models must be a list of model names, like models = [\"Event\"] (found {other})"
                            )))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(Error::Config(format!(
                    "{whence}: models must be a list of model names, like models = [\"Event\"] (found {other})"
                )))
            }
        }
        if let Some(v) = text("replica_reads")? {
            c.replica.reads = match v.as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(Error::Config(format!(
                        "{whence}: replica_reads = {v:?} must be true or false"
                    )))
                }
            };
        }
        if let Some(v) = text("read_your_writes")? {
            c.replica.policy = ReadPolicy::parse(&v).ok_or_else(|| {
                Error::Config(format!(
                    "{whence}: read_your_writes = {v:?} is not a policy (write exact, sticky, window or none)"
                ))
            })?;
        }
        let duration = |key: &str, slot: &mut Duration| -> Result<()> {
            if let Some(v) = text(key)? {
                *slot = parse_duration(&v).ok_or_else(|| {
                    Error::Config(format!(
                        "{whence}: {key} = {v:?} is not a duration (write for example {key} = \"500ms\")"
                    ))
                })?;
            }
            Ok(())
        };
        duration("replica_wait", &mut c.replica.wait)?;
        duration("max_replica_lag", &mut c.replica.max_lag)?;
        duration("replica_retry", &mut c.replica.retry_after)?;
        duration("sticky_for", &mut c.replica.sticky_for)?;
        Ok(c)
    }
}

/// The databases a `chakra.toml` text declares, by name: each `[databases.NAME]`, or the
/// single `[database]` as `default` (both at once is an error). Empty when it declares none.
pub fn from_toml(text: &str) -> Result<Vec<(String, DatabaseConfig)>> {
    let doc = crate::config::parse_config(text)?;
    let mut out = Vec::new();
    if let Some(t) = doc.get("databases").and_then(|d| d.as_table()) {
        if doc.contains_key("database") {
            return Err(Error::Config(
                "chakra.toml has both [database] and [databases.…]: write the first as [databases.default]".into(),
            ));
        }
        for (name, table) in t {
            let table = table.as_table().expect("checked by parse_config");
            out.push((
                name.clone(),
                DatabaseConfig::from_table(&format!("chakra.toml [databases.{name}]"), table)?,
            ));
        }
    } else if let Some(t) = doc.get("database").and_then(|d| d.as_table()) {
        if t.contains_key("url") || t.contains_key("replicas") {
            out.push((
                DEFAULT_DATABASE.to_owned(),
                DatabaseConfig::from_table("chakra.toml [database]", t)?,
            ));
        }
    }
    Ok(out)
}

/// Checks the `[databases]` table of a `chakra.toml`: a table of tables with valid names,
/// each holding only known keys (the pool's and [`DATABASE_KEYS`]).
pub fn check_databases_table(t: &toml::Table) -> Result<()> {
    for (name, value) in t {
        crate::dsl::ident::validate(name).map_err(|_| {
            Error::Config(format!(
                "chakra.toml: [databases.{name}]: a database name is letters, digits and _"
            ))
        })?;
        let Some(table) = value.as_table() else {
            return Err(Error::Config(format!(
                "chakra.toml: databases.{name} must be a table ([databases.{name}] on a line of its own)"
            )));
        };
        let valid = || DATABASE_KEYS.iter().chain(POOL_PARAMS.iter()).copied();
        if let Some(unknown) = table.keys().find(|k| !valid().any(|v| v == k.as_str())) {
            return Err(Error::Config(format!(
                "chakra.toml [databases.{name}]: unknown setting {unknown:?}; the settings are {}",
                valid().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_databases_and_their_replicas_are_read_from_chakra_toml() {
        let dbs = from_toml(
            "[databases.default]\nurl = \"postgres://u@h/app\"\nmax_size = 5\nreplicas = [\"postgres://u@r1/app\", \"postgres://u@r2/app\"]\nreplica_reads = true\nread_your_writes = \"sticky\"\nreplica_wait = \"250ms\"\n\n[databases.analytics]\nurl = \"sqlite://analytics.db\"\n",
        )
        .unwrap();
        assert_eq!(dbs.len(), 2);
        let (name, d) = &dbs[1];
        assert_eq!(name, "default");
        assert_eq!(d.settings.max_size, Some(5));
        assert_eq!(d.replicas.len(), 2);
        assert!(d.replica.reads);
        assert_eq!(d.replica.policy, ReadPolicy::Sticky);
        assert_eq!(d.replica.wait, Duration::from_millis(250));
        assert_eq!(dbs[0].1.url, "sqlite://analytics.db");
        assert_eq!(dbs[0].1.migrations, None);
        let own = from_toml(
            "[databases.analytics]\nurl = \"sqlite://a.db\"\nmigrations = \"migrations/analytics\"\nmodels = [\"Event\", \"PageView\"]\n",
        )
        .unwrap();
        assert_eq!(own[0].1.migrations.as_deref(), Some("migrations/analytics"));
        assert_eq!(own[0].1.models, ["Event", "PageView"]);
        // One [database] is the default database, as before.
        let one = from_toml("[database]\nurl = \"sqlite://a.db\"\n").unwrap();
        assert_eq!(one[0].0, "default");
    }

    #[test]
    fn bad_database_tables_are_named() {
        let e = |t: &str| match from_toml(t) {
            Err(Error::Config(m)) => m,
            other => panic!("{t:?} was accepted: {other:?}"),
        };
        assert!(e("[databases.a]\nurl = \"sqlite://a.db\"\nreplica = []\n")
            .contains("unknown setting \"replica\""));
        assert!(e("[databases.a]\nreplicas = \"postgres://x@y/z\"\n").contains("list of URLs"));
        assert!(e("[databases.a]\nread_your_writes = \"always\"\n").contains("not a policy"));
        assert!(
            e("[database]\nurl = \"sqlite://a.db\"\n[databases.b]\nurl = \"sqlite://b.db\"\n")
                .contains("both")
        );
        assert!(e("[databases]\na = 1\n").contains("must be a table"));
        assert!(e("[databases.a]\nmodels = \"Event\"\n").contains("list of model names"));
        assert!(e("[databases.a]\nmodels = [1]\n").contains("list of model names"));
    }
}
