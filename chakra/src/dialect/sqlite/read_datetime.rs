//! Timestamp text read back as an instant: Chakra's canonical form without a general
//! parser, and the other forms found in SQLite databases.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses the timestamp text forms found in SQLite databases: Chakra's canonical form, any
/// RFC 3339 text, SQLite's own `YYYY-MM-DD HH:MM:SS[.fff]` (UTC), and the forms of
/// [`crate::dialect::sqlite::datetime::canonical`] (an offset without a colon, a bare date).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Some(dt) = parse_canonical(s.as_bytes()) {
        return Some(dt);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc());
        }
    }
    // The other forms writers use (an offset without a colon, `-0430`, after a space or a
    // `T`), as comparisons read them (`dialect/sqlite/datetime.rs`).
    crate::dialect::sqlite::datetime::canonical(s).and_then(|c| parse_canonical(c.as_bytes()))
}

/// Chakra's own timestamp text, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (what
/// [`Value::datetime_text`] writes), read without a general parser; anything else (other
/// forms, out-of-range fields) is `None` and goes through the general parsers, which read
/// this form the same way.
fn parse_canonical(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 27
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[26] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let t = date.and_hms_micro_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 26)?)?;
    Some(t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chakra_dsl::Value;
    use chrono::TimeZone;

    #[test]
    fn canonical_timestamps_read_and_write_as_chrono_does() {
        let instants = [
            Utc.timestamp_opt(0, 0).unwrap(),
            Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1, 2, 3, 4, 5, 6).unwrap(),
            Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(12_345, 1, 1, 0, 0, 0).unwrap(),
        ];
        for t in instants {
            let text = Value::datetime_text(&t);
            assert_eq!(text, t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            if text.len() != 27 {
                continue; // signed or five-digit years: formatted by chrono, not read back
            }
            let back = parse_datetime(&text).unwrap();
            let general = DateTime::parse_from_rfc3339(&text).map(|d| d.with_timezone(&Utc));
            if let Ok(g) = general {
                assert_eq!(back, g, "{text}");
            }
            assert_eq!(back.timestamp_micros(), t.timestamp_micros(), "{text}");
        }
        // Not the canonical form: the general parsers decide.
        assert_eq!(
            parse_datetime("2024-02-30T00:00:00.000000Z"),
            None,
            "no such day"
        );
        assert_eq!(
            parse_datetime("2024-01-01T00:00:60.000000Z"),
            DateTime::parse_from_rfc3339("2024-01-01T00:00:60.000000Z")
                .ok()
                .map(|d| d.with_timezone(&Utc))
        );
        assert!(parse_datetime("2024-01-01 10:00:00").is_some());
        assert!(parse_datetime("2024-01-01T1x:00:00.000000Z").is_none());
    }
}
