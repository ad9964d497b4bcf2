//! The text of a raw-SQL `CHECK` constraint, refused unless it is one balanced expression:
//! it is spliced into DDL (`CHECK (<text>)`), so a `;`, a comment, a parenthesis closing what
//! it did not open, or a quote left open could end the constraint and run other statements.
//! The scan is conservative: whatever the databases might read as outside a string literal is
//! treated as outside (no backslash escapes, no `E'…'` or dollar quoting), so a text it accepts
//! cannot carry a second statement on PostgreSQL or SQLite.

/// Checks that `text` is one balanced SQL expression; the error says what is wrong and where
/// (character position, 1-based).
pub fn check_expression(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the check expression is empty".into());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut depth = 0usize;
    let mut i = 0;
    let at = |i: usize| format!("at character {}", i + 1);
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => {
                // A literal or quoted identifier: a doubled quote is the quote itself.
                if c == '\'' && i > 0 && chars[i - 1].is_ascii_alphabetic() {
                    return Err(format!(
                        "a prefixed string literal ({}'…') {}: its escape rules differ between \
                         databases; write a plain '…' literal",
                        chars[i - 1],
                        at(i - 1)
                    ));
                }
                let start = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(format!(
                                "the quote {c} opened {} is never closed",
                                at(start)
                            ))
                        }
                        Some(&q) if q == c => {
                            if chars.get(i + 1) == Some(&c) {
                                i += 2;
                                continue;
                            }
                            break;
                        }
                        Some('\\') => {
                            return Err(format!(
                                "a backslash inside a quoted text {}: some servers read it as an \
                                 escape",
                                at(i)
                            ))
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            ';' => {
                return Err(format!(
                    "a statement separator (;) {}: a check is one expression",
                    at(i)
                ))
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                return Err(format!("a comment (--) {}", at(i)));
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                return Err(format!("a comment (/*) {}", at(i)));
            }
            '$' => {
                return Err(format!(
                    "a $ {}: dollar quoting and parameters are not allowed in a check",
                    at(i)
                ))
            }
            '\\' | '\0' | '`' | '[' | ']' => {
                return Err(format!(
                    "the character {c:?} {} is not allowed in a check expression",
                    at(i)
                ))
            }
            '(' => depth += 1,
            ')' => {
                if depth == 0 {
                    return Err(format!(
                        "a ) {} closes a parenthesis the expression did not open",
                        at(i)
                    ));
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        return Err(format!("{depth} parenthesis(es) opened and never closed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_expression;

    #[test]
    fn balanced_expressions_pass() {
        for ok in [
            "age >= 0",
            "(a > 0) AND (b < 10)",
            "name <> 'it''s; -- fine ( in a literal'",
            "\"weird;col\" > 0",
            "length(name) BETWEEN 1 AND 50",
            "a - -1 > 0",
        ] {
            assert_eq!(check_expression(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn anything_that_could_end_the_constraint_is_refused() {
        for (bad, why) in [
            ("1=1); DROP TABLE users; --", "closes a parenthesis"),
            ("1=1; DROP TABLE users", "statement separator"),
            ("age > 0 -- comment", "comment (--)"),
            ("age > 0 /* x */", "comment (/*)"),
            ("(age > 0", "never closed"),
            ("name = 'open", "never closed"),
            ("E'\\'' ) ; DROP TABLE x; --'", "prefixed string literal"),
            ("name = 'a\\'", "backslash"),
            ("$$x$$ = ''", "dollar quoting"),
            ("   ", "empty"),
        ] {
            let e = check_expression(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
