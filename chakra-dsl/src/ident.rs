//! Identifier validation: every table, column and alias name goes through here before it
//! reaches SQL text (where it is also quoted).

use crate::error::{Error, Result};

/// Longest identifier accepted (PostgreSQL truncates at 63 bytes).
pub const MAX_IDENT_LEN: usize = 63;

/// Checks that `ident` is usable as a quoted SQL identifier: non-empty, at most 63 bytes,
/// no NUL, no double quote, no control characters.
pub fn validate(ident: &str) -> Result<()> {
    let bad = |reason: &str| {
        Err(Error::InvalidIdentifier {
            ident: ident.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if ident.is_empty() {
        return bad("it is empty");
    }
    if ident.len() > MAX_IDENT_LEN {
        return bad("it is longer than 63 bytes");
    }
    if ident.contains('"') {
        return bad("it contains a double quote");
    }
    if ident.chars().any(|c| c.is_control()) {
        return bad("it contains a control character");
    }
    Ok(())
}

/// Quotes a validated identifier with double quotes (valid on PostgreSQL and SQLite).
pub fn quote(ident: &str) -> String {
    let mut s = String::with_capacity(ident.len() + 2);
    s.push('"');
    s.push_str(ident);
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_quotes_nul_and_empty() {
        assert!(validate("users").is_ok());
        assert!(validate("bad\"name").is_err());
        assert!(validate("nul\0").is_err());
        assert!(validate("").is_err());
        assert!(validate(&"x".repeat(64)).is_err());
    }
}
