//! Where the database URL comes from, and what a URL means.
//!
//! Order: an explicit URL, else `CHAKRA_DATABASE_URL`, else `[database] url` in `chakra.toml`
//! (current directory), else `sqlite://chakra.db` (said once at INFO on the `chakra` target).
//! Every table and key of `chakra.toml` is checked ([`parse_config`]).

use chakra_dsl::{Error, Result};
use std::path::PathBuf;

/// The embedded default database.
pub const DEFAULT_URL: &str = "sqlite://chakra.db";

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database.
    SqliteMemory,
    /// A PostgreSQL URL, passed on to the driver.
    Postgres(String),
    /// A MySQL or MariaDB URL (`mysql://` or `mariadb://`), passed on to the driver as
    /// `mysql://`.
    Mysql(String),
}

/// The URL with its password replaced by `***`, for messages. Works on malformed URLs too.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

impl DatabaseUrl {
    /// The SQL dialect of the database the URL names.
    pub fn dialect(&self) -> crate::sql::Dialect {
        match self {
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => crate::sql::Dialect::Sqlite,
            DatabaseUrl::Postgres(_) => crate::sql::Dialect::Postgres,
            DatabaseUrl::Mysql(_) => crate::sql::Dialect::Mysql,
        }
    }

    /// Parses a URL: `sqlite://path`, `sqlite:///abs/path`, `sqlite::memory:`,
    /// `postgres://user@host:port/db` (or `postgresql://`), `mysql://user@host:3306/db` (or
    /// `mariadb://`).
    pub fn parse(url: &str) -> Result<DatabaseUrl> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: redact(url),
            reason: reason.to_owned(),
        };
        let (stripped, _) = PoolSettings::split_url(url.trim())?;
        let url_trim = stripped.as_str();
        if url_trim.is_empty() {
            return Err(invalid("it is empty"));
        }
        let room = crate::dialect::sqlite::url::parse(url_trim)
            .or_else(|| crate::dialect::postgres::url::parse(url_trim))
            .or_else(|| crate::dialect::mysql::url::parse(url_trim));
        if let Some(parsed) = room {
            return parsed.map_err(|reason| invalid(&reason));
        }
        let scheme = url_trim.split(':').next().unwrap_or("");
        Err(invalid(&format!(
            "unknown scheme {scheme:?}; supported are sqlite://path, sqlite::memory:, postgres:// and mysql:// (or mariadb://)"
        )))
    }
}

/// Resolves the URL to use when none is given: env, then `chakra.toml`, then the default.
/// The first time the embedded default is used (no file, or a file naming no URL), says so
/// at INFO on the `chakra` tracing target.
pub fn default_url() -> Result<String> {
    let (url, note) = default_url_noted()?;
    if let Some(note) = note {
        tracing::info!(target: "chakra", "{note}");
    }
    Ok(url)
}

static DEFAULT_NOTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// As [`default_url`], with what to say about it instead of saying it: the note that the
/// embedded default `sqlite://chakra.db` is used, given once per process (Python logs it on
/// its `chakra` logger).
pub fn default_url_noted() -> Result<(String, Option<String>)> {
    use std::sync::atomic::Ordering;
    if let Ok(url) = std::env::var("CHAKRA_DATABASE_URL") {
        if !url.trim().is_empty() {
            return Ok((url, None));
        }
    }
    let path = std::path::Path::new("chakra.toml");
    let why = if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read chakra.toml: {e}")))?;
        match configured_url(&text)? {
            Some(url) => return Ok((url, None)),
            None => "chakra.toml names no [database] url",
        }
    } else {
        "no database configured (no URL given, no CHAKRA_DATABASE_URL, no chakra.toml)"
    };
    let note = (!DEFAULT_NOTED.swap(true, Ordering::Relaxed)).then(|| {
        format!(
            "{why}: using the embedded default {DEFAULT_URL} in {}",
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| "the working directory".into())
        )
    });
    Ok((DEFAULT_URL.to_owned(), note))
}

/// The tables of `chakra.toml` and the keys each may hold.
/// `[databases]` holds one table per named database (`[databases.analytics]`), checked by
/// [`crate::databases::settings::check_databases_table`].
pub const CONFIG_TABLES: [(&str, &[&str]); 3] = [
    (
        "database",
        &[
            "url",
            "max_size",
            "wait_timeout",
            "statement_timeout",
            "pooler",
            "journal_mode",
            "synchronous",
            "flavour",
            "schema_check",
            "replicas",
            "replica_reads",
            "read_your_writes",
            "replica_wait",
            "max_replica_lag",
            "replica_retry",
            "sticky_for",
        ],
    ),
    ("databases", &[]),
    ("migrations", &["models"]),
];

/// Edit distance between two names (for "did you mean").
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The valid name closest to `name`.
fn closest<'a>(name: &str, valid: impl Iterator<Item = &'a str>) -> &'a str {
    valid
        .min_by_key(|v| distance(&name.to_ascii_lowercase(), v))
        .unwrap_or("")
}

/// Parses a `chakra.toml` text and checks every table and key in it: an unknown one (a
/// misspelt `[databse]` would otherwise be ignored, and the process would run on a new
/// local SQLite file) is an [`Error::Config`] naming it and the closest valid name.
pub fn parse_config(text: &str) -> Result<toml::Table> {
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| Error::Config(format!("chakra.toml: {e}")))?;
    let tables = || CONFIG_TABLES.iter().map(|(t, _)| *t);
    for (name, value) in &doc {
        let Some((_, keys)) = CONFIG_TABLES.iter().find(|(t, _)| t == name) else {
            let what = if value.is_table() { "table" } else { "key" };
            return Err(Error::Config(format!(
                "chakra.toml: unknown {what} [{name}] (did you mean [{}]?); the tables are {}",
                closest(name, tables()),
                tables()
                    .map(|t| format!("[{t}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let Some(table) = value.as_table() else {
            return Err(Error::Config(format!(
                "chakra.toml: {name} must be a table ([{name}] on a line of its own)"
            )));
        };
        if name == "databases" {
            crate::databases::settings::check_databases_table(table)?;
            continue;
        }
        if let Some(unknown) = table.keys().find(|k| !keys.contains(&k.as_str())) {
            return Err(Error::Config(format!(
                "chakra.toml [{name}]: unknown setting {unknown:?} (did you mean {:?}?); the \
                 settings are {}",
                closest(unknown, keys.iter().copied()),
                keys.join(", ")
            )));
        }
    }
    Ok(doc)
}

/// `[database] url` of a `chakra.toml` text, if it names one.
fn configured_url(text: &str) -> Result<Option<String>> {
    let doc = parse_config(text)?;
    let url = doc.get("database").and_then(|d| d.get("url")).or_else(|| {
        doc.get("databases")
            .and_then(|d| d.get(crate::databases::settings::DEFAULT_DATABASE))
            .and_then(|d| d.get("url"))
    });
    match url {
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::Config(
            "chakra.toml: [database] url must be a string".into(),
        )),
        None => Ok(None),
    }
}

/// Reads `[database] url` from the text of a `chakra.toml` (the embedded default when it
/// names none).
pub fn url_from_toml(text: &str) -> Result<String> {
    Ok(configured_url(text)?.unwrap_or_else(|| DEFAULT_URL.to_owned()))
}

/// Pool settings that can be written in `chakra.toml` (`[database]`) or as query parameters
/// of the URL (`?max_size=20&wait_timeout=5s&statement_timeout=30s`). Unset ones keep the
/// defaults of [`crate::PoolOptions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolSettings {
    /// `max_size`: most connections open at once.
    pub max_size: Option<usize>,
    /// `wait_timeout`: how long a caller waits for a free connection.
    pub wait_timeout: Option<std::time::Duration>,
    /// `statement_timeout`: PostgreSQL's `statement_timeout`; on SQLite the busy timeout.
    pub statement_timeout: Option<std::time::Duration>,
    /// `pooler`: what sits between Chakra and PostgreSQL (`transaction` for PgBouncer in
    /// transaction mode; `none`, the default, for a direct or session-pooled connection).
    pub pooler: Option<Pooler>,
    /// `journal_mode` (SQLite files): `wal`, `delete`, `truncate`, `persist`, `memory`, `off`.
    pub journal_mode: Option<crate::dialect::sqlite::setup::JournalMode>,
    /// `synchronous` (SQLite files): `off`, `normal`, `full`, `extra`.
    pub synchronous: Option<crate::dialect::sqlite::setup::Synchronous>,
    /// `flavour` (MySQL URLs): `mysql` or `mariadb`, the flavour whose code paths run
    /// instead of the one detected at connect (`flavour=mysql` against MariaDB runs MySQL's
    /// inserts without `RETURNING`).
    pub mysql_flavour: Option<crate::dialect::mysql::server::Flavour>,
    /// `schema_check`: what connecting does when a generated model layer linked into the
    /// program disagrees with the database's applied migrations (`error`, the default;
    /// `warn`; `off`).
    pub schema_check: Option<SchemaCheck>,
}

/// What [`crate::Pool::connect_with`] does with the generated model layers linked into the
/// program ([`crate::generate::check::ModelLayer`]): compare the migrations each was
/// generated from with the database's applied history, once per pool, on the connection
/// that checks the database can be reached (`?schema_check=warn`, `chakra.toml`
/// `[database] schema_check = "off"`, or [`crate::PoolOptions::schema_check`]). Without a
/// generated layer there is nothing to compare and nothing is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SchemaCheck {
    /// A stale layer fails the connect with [`Error::StaleModels`] (the default).
    #[default]
    Error,
    /// A stale layer is logged (`tracing` target `chakra::schema`, level WARN); the pool
    /// connects.
    Warn,
    /// Nothing is compared (migration commands connect this way: they bring the database
    /// to the models).
    Off,
}

impl SchemaCheck {
    /// Parses `error` / `warn` / `off` (case-insensitive; `on` and `true` read as `error`,
    /// `false` as `off`).
    pub fn parse(text: &str) -> Option<SchemaCheck> {
        match text.trim().to_ascii_lowercase().as_str() {
            "error" | "on" | "true" => Some(SchemaCheck::Error),
            "warn" | "warning" => Some(SchemaCheck::Warn),
            "off" | "false" => Some(SchemaCheck::Off),
            _ => None,
        }
    }
}

/// What sits between Chakra and a PostgreSQL server, which decides how statements may be
/// sent (`?pooler=transaction`, `chakra.toml` `[database] pooler = "transaction"`, or
/// [`crate::PoolOptions::pooler`]). See `docs/concurrency.md`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Pooler {
    /// A direct connection, or a pooler in session mode: one server session per connection.
    /// Prepared statements are cached per connection.
    #[default]
    None,
    /// A pooler in transaction mode (PgBouncer `pool_mode = transaction`, and the poolers of
    /// PostgreSQL-compatible managed services): each transaction may run on another server
    /// session. Chakra then keeps no session state: prepared statements are not cached (each
    /// is prepared, run and closed inside one transaction), every statement outside a
    /// transaction runs in one of its own, and `statement_timeout` is set per transaction
    /// (`SET LOCAL`). What needs a session (the migration lock) is refused with a named
    /// error.
    Transaction,
}

impl Pooler {
    /// Parses `transaction` / `none` / `session` (case-insensitive).
    pub fn parse(text: &str) -> Option<Pooler> {
        match text.trim().to_ascii_lowercase().as_str() {
            "transaction" => Some(Pooler::Transaction),
            "none" | "session" | "direct" => Some(Pooler::None),
            _ => None,
        }
    }
}

/// The query-parameter names Chakra reads from a URL (and removes before the driver sees it).
pub const POOL_PARAMS: [&str; 8] = [
    "max_size",
    "wait_timeout",
    "statement_timeout",
    "pooler",
    "journal_mode",
    "synchronous",
    "flavour",
    "schema_check",
];

/// Parses a duration: `250ms`, `5s`, `2m`, or a bare number of milliseconds (as
/// PostgreSQL's `statement_timeout`).
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = t.strip_suffix("min") {
        (n, 60_000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else {
        (t, 1)
    };
    let n: u64 = num.trim().parse().ok()?;
    Some(std::time::Duration::from_millis(n.checked_mul(scale)?))
}

impl PoolSettings {
    fn set(&mut self, key: &str, value: &str, whence: &str) -> Result<()> {
        let bad = |what: &str| {
            Error::Config(format!(
                "{whence}: {key} = {value:?} is not {what} (write for example {key}={})",
                match key {
                    "max_size" => "20",
                    "pooler" => "transaction",
                    _ => "5s",
                }
            ))
        };
        match key {
            "max_size" => {
                let n: usize = value.trim().parse().map_err(|_| bad("a whole number"))?;
                self.max_size = Some(n.max(1));
            }
            "wait_timeout" => {
                self.wait_timeout = Some(parse_duration(value).ok_or_else(|| bad("a duration"))?)
            }
            "statement_timeout" => {
                self.statement_timeout =
                    Some(parse_duration(value).ok_or_else(|| bad("a duration"))?)
            }
            "pooler" => {
                self.pooler = Some(
                    Pooler::parse(value)
                        .ok_or_else(|| bad("a pooler mode (transaction, session or none)"))?,
                )
            }
            "journal_mode" => {
                self.journal_mode = Some(
                    crate::dialect::sqlite::setup::JournalMode::parse(value).ok_or_else(|| {
                        Error::Config(format!(
                            "{whence}: journal_mode = {value:?} is not a SQLite journal mode (write wal, delete, truncate, persist, memory or off)"
                        ))
                    })?,
                )
            }
            "synchronous" => {
                self.synchronous = Some(
                    crate::dialect::sqlite::setup::Synchronous::parse(value).ok_or_else(|| {
                        Error::Config(format!(
                            "{whence}: synchronous = {value:?} is not a SQLite synchronous level (write off, normal, full or extra)"
                        ))
                    })?,
                )
            }
            "flavour" => {
                self.mysql_flavour = Some(
                    crate::dialect::mysql::server::Flavour::parse(value).ok_or_else(|| {
                        Error::Config(format!(
                            "{whence}: flavour = {value:?} is not a MySQL flavour (write mysql or mariadb)"
                        ))
                    })?,
                )
            }
            "schema_check" => {
                self.schema_check = Some(SchemaCheck::parse(value).ok_or_else(|| {
                    Error::Config(format!(
                        "{whence}: schema_check = {value:?} is not a schema check mode (write error, warn or off)"
                    ))
                })?)
            }
            _ => {}
        }
        Ok(())
    }

    /// Settings later in the chain win.
    pub fn overlay(&mut self, other: &PoolSettings) {
        if other.max_size.is_some() {
            self.max_size = other.max_size;
        }
        if other.wait_timeout.is_some() {
            self.wait_timeout = other.wait_timeout;
        }
        if other.statement_timeout.is_some() {
            self.statement_timeout = other.statement_timeout;
        }
        if other.pooler.is_some() {
            self.pooler = other.pooler;
        }
        if other.journal_mode.is_some() {
            self.journal_mode = other.journal_mode;
        }
        if other.synchronous.is_some() {
            self.synchronous = other.synchronous;
        }
        if other.mysql_flavour.is_some() {
            self.mysql_flavour = other.mysql_flavour;
        }
        if other.schema_check.is_some() {
            self.schema_check = other.schema_check;
        }
    }

    /// The `[database]` settings of a `chakra.toml` text.
    pub fn from_toml(text: &str) -> Result<PoolSettings> {
        let doc = parse_config(text)?;
        let mut s = PoolSettings::default();
        if let Some(db) = doc.get("database").and_then(|d| d.as_table()) {
            for key in POOL_PARAMS {
                let v = match db.get(key) {
                    None => continue,
                    Some(toml::Value::Integer(n)) => n.to_string(),
                    Some(toml::Value::String(t)) => t.clone(),
                    Some(other) => other.to_string(),
                };
                s.set(key, &v, "chakra.toml [database]")?;
            }
        }
        Ok(s)
    }

    /// The settings `./chakra.toml` gives for the database at `url`: its `[database]`
    /// settings apply to the database it configures (its `url`, or the default one when it
    /// names none). A `chakra.toml` that cannot be read gives nothing here (resolving the
    /// default URL reports it); one that can be read but holds a bad or unknown setting is
    /// an [`Error::Config`], whichever database it configures.
    pub fn from_config_file(url: &str) -> Result<PoolSettings> {
        let path = std::path::Path::new("chakra.toml");
        let Ok(text) = std::fs::read_to_string(path) else {
            return Ok(PoolSettings::default());
        };
        let settings = PoolSettings::from_toml(&text)?;
        if let Some((_, named)) = crate::databases::settings::from_toml(&text)?
            .into_iter()
            .find(|(_, c)| c.url.trim() == url.trim())
        {
            return Ok(named.settings);
        }
        Ok(match url_from_toml(&text) {
            Ok(configured) if configured.trim() == url.trim() => settings,
            _ => PoolSettings::default(),
        })
    }

    /// Splits Chakra's own query parameters off `url`: the URL the driver gets, and the
    /// settings. Other parameters (PostgreSQL's `sslmode`, …) stay in the URL.
    pub fn split_url(url: &str) -> Result<(String, PoolSettings)> {
        let mut s = PoolSettings::default();
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_owned(), s));
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if POOL_PARAMS.contains(&k) {
                s.set(k, v, &format!("URL parameter {k}"))?;
            } else {
                kept.push(pair);
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((url, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_error(text: &str) -> String {
        match parse_config(text) {
            Err(Error::Config(m)) => m,
            other => panic!("{text:?} was accepted: {other:?}"),
        }
    }

    #[test]
    fn unknown_tables_and_keys_are_named_with_the_closest_valid_name() {
        let m = config_error("[databse]\nurl = \"postgres://u@h/db\"\n");
        assert!(
            m.contains("[databse]") && m.contains("did you mean [database]"),
            "{m}"
        );
        let m = config_error("[migration]\nmodels = [\"app\"]\n");
        assert!(m.contains("did you mean [migrations]"), "{m}");
        let m = config_error("url = \"sqlite://x.db\"\n");
        assert!(m.contains("unknown key [url]"), "{m}");
        let m = config_error("[database]\nmax_sizes = 3\n");
        assert!(
            m.contains("\"max_sizes\"") && m.contains("did you mean \"max_size\""),
            "{m}"
        );
        let m = config_error("[migrations]\nmodel = \"app\"\n");
        assert!(m.contains("did you mean \"models\""), "{m}");
        let m = config_error("database = 1\n");
        assert!(m.contains("must be a table"), "{m}");
        // Every setting the readers know is a valid key.
        let all: String = POOL_PARAMS
            .iter()
            .map(|k| format!("{k} = \"x\"\n"))
            .collect();
        let e = parse_config(&format!("[database]\nurl = \"sqlite://a.db\"\n{all}"));
        assert!(e.is_ok(), "{e:?}");
        assert!(parse_config("[migrations]\nmodels = [\"app.models\"]\n").is_ok());
        assert_eq!(
            url_from_toml("[database]\nurl = \"sqlite://x.db\"").unwrap(),
            "sqlite://x.db"
        );
        assert!(url_from_toml("[databse]\nurl = \"postgres://u@h/db\"").is_err());
    }
}
