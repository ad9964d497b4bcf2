//! PostgreSQL table locks a migration waits for: the tables its statements lock, and the
//! sessions holding locks on them (for the `lock_timeout` error).

use super::history::raw;
use crate::exec::Conn;
use crate::sql::Dialect;
use chakra_dsl::{Result, Value, ValueType};

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
/// lock on one of `tables` (in the current schema). PostgreSQL only.
pub async fn holders(conn: &mut Conn, tables: &[String]) -> Result<Vec<(String, String)>> {
    if tables.is_empty() || conn.dialect() != Dialect::Postgres {
        return Ok(Vec::new());
    }
    let head = "SELECT DISTINCT c.relname::text, a.pid::text || ' (' || \
        coalesce(nullif(a.application_name, ''), 'no name') || ', ' || coalesce(a.state, '?') || \
        ': ' || left(coalesce(a.query, ''), 80) || ')' \
        FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
        JOIN pg_stat_activity a ON a.pid = l.pid \
        WHERE l.granted AND l.pid <> pg_backend_pid() \
        AND c.relnamespace = current_schema()::regnamespace AND c.relname IN (";
    let mut parts = vec![head.to_owned()];
    for _ in 1..tables.len() {
        parts.push(", ".to_owned());
    }
    parts.push(") ORDER BY 1, 2".to_owned());
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let q = raw(
        Dialect::Postgres,
        &parts,
        tables.iter().map(|t| Value::Text(t.clone())).collect(),
        vec![ValueType::Text, ValueType::Text],
    );
    Ok(conn
        .fetch(&q)
        .await?
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_owned(),
                r[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
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
