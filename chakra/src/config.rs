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
        let url_trim = url.trim();
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
