//! PostgreSQL's database URLs: `postgres://user@host:port/db` (or `postgresql://`), checked
//! by the driver's own parser.

use crate::config::DatabaseUrl;

/// `url` (query parameters removed) as a PostgreSQL database: `None` when it is not a
/// PostgreSQL URL, `Some(Err(reason))` when it is one but malformed.
pub fn parse(url: &str) -> Option<Result<DatabaseUrl, String>> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    let check = || -> Result<DatabaseUrl, String> {
        let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("no host (write postgres://user@host:5432/dbname)".into());
        }
        url.parse::<tokio_postgres::Config>()
            .map_err(|e| e.to_string())?;
        Ok(DatabaseUrl::Postgres(url.to_owned()))
    };
    Some(check())
}
