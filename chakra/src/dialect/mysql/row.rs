//! Rows read on MySQL/MariaDB: each cell decoded by its column type (binary protocol) into
//! a runtime-typed [`Value`]; [`crate::exec::coerce`] then gives it the type the statement
//! declared (a `TINYINT(1)` read as a bool, MariaDB's JSON `LONGTEXT` as JSON, `CHAR(36)`
//! as a UUID).

use crate::exec::row::UNKNOWN_NULL;
use chakra_dsl::{Error, Result, Value};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::{Column, Value as My};
use std::str::FromStr;

/// The `binary` character set's number: a string column in it holds bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// Every cell of `row`, decoded.
pub fn decode_row(row: mysql_async::Row) -> Result<Vec<Value>> {
    let columns = row.columns();
    let cells = row.unwrap();
    // A plain loop into a vector of the row's length (a `collect` through `Result` measured
    // slower here: `chakra/benches/mysql.rs`, fetch 10,000 rows).
    let mut out = Vec::with_capacity(cells.len());
    for (v, c) in cells.into_iter().zip(columns.iter()) {
        out.push(decode(v, c).map_err(|reason| Error::Decode {
            column: c.name_str().into_owned(),
            reason,
        })?);
    }
    Ok(out)
}

/// The column names of a result.
pub fn names(columns: &[Column]) -> Vec<String> {
    columns.iter().map(|c| c.name_str().into_owned()).collect()
}

fn text(b: Vec<u8>) -> std::result::Result<String, String> {
    String::from_utf8(b).map_err(|_| "text that is not UTF-8".to_owned())
}

fn decode(v: My, c: &Column) -> std::result::Result<Value, String> {
    use ColumnType::*;
    let ty = c.column_type();
    Ok(match v {
        My::NULL => UNKNOWN_NULL,
        My::Int(x) => match ty {
            MYSQL_TYPE_LONGLONG => Value::I64(x),
            _ => i32::try_from(x).map_or(Value::I64(x), Value::I32),
        },
        My::UInt(x) => match i64::try_from(x) {
            Ok(x) => Value::I64(x),
            Err(_) => Value::Decimal(x.into()),
        },
        My::Float(x) => Value::F64(f64::from(x)),
        My::Double(x) => Value::F64(x),
        My::Date(y, mo, d, h, mi, s, us) => {
            let date = NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))
                .ok_or_else(|| format!("{y:04}-{mo:02}-{d:02} is not a date"))?;
            if ty == MYSQL_TYPE_DATE {
                Value::Date(date)
            } else {
                let time =
                    NaiveTime::from_hms_micro_opt(u32::from(h), u32::from(mi), u32::from(s), us)
                        .ok_or("a time of day out of range")?;
                // The session's time zone is UTC: the stored value is a UTC instant.
                Value::DateTime(NaiveDateTime::new(date, time).and_utc())
            }
        }
        My::Time(..) => {
            return Err("a TIME column has no Chakra type (select it as text)".into());
        }
        My::Bytes(b) => match ty {
            MYSQL_TYPE_NEWDECIMAL | MYSQL_TYPE_DECIMAL => {
                let t = text(b)?;
                let d = bigdecimal::BigDecimal::from_str(&t).map_err(|e| format!("{t}: {e}"))?;
                // The widest scale is an unbounded `Decimal()` (`DECIMAL(65, 30)`): its
                // trailing zeros are the column's padding, not the value's digits.
                Value::Decimal(if c.decimals() >= 30 {
                    d.normalized()
                } else {
                    d
                })
            }
            MYSQL_TYPE_JSON => {
                let t = text(b)?;
                Value::Json(serde_json::from_str(&t).map_err(|e| e.to_string())?)
            }
            MYSQL_TYPE_BIT => Value::Bytes(b),
            // Integers and dates sent as text (a text-protocol result).
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24
            | MYSQL_TYPE_YEAR => {
                let t = text(b)?;
                Value::I32(t.parse().map_err(|_| format!("{t} is not an integer"))?)
            }
            MYSQL_TYPE_LONGLONG => {
                let t = text(b)?;
                Value::I64(t.parse().map_err(|_| format!("{t} is not an integer"))?)
            }
            MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => {
                let t = text(b)?;
                Value::F64(t.parse().map_err(|_| format!("{t} is not a number"))?)
            }
            MYSQL_TYPE_DATETIME | MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_DATE => Value::Text(text(b)?),
            _ if c.character_set() == BINARY_CHARSET
                && c.flags().contains(ColumnFlags::BINARY_FLAG) =>
            {
                Value::Bytes(b)
            }
            _ => Value::Text(text(b)?),
        },
    })
}
