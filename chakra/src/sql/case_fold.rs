//! The one case rule of case-insensitive lookups (`iexact`, `icontains`, `istartswith`,
//! `iendswith`) and of `Lower`/`Upper`, the same on both backends: each character is mapped
//! on its own by Unicode's simple case mapping (one character to one, as PostgreSQL's
//! `lower`/`upper` do in a UTF-8 database: `İ` → `i`, `K` (Kelvin) → `k`, `ß` stays `ß` in
//! upper case), and for comparisons the final sigma `ς` counts as `σ`. SQLite calls
//! [`lower`]/[`upper`] through `chakra_lower`/`chakra_upper`; PostgreSQL uses its own
//! `LOWER`/`UPPER`; both sides of a comparison go through `REPLACE(…, 'ς', 'σ')`.

/// Lower case, character by character (simple mapping).
pub fn lower(s: &str) -> String {
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// Upper case, character by character (simple mapping: a character whose upper case is
/// several characters, such as `ß`, stays as it is).
pub fn upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut u = c.to_uppercase();
            match (u.next(), u.next()) {
                (Some(one), None) => one,
                _ => c,
            }
        })
        .collect()
}

/// The form compared by case-insensitive lookups: [`lower`], then `ς` as `σ`.
pub fn fold(s: &str) -> String {
    lower(s).replace('ς', "σ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_character_at_a_time() {
        assert_eq!(lower("İSTANBUL"), "istanbul");
        assert_eq!(lower("\u{212a}elvin"), "kelvin");
        assert_eq!(fold("ΣΊΣΥΦΟΣ"), fold("σίσυφος"));
        assert_eq!(upper("straße"), "STRAßE");
        assert_eq!(upper("ı"), "I");
    }
}
