//! The Rust half of the cross-language round trip (`python-ext/tests/test_cross_language.py`):
//! the `things` table of the Python test models, described with `#[derive(Model)]`.
//!
//! `cross_language read <url>` prints every row as one JSON object per line (canonical text
//! forms: decimals as strings, timestamps as RFC 3339 with microseconds, bytes as hex);
//! `cross_language write <url>` inserts one row of known values and prints its id.
//! MySQL/MariaDB has no array columns (arrays are refused by name there): on it the rows
//! written leave `tags` NULL, as the Python half's do.

use bigdecimal::BigDecimal;
use chakra::prelude::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::json;
use std::str::FromStr;

/// The `Status` enum of the Python test models (`thing_status`), stored as its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, chakra::Enum)]
#[chakra(name = "thing_status")]
pub enum Status {
    /// `"open"`.
    Open,
    /// `"on hold"`.
    #[chakra(value = "on hold")]
    OnHold,
    /// `"closed"`.
    Closed,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "things")]
pub struct Thing {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub name: String,
    #[chakra(max_length = 40)]
    pub nick: Option<String>,
    pub n: Option<i32>,
    #[chakra(default = 0)]
    pub big: i64,
    #[chakra(default = false)]
    pub flag: bool,
    #[chakra(default = 0.0)]
    pub score: f64,
    #[chakra(precision = 10, scale = 2)]
    pub price: Option<BigDecimal>,
    pub at: Option<DateTime<Utc>>,
    pub day: Option<NaiveDate>,
    pub data: Option<serde_json::Value>,
    pub tags: Option<Vec<String>>,
    pub uid: Option<uuid::Uuid>,
    pub blob: Option<Vec<u8>>,
    /// An unbounded decimal (no precision or scale).
    pub amount: Option<BigDecimal>,
    /// An enum field, shared with Python's `Status`.
    pub status: Option<Status>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn to_json(t: &Thing) -> serde_json::Value {
    json!({
        "id": t.id,
        "name": t.name,
        "nick": t.nick,
        "n": t.n,
        "big": t.big,
        "flag": t.flag,
        "score": t.score,
        "price": t.price.as_ref().map(|d| d.to_string()),
        "at": t.at.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        "day": t.day.map(|d| d.to_string()),
        "data": t.data,
        "tags": t.tags,
        "uid": t.uid.map(|u| u.to_string()),
        "blob": t.blob.as_deref().map(hex),
        "amount": t.amount.as_ref().map(|d| d.to_plain_string()),
        "status": t.status.map(|s| s.as_str()),
    })
}

/// The edge values of the type matrix, written by Rust (`write-edges`): the lowest and highest
/// of each type; the Python test checks them (and writes its own for `read`).
fn edges(arrays: bool) -> Vec<Thing> {
    let nested = json!({"ключ": ["😀", {"深": [[], [[]]]}], "esc": "a\"b\\c\n\t", "n": -0.5e-7});
    let base = |name: &str| Thing {
        id: 0,
        name: name.into(),
        nick: None,
        n: None,
        big: 0,
        flag: false,
        score: 0.0,
        price: None,
        at: None,
        day: None,
        data: None,
        tags: None,
        uid: None,
        blob: None,
        amount: None,
        status: None,
    };
    let low = Thing {
        nick: Some(String::new()),
        n: Some(i32::MIN),
        big: i64::MIN,
        score: f64::MIN_POSITIVE,
        price: Some(BigDecimal::from_str("-99999999.99").unwrap()),
        at: Some(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap()),
        day: Some(NaiveDate::from_ymd_opt(1, 1, 1).unwrap()),
        data: Some(nested),
        tags: arrays.then(Vec::new),
        uid: Some(uuid::Uuid::nil()),
        blob: Some((0..=255u8).cycle().take(1 << 20).collect()),
        amount: Some(BigDecimal::from_str("-123456789012345678901234567890.123456789").unwrap()),
        status: Some(Status::Open),
        ..base("rust low")
    };
    let high = Thing {
        n: Some(i32::MAX),
        big: i64::MAX,
        flag: true,
        score: f64::MAX,
        price: Some(BigDecimal::from_str("99999999.99").unwrap()),
        at: Some(
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + chrono::Duration::microseconds(999_999),
        ),
        day: Some(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()),
        data: Some(json!([])),
        tags: arrays.then(|| vec!["".into(), "ü".into(), "😀".into(), "a,b\"c".into()]),
        uid: Some(uuid::Uuid::max()),
        blob: Some(vec![]),
        amount: Some(BigDecimal::from_str("0.000000000000000000000000000001").unwrap()),
        status: Some(Status::OnHold),
        ..base("rust high")
    };
    vec![low, high, base("rust nulls")]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> chakra::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(cmd), Some(url)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: cross_language read|write <database url>");
        std::process::exit(2);
    };
    let pool = Pool::connect(url).await?;
    // Whether the backend has array columns (MySQL/MariaDB refuses array values by name).
    let arrays = pool.dialect() != chakra::Dialect::Mysql;
    match cmd.as_str() {
        "read" => {
            for t in Thing::query()
                .order_by(Thing::id().asc())
                .all(&pool)
                .await?
            {
                println!("{}", to_json(&t));
            }
        }
        "write" => {
            let mut t = Thing {
                id: 0,
                name: "written by Rust ✓ '%_\\".into(),
                nick: None,
                n: Some(-42),
                big: 9_007_199_254_740_993,
                flag: true,
                score: -1.5e-3,
                price: Some(BigDecimal::from_str("12345678.90").unwrap()),
                at: Some(
                    Utc.with_ymd_and_hms(2031, 1, 2, 3, 4, 5).unwrap()
                        + chrono::Duration::microseconds(654_321),
                ),
                day: Some(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()),
                data: Some(json!({"k": [true, null, 1.5, "ü"]})),
                tags: arrays.then(|| vec!["a".into(), "".into(), "c,d".into()]),
                uid: Some(uuid::Uuid::from_u128(
                    0x0123_4567_89ab_cdef_0123_4567_89ab_cdef,
                )),
                blob: Some(vec![0, 255, 0, 1]),
                amount: None,
                status: Some(Status::Closed),
            };
            t.save(&pool).await?;
            println!("{}", t.id);
        }
        "write-edges" => {
            let mut rows = edges(arrays);
            Thing::insert_many(&pool, &mut rows).await?;
            for t in rows {
                println!("{}", t.id);
            }
        }
        other => {
            eprintln!("unknown command {other:?}: use read, write or write-edges");
            std::process::exit(2);
        }
    }
    Ok(())
}
