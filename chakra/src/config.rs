//! Where the database URL comes from, and what a URL means.
//!
//! Order: an explicit URL, else `CHAKRA_DATABASE_URL`, else `[database] url` in `chakra.toml`
//! (current directory), else `sqlite://chakra.db`.

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
    /// Parses a URL: `sqlite://path`, `sqlite:///abs/path`, `sqlite::memory:`,
    /// `postgres://user@host:port/db` (or `postgresql://`).
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
        if url_trim == "sqlite::memory:" || url_trim == "sqlite://:memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        if let Some(path) = url_trim.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(invalid(
                    "no file path after sqlite:// (write sqlite://app.db, sqlite:///abs/app.db or sqlite::memory:)",
                ));
            }
            if path.contains('\0') {
                return Err(invalid("the file path contains a NUL byte"));
            }
            return Ok(DatabaseUrl::SqliteFile(PathBuf::from(path)));
        }
        if url_trim.starts_with("postgres://") || url_trim.starts_with("postgresql://") {
            let parsed = url::Url::parse(url_trim).map_err(|e| invalid(&e.to_string()))?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(invalid("no host (write postgres://user@host:5432/dbname)"));
            }
            url_trim
                .parse::<tokio_postgres::Config>()
                .map_err(|e| invalid(&e.to_string()))?;
            return Ok(DatabaseUrl::Postgres(url_trim.to_owned()));
        }
        if url_trim.starts_with("mysql://") || url_trim.starts_with("mariadb://") {
            return Err(invalid(
                "MySQL/MariaDB is not supported yet; use postgres:// or sqlite://",
            ));
        }
        let scheme = url_trim.split(':').next().unwrap_or("");
        Err(invalid(&format!(
            "unknown scheme {scheme:?}; supported are sqlite://path, sqlite::memory: and postgres://"
        )))
    }
}

/// Resolves the URL to use when none is given: env, then `chakra.toml`, then the default.
pub fn default_url() -> Result<String> {
    if let Ok(url) = std::env::var("CHAKRA_DATABASE_URL") {
        if !url.trim().is_empty() {
            return Ok(url);
        }
    }
    let path = std::path::Path::new("chakra.toml");
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read chakra.toml: {e}")))?;
        return url_from_toml(&text);
    }
    Ok(DEFAULT_URL.to_owned())
}

/// Reads `[database] url` from the text of a `chakra.toml`.
pub fn url_from_toml(text: &str) -> Result<String> {
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| Error::Config(format!("chakra.toml: {e}")))?;
    match doc.get("database").and_then(|d| d.get("url")) {
        Some(toml::Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Error::Config(
            "chakra.toml: [database] url must be a string".into(),
        )),
        None => Ok(DEFAULT_URL.to_owned()),
    }
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
    pub journal_mode: Option<crate::exec::sqlite_setup::JournalMode>,
    /// `synchronous` (SQLite files): `off`, `normal`, `full`, `extra`.
    pub synchronous: Option<crate::exec::sqlite_setup::Synchronous>,
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
pub const POOL_PARAMS: [&str; 6] = [
    "max_size",
    "wait_timeout",
    "statement_timeout",
    "pooler",
    "journal_mode",
    "synchronous",
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
                    crate::exec::sqlite_setup::JournalMode::parse(value).ok_or_else(|| {
                        Error::Config(format!(
                            "{whence}: journal_mode = {value:?} is not a SQLite journal mode (write wal, delete, truncate, persist, memory or off)"
                        ))
                    })?,
                )
            }
            "synchronous" => {
                self.synchronous = Some(
                    crate::exec::sqlite_setup::Synchronous::parse(value).ok_or_else(|| {
                        Error::Config(format!(
                            "{whence}: synchronous = {value:?} is not a SQLite synchronous level (write off, normal, full or extra)"
                        ))
                    })?,
                )
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
    }

    /// The `[database]` settings of a `chakra.toml` text.
    pub fn from_toml(text: &str) -> Result<PoolSettings> {
        let doc: toml::Table =
            toml::from_str(text).map_err(|e| Error::Config(format!("chakra.toml: {e}")))?;
        let mut s = PoolSettings::default();
        if let Some(db) = doc.get("database").and_then(|d| d.as_table()) {
            // A misspelt setting is an error, not a setting silently left at its default.
            if let Some(unknown) = db
                .keys()
                .find(|k| *k != "url" && !POOL_PARAMS.contains(&k.as_str()))
            {
                return Err(Error::Config(format!(
                    "chakra.toml [database]: unknown setting {unknown:?}; the settings are url, {}",
                    POOL_PARAMS.join(", ")
                )));
            }
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
