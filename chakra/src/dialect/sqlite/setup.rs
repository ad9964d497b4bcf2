//! Per-connection SQLite setup: pragmas and the SQL functions Chakra's SQL relies on
//! (`chakra_lower`, `chakra_upper`, Unicode-aware; `regexp`, backed by the `regex` crate; the exact decimal
//! aggregates `chakra_decimal_sum`/`_avg`/`_min`/`_max`, and exact decimal arithmetic
//! `chakra_decimal_add`/`_sub`/`_mul`/`_div`, the quotient with PostgreSQL's numeric scale).

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::{BigDecimal, RoundingMode, Zero};
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
    /// A datetime stored by any writer in Chakra's form (`dialect/sqlite/datetime.rs`); text
    /// that is not a datetime is returned as it is.
    fn chakra_datetime(x: Nullable<Text>) -> Nullable<Text>;
}

diesel::define_sql_function! {
    /// JSON containment with PostgreSQL's `@>` rules (`crate::dialect::sqlite::json_contains`).
    fn chakra_json_contains(a: Nullable<Text>, b: Nullable<Text>) -> Nullable<diesel::sql_types::Bool>;
}

diesel::define_sql_function! {
    /// `text REGEXP pattern` calls `regexp(pattern, text)`.
    fn regexp(pattern: Text, text: Nullable<Text>) -> Nullable<diesel::sql_types::Bool>;
}

diesel::define_sql_function! {
    /// Exact `a + b` of decimal text (or integers).
    fn chakra_decimal_add(a: Nullable<Text>, b: Nullable<Text>) -> Nullable<Text>;
}
diesel::define_sql_function! {
    /// Exact `a - b` of decimal text (or integers).
    fn chakra_decimal_sub(a: Nullable<Text>, b: Nullable<Text>) -> Nullable<Text>;
}
diesel::define_sql_function! {
    /// Exact `a * b` of decimal text (or integers).
    fn chakra_decimal_mul(a: Nullable<Text>, b: Nullable<Text>) -> Nullable<Text>;
}

diesel::define_sql_function! {
    /// `a / b` of decimal text (or integers), rounded as PostgreSQL's numeric division
    /// rounds it (`decimal_div`); dividing by zero is an SQL error.
    fn chakra_decimal_div(a: Nullable<Text>, b: Nullable<Text>) -> Nullable<Text>;
}

/// The result of [`decimal_div`]: decimal text, NULL, or an error that fails the statement
/// (as PostgreSQL fails it).
#[derive(Debug)]
struct DivOutcome(std::result::Result<Option<String>, String>);

impl diesel::serialize::ToSql<Nullable<Text>, diesel::sqlite::Sqlite> for DivOutcome {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        match &self.0 {
            Ok(Some(text)) => {
                <String as diesel::serialize::ToSql<Text, diesel::sqlite::Sqlite>>::to_sql(
                    text, out,
                )
            }
            Ok(None) => Ok(diesel::serialize::IsNull::Yes),
            Err(message) => Err(message.clone().into()),
        }
    }
}

/// The base-10000 weight and first digit of `x`, as PostgreSQL's `numeric` holds it
/// (0 and 0 for zero): the inputs of its choice of a quotient's scale.
fn weight_and_first_digit(x: &BigDecimal) -> (i64, i64) {
    let (digits, scale) = x.abs().normalized().as_bigint_and_exponent();
    if digits == 0.into() {
        return (0, 0);
    }
    let e10 = digits.to_string().len() as i64 - 1 - scale;
    let weight = e10.div_euclid(4);
    let first = (x.abs() / BigDecimal::new(1.into(), -4 * weight))
        .with_scale_round(0, RoundingMode::Down)
        .to_string()
        .parse()
        .unwrap_or(0);
    (weight, first)
}

/// A decimal as text with all its places, zero included (`0.00…`, as PostgreSQL prints a
/// zero quotient; `BigDecimal` prints a zero as `0`).
fn decimal_text(q: &BigDecimal) -> String {
    let scale = display_scale(q);
    if q.is_zero() && scale > 0 {
        format!("0.{}", "0".repeat(scale as usize))
    } else {
        q.to_string()
    }
}

/// The display scale of a decimal (never negative).
fn display_scale(x: &BigDecimal) -> i64 {
    x.as_bigint_and_exponent().1.max(0)
}

/// `a / b` as PostgreSQL's `numeric` division gives it: the quotient to at least 16
/// significant digits and no fewer decimal places than either input shows, rounded half
/// away from zero (`select_div_scale` in PostgreSQL's `numeric.c`); at most 1000 places.
pub(crate) fn decimal_div(
    a: &BigDecimal,
    b: &BigDecimal,
) -> std::result::Result<BigDecimal, String> {
    if b.is_zero() {
        return Err("division by zero".into());
    }
    let (w1, f1) = weight_and_first_digit(a);
    let (w2, f2) = weight_and_first_digit(b);
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    let rscale = (16 - qweight * 4)
        .max(display_scale(a))
        .max(display_scale(b))
        .clamp(0, 1000);
    // Exactly, on integers: a / b * 10^rscale = A * 10^(sb + rscale - sa) / B, rounded
    // half away from zero.
    let (ia, sa) = a.as_bigint_and_exponent();
    let (ib, sb) = b.as_bigint_and_exponent();
    let ten = |n: i64| BigInt::from(10).pow(n.unsigned_abs() as u32);
    let k = sb + rscale - sa;
    let (num, den) = if k >= 0 {
        (ia * ten(k), ib)
    } else {
        (ia, ib * ten(k))
    };
    let (q, r) = (&num / &den, &num % &den);
    let twice = r.magnitude() * 2u32;
    let q = if &twice >= den.magnitude() {
        if (num.sign() == Sign::Minus) != (den.sign() == Sign::Minus) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    };
    Ok(BigDecimal::new(q, rscale))
}

/// Exact decimal arithmetic on SQLite's decimal text: NULL when either side is NULL; a side
/// that is not a decimal gives a text that does not decode (the read fails, naming it,
/// instead of returning a wrong number).
fn decimal_arith(
    a: Option<String>,
    b: Option<String>,
    op: fn(BigDecimal, BigDecimal) -> BigDecimal,
) -> Option<String> {
    let (a, b) = (a?, b?);
    match (
        BigDecimal::from_str(a.trim()),
        BigDecimal::from_str(b.trim()),
    ) {
        (Ok(x), Ok(y)) => Some(op(x, y).to_string()),
        (Err(_), _) => Some(format!("not a decimal: {a:?}")),
        (_, Err(_)) => Some(format!("not a decimal: {b:?}")),
    }
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

/// `PRAGMA journal_mode` of a file database: how SQLite keeps a transaction atomic across a
/// crash. Chakra's default is [`JournalMode::Wal`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum JournalMode {
    /// Write-ahead log (`-wal` file beside the database): readers never block the writer nor
    /// the writer the readers; a commit appends to the log. The default.
    #[default]
    Wal,
    /// A rollback journal (`-journal` file) deleted at each commit: SQLite's own default.
    /// Readers and the writer block each other.
    Delete,
    /// Like `Delete`, but the journal is truncated to zero bytes instead of deleted.
    Truncate,
    /// Like `Delete`, but the journal's header is zeroed and the file kept.
    Persist,
    /// The rollback journal lives in memory: a crash mid-transaction can corrupt the database.
    Memory,
    /// No journal: no rollback, and a crash mid-transaction can corrupt the database.
    Off,
}

impl JournalMode {
    /// Parses `wal`, `delete`, `truncate`, `persist`, `memory`, `off` (case-insensitive).
    pub fn parse(text: &str) -> Option<JournalMode> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "wal" => JournalMode::Wal,
            "delete" => JournalMode::Delete,
            "truncate" => JournalMode::Truncate,
            "persist" => JournalMode::Persist,
            "memory" => JournalMode::Memory,
            "off" => JournalMode::Off,
            _ => return None,
        })
    }

    /// The pragma's value, as SQLite reports it back (`wal`, `delete`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            JournalMode::Wal => "wal",
            JournalMode::Delete => "delete",
            JournalMode::Truncate => "truncate",
            JournalMode::Persist => "persist",
            JournalMode::Memory => "memory",
            JournalMode::Off => "off",
        }
    }
}

/// `PRAGMA synchronous` of a file database: how often SQLite waits for the disk (`fsync`).
/// Chakra's default is [`Synchronous::Normal`] (with WAL). See `docs/sqlite.md` for what each
/// means after a power loss.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Synchronous {
    /// Never waits for the disk: an OS crash or power loss can lose recent commits and,
    /// outside WAL, corrupt the database.
    Off,
    /// With WAL: syncs at checkpoints only; a power loss can undo the last commits but never
    /// corrupts the database. The default.
    #[default]
    Normal,
    /// Syncs at every commit: a commit that returned survives a power loss.
    Full,
    /// `Full`, and with a rollback journal also syncs the journal's directory.
    Extra,
}

impl Synchronous {
    /// Parses `off`, `normal`, `full`, `extra` or their numbers `0`–`3` (case-insensitive).
    pub fn parse(text: &str) -> Option<Synchronous> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "off" | "0" => Synchronous::Off,
            "normal" | "1" => Synchronous::Normal,
            "full" | "2" => Synchronous::Full,
            "extra" | "3" => Synchronous::Extra,
            _ => return None,
        })
    }

    /// The pragma's value (`OFF`, `NORMAL`, `FULL`, `EXTRA`).
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }

    /// The number `PRAGMA synchronous` reads back (0–3).
    pub fn level(self) -> i64 {
        match self {
            Synchronous::Off => 0,
            Synchronous::Normal => 1,
            Synchronous::Full => 2,
            Synchronous::Extra => 3,
        }
    }
}

/// The durability settings of a file database's connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Durability {
    /// `PRAGMA journal_mode`.
    pub journal_mode: JournalMode,
    /// `PRAGMA synchronous`.
    pub synchronous: Synchronous,
}

#[derive(diesel::QueryableByName)]
struct JournalModeRow {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

/// Whether a setup statement failed only because another connection held the database.
fn is_locked(e: &diesel::result::Error) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("database is busy")
}

/// Opens and prepares one SQLite connection (blocking).
/// `busy_ms` is how long the setup itself waits for another connection's lock (default
/// 10 s; switching a database to WAL needs it alone). The connection is left with
/// `busy_timeout = 0`: statements do not block their thread on a lock, [`super::conn`]
/// waits for it asynchronously instead.
pub fn establish(
    target: &str,
    is_file: bool,
    busy_ms: Option<u64>,
    durability: Durability,
) -> Result<SqliteConnection> {
    super::library::check_version()?;
    let mut conn = SqliteConnection::establish(target)
        .map_err(|e| Error::Connection(format!("cannot open SQLite database {target:?}: {e}")))?;
    let setup = |e: diesel::result::Error| Error::Connection(format!("SQLite setup: {e}"));
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;
    conn.batch_execute(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA case_sensitive_like = ON;",
        busy_ms.unwrap_or(10_000)
    ))
    .map_err(setup)?;
    super::library::check_json(&mut conn)?;
    if is_file {
        let wanted = durability.journal_mode.as_str();
        // Switching to WAL needs the database alone, and SQLite answers "database is locked"
        // at once, without its busy handler, when another connection holds a lock it would
        // have to wait on (two processes opening a new file together): retried until the
        // setup's busy time has passed.
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_millis(busy_ms.unwrap_or(10_000));
        let mut pause = std::time::Duration::from_millis(2);
        let got: Vec<JournalModeRow> = loop {
            match diesel::sql_query(format!("PRAGMA journal_mode = {wanted}")).load(&mut conn) {
                Ok(rows) => break rows,
                Err(e) if is_locked(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(setup(e)),
            }
        };
        let got = got.first().map(|r| r.journal_mode.to_ascii_lowercase());
        if got.as_deref() != Some(wanted) {
            return Err(Error::Config(format!(
                "SQLite database {target:?}: cannot set journal_mode = {wanted} (it stays {})",
                got.as_deref().unwrap_or("unknown")
            )));
        }
        conn.batch_execute(&format!(
            "PRAGMA synchronous = {};",
            durability.synchronous.as_str()
        ))
        .map_err(setup)?;
    }
    conn.batch_execute("PRAGMA busy_timeout = 0;")
        .map_err(setup)?;
    chakra_lower_utils::register_impl(&mut conn, |x: Option<String>| {
        x.map(|s| crate::sql::case_fold::lower(&s))
    })
    .map_err(setup)?;
    chakra_upper_utils::register_impl(&mut conn, |x: Option<String>| {
        x.map(|s| crate::sql::case_fold::upper(&s))
    })
    .map_err(setup)?;
    chakra_datetime_utils::register_impl(&mut conn, |x: Option<String>| {
        x.map(|s| crate::dialect::sqlite::datetime::canonical(&s).unwrap_or(s))
    })
    .map_err(setup)?;
    regexp_utils::register_impl(&mut conn, regex_match).map_err(setup)?;
    chakra_json_contains_utils::register_impl(
        &mut conn,
        crate::dialect::sqlite::json_contains::sql_contains,
    )
    .map_err(setup)?;
    chakra_decimal_add_utils::register_impl(&mut conn, |a: Option<String>, b: Option<String>| {
        decimal_arith(a, b, |x, y| x + y)
    })
    .map_err(setup)?;
    chakra_decimal_sub_utils::register_impl(&mut conn, |a: Option<String>, b: Option<String>| {
        decimal_arith(a, b, |x, y| x - y)
    })
    .map_err(setup)?;
    chakra_decimal_mul_utils::register_impl(&mut conn, |a: Option<String>, b: Option<String>| {
        decimal_arith(a, b, |x, y| x * y)
    })
    .map_err(setup)?;
    chakra_decimal_div_utils::register_impl(&mut conn, |a: Option<String>, b: Option<String>| {
        let (Some(a), Some(b)) = (a, b) else {
            return DivOutcome(Ok(None));
        };
        let parse =
            |t: &str| BigDecimal::from_str(t.trim()).map_err(|_| format!("not a decimal: {t:?}"));
        DivOutcome(
            parse(&a)
                .and_then(|x| Ok((x, parse(&b)?)))
                .and_then(|(x, y)| decimal_div(&x, &y))
                .map(|q| Some(decimal_text(&q))),
        )
    })
    .map_err(setup)?;
    chakra_decimal_sum_utils::register_impl::<DecimalSum, _>(&mut conn).map_err(setup)?;
    chakra_decimal_avg_utils::register_impl::<DecimalAvg, _>(&mut conn).map_err(setup)?;
    chakra_decimal_min_utils::register_impl::<DecimalMin, _>(&mut conn).map_err(setup)?;
    chakra_decimal_max_utils::register_impl::<DecimalMax, _>(&mut conn).map_err(setup)?;
    Ok(conn)
}

#[cfg(test)]
mod division_tests {
    use super::decimal_div;
    use bigdecimal::BigDecimal;
    use std::str::FromStr;

    fn div(a: &str, b: &str) -> Result<String, String> {
        let (a, b) = (
            BigDecimal::from_str(a).unwrap(),
            BigDecimal::from_str(b).unwrap(),
        );
        decimal_div(&a, &b).map(|q| super::decimal_text(&q))
    }

    /// Quotients as PostgreSQL prints them (`SELECT a::numeric / b`), written out by hand.
    #[test]
    fn quotients_have_postgresql_scale() {
        assert_eq!(div("1", "7").unwrap(), "0.14285714285714285714");
        assert_eq!(div("-1", "7").unwrap(), "-0.14285714285714285714");
        assert_eq!(div("2", "3").unwrap(), "0.66666666666666666667");
        assert_eq!(div("2", "-3").unwrap(), "-0.66666666666666666667");
        assert_eq!(div("10", "4").unwrap(), "2.5000000000000000");
        assert_eq!(div("5", "1000").unwrap(), "0.00500000000000000000");
        assert_eq!(div("123456789012345678", "3").unwrap(), "41152263004115226");
        // An input's own scale is kept when it is larger.
        assert_eq!(
            div("1.0000000000000000000000001", "1").unwrap(),
            "1.0000000000000000000000001"
        );
        assert_eq!(div("1", "0").unwrap_err(), "division by zero");
        assert_eq!(div("0", "5").unwrap(), "0.00000000000000000000");
    }
}
