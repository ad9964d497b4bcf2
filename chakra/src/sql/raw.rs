//! Raw SQL with bound parameters: the placeholders of hand-written SQL text found and
//! translated to the dialect's own (`$n` on PostgreSQL, `?` on SQLite), their number checked
//! against the values given before anything runs. Values are never formatted into the text:
//! each is a bound parameter, converted to the backend's storage form as any other bind.
//!
//! The scanner skips what is quoted, so a placeholder-looking `%s` or `$1` there is text:
//! `'…'` string literals (`''` inside; `E'…'` with backslash escapes), `"…"` and `` `…` ``
//! identifiers, `$tag$…$tag$` dollar-quoted strings, `-- …` and (nested) `/* … */` comments.

use super::{CompiledQuery, Dialect};
use chakra_dsl::{Error, Result, Value};
use std::sync::Arc;

/// How placeholders are written in raw SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// Django's style (the Python door): `%s` is the next parameter, `%%` a literal `%`
    /// (a `%` followed by anything else is kept as it is).
    Percent,
    /// Numbered (the Rust door): `$1`, `$2`, … name parameters by position, each usable
    /// several times; every number from 1 to the highest must appear.
    Numbered,
}

impl Placeholders {
    fn example(self) -> &'static str {
        match self {
            Placeholders::Percent => "%s",
            Placeholders::Numbered => "$n",
        }
    }
}

/// Raw SQL text split at its placeholders: `parts.len() == slots.len() + 1`, slot `i` (the
/// index of the parameter it takes) sits between `parts[i]` and `parts[i + 1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSql {
    /// SQL text pieces (with `%%` already made `%`).
    pub parts: Vec<String>,
    /// For each placeholder in order, the index of its parameter.
    pub slots: Vec<usize>,
    /// How many parameters the text takes.
    pub params: usize,
}

/// Length of the dollar-quote tag starting at `i` (`$$` or `$tag$`), if there is one.
fn dollar_tag(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        j += 1;
    }
    let tag_ok = j == i + 1 || !b[i + 1].is_ascii_digit();
    (j < b.len() && b[j] == b'$' && tag_ok).then_some(j + 1 - i)
}

/// Finds the placeholders of `sql`. An unterminated quote or comment is
/// [`Error::InvalidQuery`], as is a numbered placeholder that skips a number.
pub fn scan(sql: &str, style: Placeholders) -> Result<RawSql> {
    let b = sql.as_bytes();
    let mut parts = Vec::new();
    let mut slots = Vec::new();
    let mut cur = String::with_capacity(sql.len());
    let mut start = 0; // start of the text not yet copied into `cur`
    let mut i = 0;
    let unterminated = |what: &str, at: usize| {
        Error::InvalidQuery(format!(
            "raw SQL has an unterminated {what} starting at byte {at}: {sql:?}"
        ))
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => {
                let backslash = c == b'\''
                    && i > 0
                    && (b[i - 1] == b'E' || b[i - 1] == b'e')
                    && (i < 2 || !(b[i - 2].is_ascii_alphanumeric() || b[i - 2] == b'_'));
                let mut j = i + 1;
                loop {
                    if j >= b.len() {
                        return Err(unterminated("quoted string or identifier", i));
                    }
                    if backslash && b[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if b[j] == c {
                        if j + 1 < b.len() && b[j + 1] == c {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                i = j + 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    if j + 1 >= b.len() {
                        return Err(unterminated("comment", i));
                    }
                    if b[j] == b'/' && b[j + 1] == b'*' {
                        depth += 1;
                        j += 2;
                    } else if b[j] == b'*' && b[j + 1] == b'/' {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                i = j;
            }
            b'$' if style == Placeholders::Numbered
                && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let n: usize = sql[i + 1..j].parse().map_err(|_| {
                    Error::InvalidQuery(format!("raw SQL placeholder {} is too large", &sql[i..j]))
                })?;
                if n == 0 {
                    return Err(Error::InvalidQuery(
                        "raw SQL placeholder $0: parameters are numbered from $1".into(),
                    ));
                }
                cur.push_str(&sql[start..i]);
                parts.push(std::mem::take(&mut cur));
                slots.push(n - 1);
                i = j;
                start = j;
            }
            b'$' if i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') => {
                match dollar_tag(b, i) {
                    Some(len) => {
                        let tag = &sql[i..i + len];
                        match sql[i + len..].find(tag) {
                            Some(n) => i = i + len + n + len,
                            None => return Err(unterminated("dollar-quoted string", i)),
                        }
                    }
                    None => i += 1,
                }
            }
            b'%' if style == Placeholders::Percent => match b.get(i + 1) {
                Some(b's') => {
                    cur.push_str(&sql[start..i]);
                    parts.push(std::mem::take(&mut cur));
                    slots.push(slots.len());
                    i += 2;
                    start = i;
                }
                Some(b'%') => {
                    cur.push_str(&sql[start..=i]);
                    i += 2;
                    start = i;
                }
                _ => i += 1,
            },
            _ => i += 1,
        }
    }
    cur.push_str(&sql[start..]);
    parts.push(cur);
    let params = match style {
        Placeholders::Percent => slots.len(),
        Placeholders::Numbered => {
            let max = slots.iter().max().map_or(0, |m| m + 1);
            if let Some(missing) = (0..max).find(|n| !slots.contains(n)) {
                return Err(Error::InvalidQuery(format!(
                    "raw SQL uses ${max} but not ${}: number parameters from $1 without gaps",
                    missing + 1
                )));
            }
            max
        }
    };
    Ok(RawSql {
        parts,
        slots,
        params,
    })
}

/// Compiles raw SQL with its parameters for a dialect: placeholders become the dialect's,
/// each value a bind (in the backend's storage form). A parameter count that does not match
/// the placeholders is [`Error::InvalidQuery`] naming both counts, before any SQL runs.
///
/// The statement is kept out of the prepared-statement cache: raw text may vary freely, and
/// that cache never evicts.
pub fn compile_raw(
    sql: &str,
    style: Placeholders,
    params: Vec<Value>,
    dialect: Dialect,
) -> Result<CompiledQuery> {
    let raw = scan(sql, style)?;
    if raw.params != params.len() {
        return Err(Error::InvalidQuery(format!(
            "raw SQL expects {} parameter{} ({} placeholders) but {} {} given: {sql:?}",
            raw.params,
            if raw.params == 1 { "" } else { "s" },
            style.example(),
            params.len(),
            if params.len() == 1 { "was" } else { "were" },
        )));
    }
    let hooks = dialect.sql();
    let store = |v: Value| hooks.to_storage(v);
    let binds = if style == Placeholders::Percent {
        params.into_iter().map(store).collect()
    } else {
        raw.slots
            .iter()
            .map(|&s| store(params[s].clone()))
            .collect()
    };
    Ok(CompiledQuery {
        dialect,
        parts: raw.parts.into(),
        binds,
        cacheable: false,
        output: Arc::from([]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str, style: Placeholders, n: usize) -> Result<String> {
        let params = (0..n).map(|i| Value::I64(i as i64)).collect();
        compile_raw(sql, style, params, Dialect::Postgres).map(|q| q.sql())
    }

    #[test]
    fn percent_placeholders_skip_quotes_and_comments() {
        let sql = "SELECT '%s', \"a%sb\", $$ %s $$, $t$ %s $t$ -- %s\n FROM t /* %s /* %s */ */ WHERE a = %s AND b LIKE 'x%%' AND c % 2 = %s AND d = 100%%";
        let got = pg(sql, Placeholders::Percent, 2).unwrap();
        assert_eq!(
            got,
            "SELECT '%s', \"a%sb\", $$ %s $$, $t$ %s $t$ -- %s\n FROM t /* %s /* %s */ */ WHERE a = $1 AND b LIKE 'x%%' AND c % 2 = $2 AND d = 100%"
        );
        let q = compile_raw(
            "SELECT 1 WHERE a = %s AND b = %s",
            Placeholders::Percent,
            vec![Value::I64(1), Value::Text("x".into())],
            Dialect::Sqlite,
        )
        .unwrap();
        assert_eq!(q.sql(), "SELECT 1 WHERE a = ? AND b = ?");
    }

    #[test]
    fn escaped_quotes_stay_inside_the_literal() {
        let got = pg("SELECT 'it''s %s', E'\\' %s', %s", Placeholders::Percent, 1).unwrap();
        assert_eq!(got, "SELECT 'it''s %s', E'\\' %s', $1");
    }

    #[test]
    fn numbered_placeholders_repeat_and_translate() {
        let q = compile_raw(
            "SELECT * FROM t WHERE a = $1 OR b = $1 OR c = $2 AND d = '$3'",
            Placeholders::Numbered,
            vec![Value::I64(7), Value::Text("x".into())],
            Dialect::Sqlite,
        )
        .unwrap();
        assert_eq!(
            q.sql(),
            "SELECT * FROM t WHERE a = ? OR b = ? OR c = ? AND d = '$3'"
        );
        assert_eq!(q.binds.len(), 3);
        assert_eq!(q.binds[1], Value::I64(7));
        assert!(pg("SELECT $2", Placeholders::Numbered, 2)
            .unwrap_err()
            .to_string()
            .contains("$1"));
    }

    #[test]
    fn counts_are_checked_before_any_sql() {
        let e = pg("SELECT %s, %s", Placeholders::Percent, 3).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::InvalidQuery(_)));
        assert!(
            msg.contains("expects 2 parameters") && msg.contains("3 were given"),
            "{msg}"
        );
        let e = pg("SELECT '%s'", Placeholders::Percent, 1).unwrap_err();
        assert!(e.to_string().contains("expects 0 parameters"), "{e}");
        let e = pg("SELECT 'open", Placeholders::Percent, 0).unwrap_err();
        assert!(e.to_string().contains("unterminated"), "{e}");
    }
}
