//! The server a MySQL-protocol connection reached: its flavour (MySQL or MariaDB) and
//! version, read with `SELECT VERSION()` when the connection opens, and what follows from
//! them (whether `INSERT … RETURNING` exists).

/// The two flavours of the MySQL protocol Chakra speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// Oracle's MySQL 8 or later: no `RETURNING`.
    Mysql,
    /// MariaDB 10.11 or later: `INSERT … RETURNING` and `DELETE … RETURNING`.
    Mariadb,
}

impl Flavour {
    /// `mysql` or `mariadb` (any case), as the URL parameter `flavour` writes it.
    pub fn parse(text: &str) -> Option<Flavour> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mysql" => Some(Flavour::Mysql),
            "mariadb" => Some(Flavour::Mariadb),
            _ => None,
        }
    }

    /// The flavour's name in messages (`MySQL`, `MariaDB`).
    pub fn title(self) -> &'static str {
        match self {
            Flavour::Mysql => "MySQL",
            Flavour::Mariadb => "MariaDB",
        }
    }
}

/// What a connection knows about its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerInfo {
    /// MySQL or MariaDB (detected, or forced by `PoolOptions::mysql_flavour`).
    pub flavour: Flavour,
    /// The version as (major, minor, patch).
    pub version: (u16, u16, u16),
}

impl ServerInfo {
    /// Reads `SELECT VERSION()`'s text (`8.0.36`, `10.11.6-MariaDB-0+deb12u1`).
    pub fn from_version(text: &str) -> ServerInfo {
        let flavour = if text.to_ascii_lowercase().contains("mariadb") {
            Flavour::Mariadb
        } else {
            Flavour::Mysql
        };
        // A MariaDB behind a replication-compatible prefix (`5.5.5-10.11.6-MariaDB`).
        let numbers = text.strip_prefix("5.5.5-").unwrap_or(text);
        let mut parts = numbers
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u16>().unwrap_or(0));
        let version = (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        );
        ServerInfo { flavour, version }
    }

    /// Whether `INSERT … RETURNING` exists (MariaDB 10.5+; MySQL has none, and Chakra reads
    /// the generated keys with `LAST_INSERT_ID()`).
    pub fn returning(&self) -> bool {
        self.flavour == Flavour::Mariadb && self.version >= (10, 5, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Flavour, ServerInfo};

    #[test]
    fn flavour_and_version_from_the_version_text() {
        let m = ServerInfo::from_version("10.11.19-MariaDB-0+deb12u1");
        assert_eq!(m.flavour, Flavour::Mariadb);
        assert_eq!(m.version, (10, 11, 19));
        assert!(m.returning());
        let o = ServerInfo::from_version("8.0.36");
        assert_eq!((o.flavour, o.version), (Flavour::Mysql, (8, 0, 36)));
        assert!(!o.returning());
        let p = ServerInfo::from_version("5.5.5-10.6.2-MariaDB");
        assert_eq!((p.flavour, p.version), (Flavour::Mariadb, (10, 6, 2)));
    }
}
