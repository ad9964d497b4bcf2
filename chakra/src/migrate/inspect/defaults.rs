//! A column default as the catalog spells it (`'abc'::character varying`, `0`, `now()`,
//! `CURRENT_TIMESTAMP(6)`) read back as a migration default. A reading is kept only when
//! Chakra would write a default that drift checks find equal to the database's
//! ([`crate::sql::ddl::default_sql`] against the text, both through
//! [`defaults_equal`]); otherwise the default is reported, never guessed. Pure.

use crate::migrate::drift::defaults_equal;
use crate::migrate::values::{default_from_raw, RawDefault};
use crate::Dialect;
use chakra_dsl::{DefaultValue, FieldMeta, FieldType};

/// The literal inside a default: a quoted string's content (quotes undoubled), or the bare
/// text before any cast, outer parentheses taken off.
fn literal(text: &str) -> (Option<String>, String) {
    let mut s = text.trim();
    while s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
        s = s[1..s.len() - 1].trim();
    }
    let body = s
        .strip_prefix("X'")
        .or_else(|| s.strip_prefix("x'"))
        .map(|rest| format!("'{rest}"));
    let s2 = body.as_deref().unwrap_or(s);
    if let Some(rest) = s2.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    out.push('\'');
                    continue;
                }
                let tail: String = chars.collect();
                if tail.is_empty() || tail.trim_start().starts_with("::") {
                    return (Some(out), s.to_owned());
                }
                return (None, s.to_owned());
            }
            out.push(c);
        }
        return (None, s.to_owned());
    }
    let bare = s.split("::").next().unwrap_or(s).trim();
    let bare = bare.trim_start_matches('(').trim_end_matches(')');
    (None, bare.to_owned())
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// The candidate file forms of a default for a field of type `ty`.
fn candidates(text: &str, ty: &FieldType) -> Vec<RawDefault> {
    let (quoted, bare) = literal(text);
    let word = quoted.clone().unwrap_or_else(|| bare.clone());
    let mut out = vec![RawDefault::Str("now()".into())];
    match ty {
        FieldType::Integer | FieldType::BigInteger => {
            if let Ok(i) = word.parse() {
                out.push(RawDefault::Int(i));
            }
        }
        FieldType::Float => {
            if let Ok(f) = word.parse() {
                out.push(RawDefault::Float(f));
            }
        }
        FieldType::Boolean => match word.to_ascii_lowercase().as_str() {
            "true" | "1" | "t" => out.push(RawDefault::Bool(true)),
            "false" | "0" | "f" => out.push(RawDefault::Bool(false)),
            _ => {}
        },
        FieldType::Decimal { .. } => out.push(RawDefault::Str(word)),
        _ => {
            if let Some(q) = quoted {
                out.push(RawDefault::Str(q));
            }
        }
    }
    out
}

/// The migration default of field `f` (its type set) for the database default `text`:
/// `Ok(None)` for `NULL`, `Err` naming the default when no default Chakra writes equals it.
pub fn default_of(text: &str, f: &FieldMeta, d: Dialect) -> Result<Option<DefaultValue>, String> {
    if text.trim().eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    for raw in candidates(text, &f.ty) {
        let Ok(value) = default_from_raw(&raw, &f.ty) else {
            continue;
        };
        let mut probe = f.clone();
        probe.default = Some(value.clone());
        if crate::sql::ddl::default_sql(&probe, d).is_some_and(|s| defaults_equal(&s, text)) {
            return Ok(Some(value));
        }
    }
    Err(format!(
        "the default {text} is not one the migration format can write for a {} field (constants \
         and now() only)",
        f.ty.name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chakra_dsl::Value;

    fn field(ty: FieldType) -> FieldMeta {
        FieldMeta::new("x", ty)
    }

    #[test]
    fn constants_and_now_read_back() {
        let pg = Dialect::Postgres;
        let text = field(FieldType::String {
            max_length: Some(20),
        });
        assert_eq!(
            default_of("'it''s'::character varying", &text, pg),
            Ok(Some(DefaultValue::Value(Value::Text("it's".into()))))
        );
        assert_eq!(
            default_of("0", &field(FieldType::Integer), pg),
            Ok(Some(DefaultValue::Value(Value::I32(0))))
        );
        assert_eq!(
            default_of("now()", &field(FieldType::DateTime), pg),
            Ok(Some(DefaultValue::Now))
        );
        assert_eq!(
            default_of("false", &field(FieldType::Boolean), pg),
            Ok(Some(DefaultValue::Value(Value::Bool(false))))
        );
        assert_eq!(
            default_of("0", &field(FieldType::Boolean), Dialect::Sqlite),
            Ok(Some(DefaultValue::Value(Value::Bool(false))))
        );
        assert_eq!(default_of("NULL", &text, pg), Ok(None));
        assert!(default_of("gen_random_uuid()", &field(FieldType::Uuid), pg).is_err());
        assert!(default_of("(1 + 1)", &field(FieldType::Integer), pg).is_err());
    }
}

#[cfg(test)]
mod mysql_tests {
    use super::*;

    #[test]
    fn mysql_decimal_default() {
        let f = FieldMeta::new(
            "x",
            FieldType::Decimal {
                precision: Some(12),
                scale: Some(2),
            },
        );
        assert!(default_of("0.00", &f, Dialect::Mysql).is_ok());
    }
}
