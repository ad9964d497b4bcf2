//! Per-connection SQLite setup: pragmas and the SQL functions Chakra's SQL relies on
//! (`chakra_lower`, Unicode-aware; `regexp`, backed by the `regex` crate).

use chakra_dsl::{Error, Result};
use diesel::sql_types::{Nullable, Text};
use diesel::{Connection, SqliteConnection};
use std::cell::RefCell;
use std::collections::HashMap;

diesel::define_sql_function! {
    /// Unicode-aware lower-casing (SQLite's `lower` only folds ASCII).
    fn chakra_lower(x: Nullable<Text>) -> Nullable<Text>;
}

diesel::define_sql_function! {
    /// `text REGEXP pattern` calls `regexp(pattern, text)`.
    fn regexp(pattern: Text, text: Nullable<Text>) -> Nullable<diesel::sql_types::Bool>;
}

thread_local! {
    static REGEX_CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

fn regex_match(pattern: String, text: Option<String>) -> Option<bool> {
    let text = text?;
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(&pattern) {
            if cache.len() > 256 {
                cache.clear();
            }
            let re = regex::Regex::new(&pattern).ok()?;
            cache.insert(pattern.clone(), re);
        }
        cache.get(&pattern).map(|re| re.is_match(&text))
    })
}

/// Opens and prepares one SQLite connection (blocking).
/// `busy_ms` is how long a statement waits for another connection's write lock (default
/// 10 s).
pub fn establish(target: &str, is_file: bool, busy_ms: Option<u64>) -> Result<SqliteConnection> {
    let mut conn = SqliteConnection::establish(target)
        .map_err(|e| Error::Connection(format!("cannot open SQLite database {target:?}: {e}")))?;
    let setup = |e: diesel::result::Error| Error::Connection(format!("SQLite setup: {e}"));
    use diesel::connection::SimpleConnection;
    conn.batch_execute(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA case_sensitive_like = ON;",
        busy_ms.unwrap_or(10_000)
    ))
    .map_err(setup)?;
    if is_file {
        conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(setup)?;
    }
    chakra_lower_utils::register_impl(&mut conn, |x: Option<String>| x.map(|s| s.to_lowercase()))
        .map_err(setup)?;
    regexp_utils::register_impl(&mut conn, regex_match).map_err(setup)?;
    Ok(conn)
}
