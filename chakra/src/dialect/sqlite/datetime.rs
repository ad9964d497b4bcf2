//! Datetimes on SQLite written by other programs. Chakra stores `YYYY-MM-DDTHH:MM:SS.ffffffZ`
//! (fixed width, UTC, so text order is time order); Django, SQLAlchemy and Python's `sqlite3`
//! adapters store `2001-05-21 21:25:26`, with or without a fraction, a `T`, an offset or `Z`.
//! Comparisons and sorting of a datetime column on SQLite read it through
//! `chakra_datetime(col)` ([`canonical`]), so every form compares as the instant it names.

use chrono::{Duration, NaiveDate, NaiveTime};

/// `s` in Chakra's stored form (UTC, microseconds, `Z`), or `None` when it is not a date or
/// datetime in one of the ISO 8601 forms other writers use.
pub fn canonical(s: &str) -> Option<String> {
    let s = s.trim();
    let date = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(format(date.and_hms_opt(0, 0, 0)?));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, offset) = split_offset(rest)?;
    let time = time.trim_end();
    let t = if time.contains('.') {
        NaiveTime::parse_from_str(time, "%H:%M:%S%.f").ok()?
    } else if time.len() == 5 {
        NaiveTime::parse_from_str(time, "%H:%M").ok()?
    } else {
        NaiveTime::parse_from_str(time, "%H:%M:%S").ok()?
    };
    Some(format(
        date.and_time(t)
            .checked_sub_signed(Duration::seconds(offset))?,
    ))
}

fn format(dt: chrono::NaiveDateTime) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The time part and its offset from UTC in seconds (`Z`, `+02:00`, `-0530`, `+01`).
fn split_offset(s: &str) -> Option<(&str, i64)> {
    if let Some(t) = s.strip_suffix(['Z', 'z']) {
        return Some((t, 0));
    }
    let Some(at) = s.rfind(['+', '-']) else {
        return Some((s, 0));
    };
    let (time, off) = s.split_at(at);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits[..2].parse::<i64>().ok()?,
            digits[2..].parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    Some((time, sign * (h * 3600 + m * 60)))
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn other_writers_forms() {
        let want = Some("2001-05-21T21:25:26.000000Z".to_owned());
        assert_eq!(canonical("2001-05-21 21:25:26"), want);
        assert_eq!(canonical("2001-05-21T21:25:26"), want);
        assert_eq!(canonical("2001-05-21T21:25:26Z"), want);
        assert_eq!(canonical("2001-05-21 23:25:26+02:00"), want);
        assert_eq!(canonical("2001-05-21 16:55:26-0430"), want);
        assert_eq!(canonical("2001-05-21T21:25:26.000000Z"), want);
        assert_eq!(
            canonical("2001-05-21 21:25:26.5"),
            Some("2001-05-21T21:25:26.500000Z".to_owned())
        );
        assert_eq!(
            canonical("2001-05-21"),
            Some("2001-05-21T00:00:00.000000Z".to_owned())
        );
        assert_eq!(canonical("not a date"), None);
        assert_eq!(canonical("2001-05-21X"), None);
    }
}
