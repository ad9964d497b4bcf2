//! MySQL's and MariaDB's database URLs: `mysql://user:pass@host:3306/db` (or `mariadb://`),
//! checked by the driver's own parser and handed to it as `mysql://`.

use crate::config::DatabaseUrl;

/// `url` (query parameters removed) as a MySQL/MariaDB database: `None` when it is not
/// such a URL, `Some(Err(reason))` when it is one but malformed.
pub fn parse(url: &str) -> Option<Result<DatabaseUrl, String>> {
    let rest = url
        .strip_prefix("mysql://")
        .or_else(|| url.strip_prefix("mariadb://"))?;
    let check = || -> Result<DatabaseUrl, String> {
        let driver_url = format!("mysql://{rest}");
        let parsed = url::Url::parse(&driver_url).map_err(|e| e.to_string())?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("no host (write mysql://user@host:3306/dbname)".into());
        }
        if parsed.path().trim_start_matches('/').is_empty() {
            return Err("no database name (write mysql://user@host:3306/dbname)".into());
        }
        mysql_async::Opts::from_url(&driver_url).map_err(|e| e.to_string())?;
        Ok(DatabaseUrl::Mysql(driver_url))
    };
    Some(check())
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::config::DatabaseUrl;

    #[test]
    fn both_schemes_reach_the_driver_as_mysql() {
        assert_eq!(
            parse("mariadb://root@127.0.0.1:3306/app").unwrap().unwrap(),
            DatabaseUrl::Mysql("mysql://root@127.0.0.1:3306/app".into())
        );
        assert_eq!(
            parse("mysql://u:p@db/app").unwrap().unwrap(),
            DatabaseUrl::Mysql("mysql://u:p@db/app".into())
        );
        assert!(parse("postgres://x/y").is_none());
        assert!(parse("mysql://").unwrap().unwrap_err().contains("no host"));
        assert!(parse("mysql://h:1/")
            .unwrap()
            .unwrap_err()
            .contains("no database"));
        assert!(parse("mysql://h:notaport/d")
            .unwrap()
            .unwrap_err()
            .contains("invalid port"));
    }
}
