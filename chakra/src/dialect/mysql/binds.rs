//! A compiled statement's values as the driver's parameters: each [`Value`] in the MySQL
//! binary protocol's form (integers, doubles, dates as `DATETIME`, decimals as exact text,
//! JSON as its text, UUIDs as their 36-character text), NULLs as NULL. Arrays have no MySQL
//! column type and are refused by name, naming the model and field when the statement
//! writes them to one (store them in a JSON column). On MariaDB a JSON
//! document nested past [`MARIADB_MAX_JSON_DEPTH`] levels is refused by name before it is
//! sent (MariaDB's `JSON_VALID` check constraint refuses 32 levels and more, so the server would
//! reject it as a check violation that says nothing about depth).

use super::server::{Flavour, ServerInfo};
use chakra_dsl::limits::{json_depth, MAX_DEPTH};
use chakra_dsl::{Error, Result, Value};
use chrono::{Datelike, Timelike};
use mysql_async::Value as My;

/// The most digits after the point a MySQL/MariaDB `DECIMAL` holds.
pub const MAX_DECIMAL_SCALE: i64 = 30;

/// The deepest JSON document MariaDB's `JSON_VALID` accepts (arrays and objects inside each
/// other; 10.11 returns 0 from 32 levels on); MySQL takes Chakra's own limit, [`MAX_DEPTH`].
pub const MARIADB_MAX_JSON_DEPTH: usize = 31;

/// How deep `v` is nested, when it is a JSON document nested deeper than `server`'s flavour
/// stores (MariaDB: [`MARIADB_MAX_JSON_DEPTH`] levels).
fn too_deep(v: &Value, server: ServerInfo) -> Option<usize> {
    let Value::Json(j) = v else { return None };
    if server.flavour != Flavour::Mariadb {
        return None;
    }
    Some(json_depth(j)).filter(|d| *d > MARIADB_MAX_JSON_DEPTH)
}

/// Why a JSON document nested `depth` levels deep cannot be stored (the depth as counted,
/// "more than 100" past Chakra's own limit, where counting stops).
fn depth_reason(depth: usize) -> String {
    let shown = if depth > MAX_DEPTH {
        format!("more than {MAX_DEPTH}")
    } else {
        depth.to_string()
    };
    format!(
        "JSON nested {shown} levels deep: MariaDB stores JSON up to {MARIADB_MAX_JSON_DEPTH} \
         levels of arrays and objects (its JSON_VALID check refuses deeper documents); \
         flatten the document or use PostgreSQL/SQLite, which keep up to {MAX_DEPTH} levels"
    )
}

/// Why `v` cannot be sent to `server`, when it is a JSON document nested deeper than the
/// flavour stores (MariaDB: [`MARIADB_MAX_JSON_DEPTH`] levels). Without the statement, the
/// error cannot say where the value was going: [`statement_params`] names the model and
/// field.
pub fn check_for_server(v: &Value, server: ServerInfo) -> Result<()> {
    match too_deep(v, server) {
        Some(depth) => Err(Error::InvalidQuery(depth_reason(depth))),
        None => Ok(()),
    }
}

/// The table and column the bind after `parts[..=i]` is written to, read from a compiled
/// statement's text: a value of an `INSERT … VALUES` row (its column by position) or of an
/// `UPDATE … SET "c" = ?`. Identifiers are validated when compiled (no `"` inside), so the
/// quoted names read back exactly. `None` for a bind anywhere else.
pub fn bind_target(parts: &[String], i: usize) -> Option<(String, String)> {
    let first = parts.first()?;
    let quoted = |text: &str| -> Vec<String> {
        text.split('"')
            .enumerate()
            .filter(|(k, _)| k % 2 == 1)
            .map(|(_, n)| n.to_owned())
            .collect()
    };
    if let Some(rest) = first.strip_prefix("INSERT INTO \"") {
        let (table, rest) = rest.split_once('"')?;
        let (cols, values) = rest.strip_prefix(" (")?.split_once(')')?;
        // Only a `VALUES` list's binds are the columns' values, row after row.
        if !values.starts_with(" VALUES (") {
            return None;
        }
        let columns = quoted(cols);
        let column = columns.get(i.checked_rem(columns.len())?)?;
        return Some((table.to_owned(), column.clone()));
    }
    if let Some(rest) = first.strip_prefix("UPDATE \"") {
        let (table, _) = rest.split_once('"')?;
        let before = parts.get(i)?.strip_suffix("\" = ")?;
        let column = &before[before.rfind('"')? + 1..];
        return Some((table.to_owned(), column.to_owned()));
    }
    None
}

/// Why an array cannot be sent: MySQL/MariaDB have no array column type.
const ARRAY_REASON: &str = "array values are not supported on MySQL/MariaDB (no array column \
                            type): store the list in a JSON field";

/// Why `v` cannot be sent to `server` whatever it is written to, when that is so: a JSON
/// document deeper than the flavour stores ([`too_deep`]), or an array.
fn refusal(v: &Value, server: ServerInfo) -> Option<String> {
    if let Value::Array(_) = v {
        return Some(ARRAY_REASON.to_owned());
    }
    too_deep(v, server).map(depth_reason)
}

/// A compiled statement's binds as the driver's parameters ([`params`]); a value `server`
/// cannot take (`refusal`: an array, a JSON document nested deeper than the flavour
/// stores) is refused with an error naming the model and field it was meant for
/// ([`Error::BadValue`], found by the table and column the statement writes it to), or the
/// table and column when no model of this process maps them.
pub fn statement_params(
    parts: &[String],
    binds: &[Value],
    server: ServerInfo,
) -> Result<mysql_async::Params> {
    if let Some((i, reason)) = binds
        .iter()
        .enumerate()
        .find_map(|(i, v)| refusal(v, server).map(|r| (i, r)))
    {
        return Err(match bind_target(parts, i) {
            Some((table, column)) => match crate::exec::model_names::field_of(&table, &column) {
                Some(f) => Error::BadValue {
                    model: f.model,
                    field: f.field,
                    value: binds[i].to_string(),
                    expected: f.ty,
                    reason: Some(reason),
                },
                None => Error::InvalidQuery(format!("column {table}.{column}: {reason}")),
            },
            None => Error::InvalidQuery(reason),
        });
    }
    params(binds, server)
}

/// The driver's parameter for `v`, or why it cannot be sent.
pub fn to_mysql(v: &Value) -> Result<My> {
    Ok(match v {
        Value::Null(_) => My::NULL,
        Value::Bool(b) => My::Int(i64::from(*b)),
        Value::I32(x) => My::Int(i64::from(*x)),
        Value::I64(x) => My::Int(*x),
        Value::F64(x) => My::Double(*x),
        // Exact: the server reads the digits as a DECIMAL literal. It would round digits
        // past the 30th after the point (no DECIMAL column holds more): refused instead.
        Value::Decimal(x) => {
            let (_, scale) = x.normalized().as_bigint_and_exponent();
            if scale > MAX_DECIMAL_SCALE {
                return Err(Error::InvalidQuery(format!(
                    "decimal {x} has {scale} digits after the point; MySQL/MariaDB keep at \
                     most {MAX_DECIMAL_SCALE} (and would round the rest): round it first"
                )));
            }
            My::Bytes(x.to_string().into_bytes())
        }
        Value::Text(s) => My::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => My::Bytes(b.clone()),
        Value::DateTime(t) => My::Date(
            u16::try_from(t.year()).map_err(|_| out_of_range(v))?,
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            // Microseconds, as DATETIME(6) stores them (the type contract keeps no more).
            t.timestamp_subsec_micros().min(999_999),
        ),
        Value::Date(d) => My::Date(
            u16::try_from(d.year()).map_err(|_| out_of_range(v))?,
            d.month() as u8,
            d.day() as u8,
            0,
            0,
            0,
            0,
        ),
        Value::Json(j) => My::Bytes(j.to_string().into_bytes()),
        Value::Uuid(u) => My::Bytes(u.hyphenated().to_string().into_bytes()),
        Value::Array(_) => return Err(Error::InvalidQuery(ARRAY_REASON.into())),
    })
}

fn out_of_range(v: &Value) -> Error {
    Error::InvalidQuery(format!(
        "{v} is outside the years MySQL/MariaDB can store (0001–9999)"
    ))
}

/// Every bind of a statement as the driver's parameters (no parameters when there are
/// none: the driver then sends the statement without a parameter block).
/// JSON documents deeper than `server` stores are refused by name ([`check_for_server`]).
pub fn params(binds: &[Value], server: ServerInfo) -> Result<mysql_async::Params> {
    if binds.is_empty() {
        return Ok(mysql_async::Params::Empty);
    }
    Ok(mysql_async::Params::Positional(
        binds
            .iter()
            .map(|v| check_for_server(v, server).and_then(|()| to_mysql(v)))
            .collect::<Result<_>>()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::{check_for_server, params, to_mysql, MARIADB_MAX_JSON_DEPTH};
    use crate::dialect::mysql::server::ServerInfo;
    use chakra_dsl::Value;
    use std::str::FromStr;

    fn nested(n: usize) -> Value {
        let mut j = serde_json::Value::Null;
        for _ in 0..n {
            j = serde_json::Value::Array(vec![j]);
        }
        Value::Json(j)
    }

    #[test]
    fn json_past_mariadb_depth_is_refused_by_name_on_mariadb_only() {
        let maria = ServerInfo::from_version("10.11.6-MariaDB");
        let mysql = ServerInfo::from_version("8.0.36");
        assert!(check_for_server(&nested(31), maria).is_ok());
        for (depth, shown) in [
            (32, "32"),
            (33, "33"),
            (100, "100"),
            (5_000, "more than 100"),
        ] {
            let e = check_for_server(&nested(depth), maria)
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("nested {shown} levels deep")), "{e}");
            assert!(e.contains("MariaDB stores JSON up to 31 levels"), "{e}");
            assert!(params(&[Value::I64(1), nested(depth)], maria).is_err());
        }
        // MySQL stores up to 100 levels: Chakra's own limit (checked earlier) applies.
        assert!(check_for_server(&nested(100), mysql).is_ok());
        assert!(params(&[nested(MARIADB_MAX_JSON_DEPTH + 1)], mysql).is_ok());
        assert!(check_for_server(&Value::I64(1), maria).is_ok());
    }

    #[test]
    fn decimals_past_thirty_places_are_refused_not_rounded() {
        let d = |s: &str| Value::Decimal(bigdecimal::BigDecimal::from_str(s).unwrap());
        let thirty = format!("0.{}1", "0".repeat(29));
        assert!(to_mysql(&d(&thirty)).is_ok());
        assert!(
            to_mysql(&d(&format!("{thirty}000"))).is_ok(),
            "trailing zeros"
        );
        let e = to_mysql(&d(&format!("0.{}1", "0".repeat(30)))).unwrap_err();
        assert!(e.to_string().contains("31 digits after the point"), "{e}");
        assert!(to_mysql(&d("12345678901234567890123456789012345")).is_ok());
    }
}
