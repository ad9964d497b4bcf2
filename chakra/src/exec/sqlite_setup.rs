//! Per-connection SQLite setup: pragmas and the SQL functions Chakra's SQL relies on
//! (`chakra_lower`, `chakra_upper`, Unicode-aware; `regexp`, backed by the `regex` crate; the exact decimal
//! aggregates `chakra_decimal_sum`/`_avg`/`_min`/`_max`).

use bigdecimal::{BigDecimal, RoundingMode};
use chakra_dsl::{Error, Result};
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::SqliteAggregateFunction;
use diesel::{Connection, SqliteConnection};
use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

diesel::define_sql_function! {
    /// Unicode-aware lower-casing (SQLite's `lower` only folds ASCII).
    fn chakra_lower(x: Nullable<Text>) -> Nullable<Text>;
}

diesel::define_sql_function! {
    /// Unicode-aware upper-casing (SQLite's `upper` only folds ASCII).
    fn chakra_upper(x: Nullable<Text>) -> Nullable<Text>;
}

diesel::define_sql_function! {
    /// JSON containment with PostgreSQL's `@>` rules (`crate::sql::json_contains`).
    fn chakra_json_contains(a: Nullable<Text>, b: Nullable<Text>) -> Nullable<diesel::sql_types::Bool>;
}

diesel::define_sql_function! {
    /// `text REGEXP pattern` calls `regexp(pattern, text)`.
    fn regexp(pattern: Text, text: Nullable<Text>) -> Nullable<diesel::sql_types::Bool>;
}

diesel::define_sql_function! {
    /// Exact sum of decimal text.
    #[aggregate]
    fn chakra_decimal_sum(x: Nullable<Text>) -> Nullable<Text>;
}
diesel::define_sql_function! {
    /// Exact average of decimal text, 16 decimal places (half away from zero).
    #[aggregate]
    fn chakra_decimal_avg(x: Nullable<Text>) -> Nullable<Text>;
}
diesel::define_sql_function! {
    /// Smallest decimal text, by numeric value.
    #[aggregate]
    fn chakra_decimal_min(x: Nullable<Text>) -> Nullable<Text>;
}
diesel::define_sql_function! {
    /// Largest decimal text, by numeric value.
    #[aggregate]
    fn chakra_decimal_max(x: Nullable<Text>) -> Nullable<Text>;
}

/// The state of the exact decimal aggregates: decimals are stored as text on SQLite, and
/// `SUM`/`AVG`/`MIN`/`MAX` over text would go through floating point (or compare as text).
/// A value that is not a decimal makes the result a text that does not decode, so the read
/// fails with a decode error instead of a wrong number.
#[derive(Default)]
struct DecimalAgg {
    sum: BigDecimal,
    count: u64,
    min: Option<(BigDecimal, String)>,
    max: Option<(BigDecimal, String)>,
    bad: Option<String>,
}

impl DecimalAgg {
    fn add(&mut self, x: Option<String>) {
        let Some(text) = x else { return };
        match BigDecimal::from_str(&text) {
            Ok(d) => {
                self.sum += &d;
                self.count += 1;
                if self.min.as_ref().is_none_or(|(m, _)| d < *m) {
                    self.min = Some((d.clone(), text.clone()));
                }
                if self.max.as_ref().is_none_or(|(m, _)| d > *m) {
                    self.max = Some((d, text));
                }
            }
            Err(_) => self.bad = Some(format!("not a decimal: {text:?}")),
        }
    }

    fn finish(self, pick: fn(DecimalAgg) -> Option<String>) -> Option<String> {
        if let Some(bad) = self.bad {
            return Some(bad);
        }
        if self.count == 0 {
            return None;
        }
        pick(self)
    }
}

macro_rules! decimal_aggregate {
    ($name:ident, $pick:expr) => {
        #[derive(Default)]
        struct $name(DecimalAgg);
        impl SqliteAggregateFunction<Option<String>> for $name {
            type Output = Option<String>;
            fn step(&mut self, x: Option<String>) {
                self.0.add(x);
            }
            fn finalize(agg: Option<Self>) -> Option<String> {
                agg.and_then(|a| a.0.finish($pick))
            }
        }
    };
}

decimal_aggregate!(DecimalSum, |a| Some(a.sum.to_string()));
decimal_aggregate!(DecimalAvg, |a| Some(
    decimal_avg(&a.sum, a.count).to_string()
));
decimal_aggregate!(DecimalMin, |a| a.min.map(|(_, t)| t));
decimal_aggregate!(DecimalMax, |a| a.max.map(|(_, t)| t));

/// `sum / count` as PostgreSQL computes Chakra's decimal average: the quotient rounded to
/// 20 places, then to 16, half away from zero both times.
fn decimal_avg(sum: &BigDecimal, count: u64) -> BigDecimal {
    let q = sum / BigDecimal::from(count);
    q.with_scale_round(20, RoundingMode::HalfUp)
        .with_scale_round(16, RoundingMode::HalfUp)
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
    chakra_upper_utils::register_impl(&mut conn, |x: Option<String>| x.map(|s| s.to_uppercase()))
        .map_err(setup)?;
    regexp_utils::register_impl(&mut conn, regex_match).map_err(setup)?;
    chakra_json_contains_utils::register_impl(&mut conn, crate::sql::json_contains::sql_contains)
        .map_err(setup)?;
    chakra_decimal_sum_utils::register_impl::<DecimalSum, _>(&mut conn).map_err(setup)?;
    chakra_decimal_avg_utils::register_impl::<DecimalAvg, _>(&mut conn).map_err(setup)?;
    chakra_decimal_min_utils::register_impl::<DecimalMin, _>(&mut conn).map_err(setup)?;
    chakra_decimal_max_utils::register_impl::<DecimalMax, _>(&mut conn).map_err(setup)?;
    Ok(conn)
}
