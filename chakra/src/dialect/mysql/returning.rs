//! Inserts that return rows on a server without `RETURNING` (MySQL; MariaDB has it): the
//! compiler writes `INSERT … RETURNING "a", "b"` for both flavours, and on MySQL the
//! connection runs the insert alone and reads the rows back by the table's one-column
//! primary key (from the catalog):
//!
//! - when the insert names the key, by the key values it sent;
//! - otherwise (an `AUTO_INCREMENT` key) from `LAST_INSERT_ID()`, the key of the first row:
//!   one multi-row `INSERT …
//!   VALUES` gets consecutive keys (a "simple insert", in every `innodb_autoinc_lock_mode`),
//!   spaced by `@@auto_increment_increment`.
//!
//! The rows read back must be exactly as many as were inserted, else the insert's rows are
//! not returned and the error says why. Upserts (`ON DUPLICATE KEY UPDATE`) and deletes
//! returning rows are refused on MySQL (stage 1).

use chakra_dsl::{Error, Result, Value};

/// An `INSERT … RETURNING` taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertReturning {
    /// The table inserted into.
    pub table: String,
    /// The columns the insert names, in order (empty: a row of defaults).
    pub columns: Vec<String>,
    /// The statement's text before ` RETURNING` (without its last part's tail).
    pub insert_tail: String,
    /// The returned columns, in order.
    pub returning: Vec<String>,
}

/// The quoted names in `text` (`"a", "b"`), in order.
fn quoted_names(text: &str) -> Vec<String> {
    text.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, n)| n.to_owned())
        .collect()
}

/// `parts` (a compiled statement's text pieces) as an insert returning rows, `None` when the
/// statement is something else. Identifiers are validated when compiled (no `"` inside),
/// so the quoted names read back exactly.
pub fn parse(parts: &[String]) -> Result<Option<InsertReturning>> {
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return Ok(None);
    };
    if !first.starts_with("INSERT INTO \"") {
        return Ok(None);
    }
    let Some(at) = last.rfind(" RETURNING \"") else {
        return Ok(None);
    };
    let returning = quoted_names(&last[at..]);
    let head = first.strip_prefix("INSERT INTO \"").unwrap_or(first);
    let table_end = head.find('"').unwrap_or(head.len());
    let table = head[..table_end].to_owned();
    if last[..at].contains(" ON DUPLICATE KEY UPDATE ")
        || first.contains(" ON DUPLICATE KEY UPDATE ")
    {
        return Err(super::sql::not_yet(&format!(
            "an upsert into {table:?} returning rows on MySQL (no RETURNING; MariaDB has it)"
        )));
    }
    let rest = &head[table_end + 1..];
    let columns = match rest.strip_prefix(" (") {
        Some(r) if !r.starts_with(')') => quoted_names(&r[..r.find(')').unwrap_or(r.len())]),
        _ => Vec::new(),
    };
    Ok(Some(InsertReturning {
        table,
        columns,
        insert_tail: last[..at].to_owned(),
        returning,
    }))
}

/// The statement that reads rows back: the returned columns of `table` whose `key` is one
/// of the bound values, in key order.
pub fn read_back_sql(ir: &InsertReturning, key: &str, keys: usize) -> String {
    let cols: Vec<String> = ir.returning.iter().map(|c| format!("\"{c}\"")).collect();
    let marks = vec!["?"; keys.max(1)].join(", ");
    format!(
        "SELECT {} FROM \"{}\" WHERE \"{key}\" IN ({marks}) ORDER BY \"{key}\"",
        cols.join(", "),
        ir.table
    )
}

/// The keys of the inserted rows: the values sent for `key` (`binds` row after row), or
/// `first`, `first + step`, … for `rows` generated ones.
pub fn keys(
    ir: &InsertReturning,
    key: &str,
    binds: &[Value],
    rows: usize,
    first: Option<u64>,
    step: u64,
) -> Result<Vec<Value>> {
    if let Some(i) = ir.columns.iter().position(|c| c == key) {
        let n = ir.columns.len();
        if n == 0 || binds.len() != n * rows {
            return Err(Error::InvalidQuery(format!(
                "insert into {:?}: cannot read its rows back on MySQL (the statement's values \
                 are not one per column)",
                ir.table
            )));
        }
        return Ok(binds.chunks(n).map(|row| row[i].clone()).collect());
    }
    let first = first.filter(|&f| f > 0).ok_or_else(|| {
        Error::InvalidQuery(format!(
            "insert into {:?}: MySQL reported no generated key, so the inserted rows cannot \
             be read back",
            ir.table
        ))
    })?;
    Ok((0..rows as u64)
        .map(|i| Value::I64((first + i * step) as i64))
        .collect())
}

/// The rows read back, checked to be one per inserted row.
pub fn check_count(ir: &InsertReturning, got: usize, inserted: usize) -> Result<()> {
    if got == inserted {
        return Ok(());
    }
    Err(Error::Database {
        message: format!(
            "insert into {:?} on MySQL: {inserted} rows inserted but {got} read back by key \
             (another session changed them, or the keys were not consecutive)",
            ir.table
        ),
        sql: None,
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn parts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_insert_returning_is_taken_apart() {
        let ir = parse(&parts(&[
            "INSERT INTO \"users\" (\"name\", \"age\") VALUES (",
            ", ",
            ") RETURNING \"id\", \"name\", \"age\"",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(ir.table, "users");
        assert_eq!(ir.columns, ["name", "age"]);
        assert_eq!(ir.returning, ["id", "name", "age"]);
        assert_eq!(ir.insert_tail, ")");
        let d = parse(&parts(&["INSERT INTO \"t\" () VALUES () RETURNING \"id\""]))
            .unwrap()
            .unwrap();
        assert!(d.columns.is_empty());
        assert!(parse(&parts(&["SELECT 1"])).unwrap().is_none());
        assert!(parse(&parts(&["INSERT INTO \"t\" (\"a\") VALUES (", ")"]))
            .unwrap()
            .is_none());
        assert!(parse(&parts(&[
            "INSERT INTO \"t\" (\"a\") VALUES (",
            ") ON DUPLICATE KEY UPDATE \"a\" = VALUES(\"a\") RETURNING \"a\""
        ]))
        .is_err());
    }
}
