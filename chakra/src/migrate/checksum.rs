//! Checksums of migrations, taken over the parsed, canonical content: the text
//! [`write_migration`] produces. Line endings, a BOM, comments, key order and whitespace in
//! the file do not change it; any edit of what the migration does does.
//!
//! The canonical writer is therefore part of every recorded checksum: a change to what it
//! writes for an existing migration must come with a way to recognise the old checksums.

use super::operations::Migration;
use super::writer::write_migration;
use sha2::{Digest, Sha256};

/// The checksum of a migration: SHA-256 of its canonical text, as 64 lowercase hex digits.
pub fn checksum(m: &Migration) -> String {
    let digest = Sha256::digest(write_migration(m).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::format::parse_migration;

    const BASE: &str = "[migration]\nid = \"0001_initial\"\napp = \"users\"\n\n[[operations]]\ntype = \"CreateModel\"\nname = \"User\"\ntable = \"users\"\n\n[[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\n";

    fn sum(text: &str) -> String {
        checksum(&parse_migration(text, "t.toml").unwrap())
    }

    #[test]
    fn formatting_does_not_change_it() {
        let base = sum(BASE);
        assert_eq!(base.len(), 64);
        assert_eq!(sum(&BASE.replace('\n', "\r\n")), base, "CRLF");
        assert_eq!(sum(&format!("\u{feff}{BASE}")), base, "BOM");
        assert_eq!(sum(&format!("# a comment\n{BASE}\n\n")), base, "comment");
        let reordered = BASE.replace(
            "id = \"0001_initial\"\napp = \"users\"",
            "app   =   \"users\"\nid = \"0001_initial\"",
        );
        assert_eq!(sum(&reordered), base, "key order and spaces");
        assert_eq!(
            sum(&BASE.replace(
                "primary_key = true\n",
                "primary_key = true\nnullable = false\n"
            )),
            base,
            "an explicit default value"
        );
    }

    #[test]
    fn a_real_edit_changes_it() {
        let base = sum(BASE);
        assert_ne!(sum(&BASE.replace("BigInteger", "Integer")), base);
        assert_ne!(
            sum(&BASE.replace("\"users\"\n\n", "\"accounts\"\n\n")),
            base
        );
    }
}
