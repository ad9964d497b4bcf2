//! Table locks a migration waits for: the tables its statements lock, and the sessions
//! holding locks on them (for the `lock_timeout` error; read from the catalog in
//! `dialect/postgres/migrate_lock.rs`).

use crate::exec::Conn;
use chakra_dsl::Result;

/// The tables DDL statements name (the quoted identifier after `TABLE`, `ON`, `REFERENCES`,
/// `INTO`, `UPDATE`, `FROM`, `JOIN`, `EXISTS`), in order of first mention, without repeats.
pub fn tables_in(statements: &[String]) -> Vec<String> {
    const AFTER: &[&str] = &[
        "TABLE",
        "ON",
        "REFERENCES",
        "INTO",
        "UPDATE",
        "FROM",
        "JOIN",
        "EXISTS",
        "ONLY",
    ];
    let mut out: Vec<String> = Vec::new();
    for sql in statements {
        let chars: Vec<char> = sql.chars().collect();
        let mut word = String::new();
        let mut last_word = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '"' {
                let mut name = String::new();
                i += 1;
                while i < chars.len() {
                    if chars[i] == '"' {
                        if chars.get(i + 1) == Some(&'"') {
                            name.push('"');
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    name.push(chars[i]);
                    i += 1;
                }
                if AFTER.contains(&last_word.to_ascii_uppercase().as_str()) && !out.contains(&name)
                {
                    out.push(name);
                }
                last_word.clear();
            } else if c == '\'' {
                // Skip a literal.
                i += 1;
                while i < chars.len() && !(chars[i] == '\'' && chars.get(i + 1) != Some(&'\'')) {
                    i += if chars[i] == '\'' { 2 } else { 1 };
                }
                last_word.clear();
            } else if c.is_alphanumeric() || c == '_' {
                word.push(c);
            } else if !word.is_empty() {
                last_word = std::mem::take(&mut word);
            }
            i += 1;
        }
    }
    out
}

/// `(table, "pid (application, state: query)")` for every other session holding a granted
/// lock on one of `tables`, where the dialect can tell (PostgreSQL); empty elsewhere.
pub async fn holders(conn: &mut Conn, tables: &[String]) -> Result<Vec<(String, String)>> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    crate::dialect::migrate::table_lock_holders(conn, tables).await
}

#[cfg(test)]
mod tests {
    use super::tables_in;

    #[test]
    fn tables_named_by_ddl() {
        let s = |x: &str| x.to_owned();
        assert_eq!(
            tables_in(&[
                s("ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT DEFAULT 'ON \"x\"'"),
                s("CREATE INDEX \"i\" ON \"posts\" (\"author_id\")"),
                s("CREATE TABLE \"c\" (\"u\" BIGINT REFERENCES \"users\" (\"id\"))"),
                s("DROP TABLE IF EXISTS \"we\"\"ird\""),
            ]),
            ["users", "posts", "c", "we\"ird"]
        );
    }
}
