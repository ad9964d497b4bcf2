//! Reading the few SQL shapes the migration format can say in its own words, from the text a
//! catalog gives: an enum-like CHECK (`status IN ('a', 'b')`, PostgreSQL's
//! `status = ANY (ARRAY['a', 'b'])`), a partial index's condition made of comparisons joined
//! by AND (as lookups), and an index key `lower(column)`. Anything else is `None`: the caller
//! keeps the SQL as it is (a raw CHECK, a RunSQL index), never a guess. Pure.

use chakra_dsl::table_options::{Cond, CondValue, IndexExpr};

/// A token of SQL text, casts and parentheses already dropped where asked.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An identifier or keyword; `quoted` when it was written in quotes.
    Word { text: String, quoted: bool },
    /// A string literal's content.
    Str(String),
    /// A number as written.
    Num(String),
    /// Punctuation or an operator (`=`, `<>`, `,`, `(`, `[`).
    Punct(String),
}

fn tokens(sql: &str) -> Option<Vec<Tok>> {
    let c: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match c.get(i) {
                    None => return None,
                    Some('\'') if c.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(x) => {
                        s.push(*x);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if ch == '"' || ch == '`' {
            let mut s = String::new();
            i += 1;
            loop {
                match c.get(i) {
                    None => return None,
                    Some(x) if *x == ch && c.get(i + 1) == Some(&ch) => {
                        s.push(ch);
                        i += 2;
                    }
                    Some(x) if *x == ch => {
                        i += 1;
                        break;
                    }
                    Some(x) => {
                        s.push(*x);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Word {
                text: s,
                quoted: true,
            });
        } else if ch.is_ascii_digit()
            || (ch == '-'
                && c.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                && !matches!(
                    out.last(),
                    Some(Tok::Word { .. } | Tok::Num(_) | Tok::Str(_))
                ))
        {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(c[start..i].iter().collect()));
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$') {
                i += 1;
            }
            out.push(Tok::Word {
                text: c[start..i].iter().collect(),
                quoted: false,
            });
        } else {
            let two: String = c[i..(i + 2).min(c.len())].iter().collect();
            if ["<>", "!=", ">=", "<=", "::"].contains(&two.as_str()) {
                out.push(Tok::Punct(two));
                i += 2;
            } else {
                out.push(Tok::Punct(ch.to_string()));
                i += 1;
            }
        }
    }
    Some(out)
}

fn is_word(t: &Tok, w: &str) -> bool {
    matches!(t, Tok::Word { text, quoted: false } if text.eq_ignore_ascii_case(w))
}

fn is_punct(t: &Tok, p: &str) -> bool {
    matches!(t, Tok::Punct(x) if x == p)
}

/// The tokens without casts (`::type`, `::character varying(10)[]`), charset introducers
/// (`_utf8mb4'a'`) and parentheses.
fn plain(sql: &str) -> Option<Vec<Tok>> {
    let t = tokens(sql)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if is_punct(&t[i], "::") {
            i += 1;
            while i < t.len() && matches!(t[i], Tok::Word { quoted: false, .. }) {
                i += 1;
                if i < t.len() && is_punct(&t[i], "(") {
                    while i < t.len() && !is_punct(&t[i], ")") {
                        i += 1;
                    }
                    i += 1;
                }
            }
            while i + 1 < t.len() && is_punct(&t[i], "[") && is_punct(&t[i + 1], "]") {
                i += 2;
            }
            continue;
        }
        if let (
            Tok::Word {
                text,
                quoted: false,
            },
            Some(Tok::Str(_)),
        ) = (&t[i], t.get(i + 1))
        {
            if text.starts_with('_') {
                i += 1;
                continue;
            }
        }
        if !is_punct(&t[i], "(") && !is_punct(&t[i], ")") {
            out.push(t[i].clone());
        }
        i += 1;
    }
    Some(out)
}

fn word(t: &Tok) -> Option<&str> {
    match t {
        Tok::Word { text, .. } => Some(text),
        _ => None,
    }
}

/// `column IN ('a', 'b')` (or PostgreSQL's `column = ANY (ARRAY['a', 'b'])`): the column and
/// the values, in order.
pub fn enum_like(clause: &str) -> Option<(String, Vec<String>)> {
    let t = plain(clause)?;
    let column = word(t.first()?)?.to_owned();
    let rest = match &t[1..] {
        [op, list @ ..] if is_word(op, "in") => list,
        [eq, any, array, list @ ..]
            if is_punct(eq, "=") && is_word(any, "any") && is_word(array, "array") =>
        {
            let list = list.strip_prefix(&[Tok::Punct("[".into())][..])?;
            list.strip_suffix(&[Tok::Punct("]".into())][..])?
        }
        _ => return None,
    };
    let mut values = Vec::new();
    for (n, tok) in rest.iter().enumerate() {
        match (n % 2, tok) {
            (0, Tok::Str(s)) => values.push(s.clone()),
            (1, p) if is_punct(p, ",") => {}
            _ => return None,
        }
    }
    (!values.is_empty() && rest.len() % 2 == 1).then_some((column, values))
}

/// A partial index's condition as lookups: comparisons of a column with a constant, and
/// `IS [NOT] NULL`, joined by AND. Columns are matched to `columns` (the table's) without
/// regard to case; `None` for anything else.
pub fn condition(predicate: &str, columns: &[String]) -> Option<Cond> {
    let t = plain(predicate)?;
    let mut items = Vec::new();
    for term in t.split(|x| is_word(x, "and")) {
        let first = word(term.first()?)?;
        let col = columns
            .iter()
            .find(|c| first.eq_ignore_ascii_case(c))?
            .clone();
        let item = match &term[1..] {
            [is, null] if is_word(is, "is") && is_word(null, "null") => Cond::Lookup {
                key: format!("{col}__isnull"),
                value: CondValue::Bool(true),
            },
            [is, not, null]
                if is_word(is, "is") && is_word(not, "not") && is_word(null, "null") =>
            {
                Cond::Lookup {
                    key: format!("{col}__isnull"),
                    value: CondValue::Bool(false),
                }
            }
            [Tok::Punct(op), value] => {
                let value = match value {
                    Tok::Str(s) => CondValue::Text(s.clone()),
                    Tok::Num(n) => CondValue::Int(n.parse().ok()?),
                    w if is_word(w, "true") => CondValue::Bool(true),
                    w if is_word(w, "false") => CondValue::Bool(false),
                    _ => return None,
                };
                let lookup = |suffix: &str| Cond::Lookup {
                    key: format!("{col}{suffix}"),
                    value: value.clone(),
                };
                match op.as_str() {
                    "=" => lookup(""),
                    "<>" | "!=" => Cond::Not(Box::new(lookup(""))),
                    ">" => lookup("__gt"),
                    ">=" => lookup("__gte"),
                    "<" => lookup("__lt"),
                    "<=" => lookup("__lte"),
                    _ => return None,
                }
            }
            _ => return None,
        };
        items.push(item);
    }
    (!items.is_empty()).then(|| Cond::And(items).normalized())
}

/// An index key such as `lower(email)` (casts dropped) as the format's expression, over a
/// column of `columns`; `None` for anything else.
pub fn index_expression(expr: &str, columns: &[String]) -> Option<IndexExpr> {
    let t = plain(expr)?;
    let (last, funcs) = t.split_last()?;
    let col = columns
        .iter()
        .find(|c| word(last).is_some_and(|w| w.eq_ignore_ascii_case(c)))?;
    if funcs.is_empty()
        || funcs
            .iter()
            .any(|f| !matches!(f, Tok::Word { quoted: false, .. }))
    {
        return None;
    }
    let mut text = col.clone();
    for f in funcs.iter().rev() {
        text = format!("{}({text})", word(f)?.to_ascii_lowercase());
    }
    IndexExpr::parse(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_like_checks_in_each_spelling() {
        let want = Some((
            "status".to_owned(),
            vec!["new".to_owned(), "it's".to_owned()],
        ));
        assert_eq!(enum_like("status IN ('new', 'it''s')"), want);
        assert_eq!(enum_like("(\"status\" in ('new','it''s'))"), want);
        assert_eq!(
            enum_like("((status)::text = ANY ((ARRAY['new'::character varying, 'it''s'::character varying])::text[]))"),
            want
        );
        assert_eq!(
            enum_like("`status` in (_utf8mb4'new',_utf8mb4'it''s')"),
            want
        );
        assert_eq!(enum_like("status IN ('a') OR status IS NULL"), None);
        assert_eq!(enum_like("price > 0"), None);
        assert_eq!(enum_like("status IN (1, 2)"), None);
    }

    #[test]
    fn partial_conditions_as_lookups() {
        let cols = ["deleted_at".to_owned(), "Qty".to_owned(), "kind".to_owned()];
        assert_eq!(
            condition("(deleted_at IS NULL)", &cols),
            Some(Cond::Lookup {
                key: "deleted_at__isnull".into(),
                value: CondValue::Bool(true)
            })
        );
        assert_eq!(
            condition("((qty > 0) AND ((kind)::text <> 'x'::text))", &cols),
            Some(Cond::And(vec![
                Cond::Lookup {
                    key: "Qty__gt".into(),
                    value: CondValue::Int(0)
                },
                Cond::Not(Box::new(Cond::Lookup {
                    key: "kind".into(),
                    value: CondValue::Text("x".into())
                })),
            ]))
        );
        assert_eq!(condition("qty > 0 OR kind = 'x'", &cols), None);
        assert_eq!(condition("other IS NULL", &cols), None);
        assert_eq!(condition("qty > price", &cols), None);
    }

    #[test]
    fn index_expressions() {
        let cols = ["email".to_owned()];
        assert_eq!(
            index_expression("lower((email)::text)", &cols).map(|e| e.to_string()),
            Some("lower(email)".into())
        );
        assert_eq!(index_expression("email", &cols), None);
        assert_eq!(index_expression("md5(email)", &cols), None);
        assert_eq!(index_expression("lower(name)", &cols), None);
    }
}
