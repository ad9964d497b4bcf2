//! [`Dialect`]: the SQL dialects Chakra compiles to, and their names, parsed in one place for
//! every door (the CLI's `--dialect`, the Python door's `qs.sql("…")` and
//! `create_table_sql`).

use chakra_dsl::Error;
use std::fmt;
use std::str::FromStr;

/// The SQL dialects Chakra compiles to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL (and compatible engines).
    Postgres,
    /// SQLite 3.35+.
    Sqlite,
    /// MySQL 8 and MariaDB 10.11+, two flavours of one backend: the flavour and version are
    /// detected at connect (`dialect::mysql::server`).
    Mysql,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql];

    /// The dialect's canonical name (`postgres`, `sqlite`): [`FromStr`] reads it back.
    pub fn name(self) -> &'static str {
        self.spellings()[0]
    }

    /// Every spelling [`FromStr`] accepts for the dialect (case-insensitive): its name, its
    /// URL schemes and common short forms; the first is [`Dialect::name`].
    pub fn spellings(self) -> &'static [&'static str] {
        match self {
            Dialect::Postgres => &["postgres", "postgresql", "pg"],
            Dialect::Sqlite => &["sqlite", "sqlite3"],
            Dialect::Mysql => &["mysql", "mariadb"],
        }
    }

    /// Every accepted spelling, comma-separated (for error messages).
    pub fn accepted() -> String {
        Dialect::ALL
            .iter()
            .flat_map(|d| d.spellings().iter().copied())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FromStr for Dialect {
    type Err = Error;

    /// A dialect by any of its [`spellings`](Dialect::spellings), ignoring case and
    /// surrounding blanks; anything else is a `Config` error naming the text and listing the
    /// accepted spellings.
    fn from_str(s: &str) -> Result<Self, Error> {
        let word = s.trim().to_ascii_lowercase();
        Dialect::ALL
            .into_iter()
            .find(|d| d.spellings().contains(&word.as_str()))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown dialect {s:?}; accepted: {}",
                    Dialect::accepted()
                ))
            })
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn every_name_and_spelling_reads_back_and_case_is_ignored() {
        for d in Dialect::ALL {
            assert_eq!(d.name().parse::<Dialect>().unwrap(), d);
            assert_eq!(d.to_string(), d.name());
            for s in d.spellings() {
                assert_eq!(s.parse::<Dialect>().unwrap(), d, "{s}");
                assert_eq!(s.to_uppercase().parse::<Dialect>().unwrap(), d, "{s}");
            }
        }
        assert_eq!(
            " PostgreSQL ".parse::<Dialect>().unwrap(),
            Dialect::Postgres
        );
        assert_eq!("pg".parse::<Dialect>().unwrap(), Dialect::Postgres);
        assert_eq!("Sqlite3".parse::<Dialect>().unwrap(), Dialect::Sqlite);
        assert_eq!("MariaDB".parse::<Dialect>().unwrap(), Dialect::Mysql);
    }

    #[test]
    fn an_unknown_name_is_named_with_the_accepted_ones() {
        for bad in ["mysql8", "", "postgres://x", "sqlite4"] {
            let e = bad.parse::<Dialect>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
            assert!(
                e.contains("postgres, postgresql, pg, sqlite, sqlite3, mysql, mariadb"),
                "{e}"
            );
        }
    }
}
