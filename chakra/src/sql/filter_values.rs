//! Filter values checked before any SQL, with the same rules on both backends: text holding
//! NUL is refused (SQLite would cut a `LIKE` pattern at the NUL, so `contains="\0"` would
//! match every row, and PostgreSQL refuses it with a generic error), and a regular
//! expression must be valid in the syntax both backends read alike (PostgreSQL's ARE and the
//! `regex` crate behind SQLite's `REGEXP`), so an invalid pattern is `InvalidQuery` on both
//! instead of matching nothing on one and failing on the other.

use chakra_dsl::{ArrayValue, Error, Expr, Result, Value};

/// (model or table, field) to name in an error about a value tested against `target`.
fn named(target: &Expr) -> (String, String) {
    match target {
        Expr::Column(c) => (
            c.table.clone().unwrap_or_else(|| "query".into()),
            c.column.clone(),
        ),
        _ => ("query".into(), "expression".into()),
    }
}

/// The NUL error for `value` tested against `target`.
fn nul(target: &Expr, value: String) -> Error {
    let (model, field) = named(target);
    Error::BadValue {
        model,
        field,
        value,
        expected: "text without NUL".into(),
        reason: Some(
            "filter text holds a NUL character (\\0), which PostgreSQL cannot compare and \
             SQLite would cut short: refused on both backends"
                .into(),
        ),
    }
}

/// True when a value holds NUL in text, a JSON string or key, or an array element.
pub fn holds_nul(v: &Value) -> bool {
    match v {
        Value::Text(s) => s.contains('\0'),
        Value::Json(_) => chakra_dsl::contract::violation(&chakra_dsl::FieldType::Json, v)
            .is_some_and(|r| r.contains("NUL")),
        Value::Array(ArrayValue::Text(items)) => items.iter().flatten().any(|s| s.contains('\0')),
        Value::Array(a @ ArrayValue::Json(_)) => a.to_values().iter().any(holds_nul),
        _ => false,
    }
}

/// Refuses a bound value holding NUL.
pub fn check_value(target: &Expr, v: &Value) -> Result<()> {
    if holds_nul(v) {
        return Err(nul(target, v.to_string()));
    }
    Ok(())
}

/// Refuses LIKE text holding NUL.
pub fn check_text(target: &Expr, text: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(nul(target, format!("{text:?}")));
    }
    Ok(())
}

/// Escapes and groups whose meaning differs between PostgreSQL's ARE and the `regex` crate
/// (or that one of them lacks), refused on both.
const NOT_SHARED: &[(&str, &str)] = &[
    (
        "\\b",
        "\\b (a word boundary here, a backspace in PostgreSQL)",
    ),
    ("\\B", "\\B (PostgreSQL reads it as a backslash)"),
    ("\\p", "\\p{…} Unicode classes (PostgreSQL has none)"),
    ("\\P", "\\P{…} Unicode classes (PostgreSQL has none)"),
    ("\\z", "\\z (PostgreSQL has none; use $)"),
    ("\\x{", "\\x{…} (PostgreSQL reads \\x differently)"),
    ("(?P<", "named groups (PostgreSQL has none)"),
    ("(?<", "named groups and lookbehind (PostgreSQL has none)"),
];

/// Checks a regular expression against the rules both backends share.
pub fn check_regex(target: &Expr, pattern: &str) -> Result<()> {
    check_text(target, pattern)?;
    let (model, field) = named(target);
    let invalid = |why: String| {
        Error::InvalidQuery(format!(
            "invalid regular expression {pattern:?} for {model}.{field}: {why}"
        ))
    };
    if let Err(e) = regex::Regex::new(pattern) {
        return Err(invalid(e.to_string()));
    }
    // Escapes are matched on whole escape sequences (a `\\` pair is one literal backslash).
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &pattern[i..];
        if let Some((_, what)) = NOT_SHARED.iter().find(|(p, _)| rest.starts_with(p)) {
            return Err(invalid(format!(
                "{what} is not read the same by both backends"
            )));
        }
        // Inline flags are read alike only at the very start (`(?i)…`).
        if i > 0 && rest.starts_with("(?") && !rest.starts_with("(?:") {
            return Err(invalid(
                "inline flags are read the same by both backends only at the start of the pattern"
                    .into(),
            ));
        }
        i += if bytes[i] == b'\\' { 2 } else { 1 };
        while i < bytes.len() && !pattern.is_char_boundary(i) {
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_follow_the_shared_rules() {
        let t = Expr::Bool(true);
        for ok in [
            "^a.c$",
            "[[:alpha:]]+",
            "a|b",
            "(?i)abc",
            "\\d{2,3}",
            "a\\\\b",
            "(?:ab)+",
        ] {
            assert!(check_regex(&t, ok).is_ok(), "{ok}");
        }
        for bad in [
            "(", "a{2", "\\bword", "\\p{L}", "(?P<x>a)", "a(?i)b", "[z-a]", "\\1",
        ] {
            assert!(
                matches!(check_regex(&t, bad), Err(Error::InvalidQuery(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            check_regex(&t, "a\0"),
            Err(Error::BadValue { .. })
        ));
    }

    #[test]
    fn nul_is_found_in_text_json_and_arrays() {
        assert!(holds_nul(&Value::Text("a\0".into())));
        assert!(holds_nul(&Value::Json(serde_json::json!({"a": ["\u{0}"]}))));
        assert!(!holds_nul(&Value::Text("a\\0".into())));
    }
}
