//! SQLite's database URLs: `sqlite://path`, `sqlite:///abs/path`, `sqlite::memory:`.

use crate::config::DatabaseUrl;
use std::path::PathBuf;

/// `url` (query parameters removed) as a SQLite database: `None` when it is not a SQLite
/// URL, `Some(Err(reason))` when it is one but malformed.
pub fn parse(url: &str) -> Option<Result<DatabaseUrl, String>> {
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return Some(Ok(DatabaseUrl::SqliteMemory));
    }
    let path = url.strip_prefix("sqlite://")?;
    Some(if path.is_empty() {
        Err("no file path after sqlite:// (write sqlite://app.db, sqlite:///abs/app.db or sqlite::memory:)".into())
    } else if path.contains('\0') {
        Err("the file path contains a NUL byte".into())
    } else {
        Ok(DatabaseUrl::SqliteFile(PathBuf::from(path)))
    })
}
