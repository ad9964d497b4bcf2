//! A compiled statement's values as the driver's parameters: each [`Value`] in the MySQL
//! binary protocol's form (integers, doubles, dates as `DATETIME`, decimals as exact text,
//! JSON as its text, UUIDs as their 36-character text), NULLs as NULL. Arrays have no MySQL
//! column type and are refused by name (store them in a JSON column).

use chakra_dsl::{Error, Result, Value};
use chrono::{Datelike, Timelike};
use mysql_async::Value as My;

/// The most digits after the point a MySQL/MariaDB `DECIMAL` holds.
pub const MAX_DECIMAL_SCALE: i64 = 30;

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
        Value::Array(_) => {
            return Err(Error::InvalidQuery(
                "array values are not supported on MySQL/MariaDB (no array column type): \
                 store the list in a JSON field"
                    .into(),
            ))
        }
    })
}

fn out_of_range(v: &Value) -> Error {
    Error::InvalidQuery(format!(
        "{v} is outside the years MySQL/MariaDB can store (0001–9999)"
    ))
}

/// Every bind of a statement as the driver's parameters (no parameters when there are
/// none: the driver then sends the statement without a parameter block).
pub fn params(binds: &[Value]) -> Result<mysql_async::Params> {
    if binds.is_empty() {
        return Ok(mysql_async::Params::Empty);
    }
    Ok(mysql_async::Params::Positional(
        binds.iter().map(to_mysql).collect::<Result<_>>()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::to_mysql;
    use chakra_dsl::Value;
    use std::str::FromStr;

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
