//! The definitions of indexes (columns, uniqueness, condition) and CHECK constraints, compared
//! between the history and the database by `check` and `status`. Pure: the database's side is
//! read by [`super::introspect`].
//!
//! Definitions are compared in the form the database gives them, never as Chakra's own text
//! against the catalog's: on PostgreSQL what the history declares is created on a scratch
//! temporary table and read back with `pg_get_indexdef`/`pg_get_expr`/
//! `pg_get_constraintdef`, exactly as the real objects are ([`scratch_table`](crate::dialect::postgres::introspect::scratch_table)); on SQLite,
//! which keeps the statement text in `sqlite_master`, both sides are reduced by
//! [`normalize_sql`] (identifier quotes, case and spacing do not count; string literals do).

use super::operations::{ConstraintDef, ConstraintKind};
use super::state::TableState;
use std::collections::BTreeMap;

/// The named indexes and CHECK constraints of one table: name → definition (normalized).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Definitions {
    /// Index name → definition (uniqueness, method, columns, condition).
    pub indexes: BTreeMap<String, String>,
    /// CHECK constraint name → expression.
    pub checks: BTreeMap<String, String>,
}

/// Definitions by table name.
pub type TableDefinitions = BTreeMap<String, Definitions>;

/// SQL text reduced to what decides its meaning: identifier quotes (`"a"`, `` `a` ``, `[a]`)
/// dropped, everything outside string literals lower case, runs of spaces made one and spaces
/// next to punctuation dropped. String literals are kept as written.
pub fn normalize_sql(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut pending_space = false;
    let mut i = 0;
    let punct = |c: char| "(),=<>!+-*/|%;".contains(c);
    let push = |out: &mut String, pending: &mut bool, s: &str| {
        if *pending {
            let prev = out.chars().last();
            let next = s.chars().next();
            if prev.is_some_and(|p| !punct(p)) && next.is_some_and(|n| !punct(n)) {
                out.push(' ');
            }
            *pending = false;
        }
        out.push_str(s);
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                let mut lit = String::from('\'');
                i += 1;
                while i < chars.len() {
                    lit.push(chars[i]);
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            lit.push('\'');
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                push(&mut out, &mut pending_space, &lit);
            }
            '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let mut ident = String::new();
                i += 1;
                while i < chars.len() {
                    if chars[i] == close {
                        if close != ']' && chars.get(i + 1) == Some(&close) {
                            ident.push(close);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    ident.push(chars[i]);
                    i += 1;
                }
                push(&mut out, &mut pending_space, &ident.to_lowercase());
            }
            c if c.is_whitespace() => pending_space = !out.is_empty(),
            c => push(
                &mut out,
                &mut pending_space,
                &c.to_lowercase().collect::<String>(),
            ),
        }
        i += 1;
    }
    out
}

/// The named CHECK constraints in normalized `CREATE TABLE` text (SQLite's `sqlite_master`):
/// `constraint <name> check (<expression>)` → name → expression.
pub fn named_checks(normalized: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = normalized;
    while let Some(at) = rest.find("constraint ") {
        rest = &rest[at + "constraint ".len()..];
        let Some(name_end) = rest.find(' ') else {
            break;
        };
        let name = &rest[..name_end];
        let after = &rest[name_end + 1..];
        let Some(body) = after.strip_prefix("check(") else {
            continue;
        };
        if let Some(len) = balanced_prefix(body) {
            out.insert(name.to_owned(), body[..len].to_owned());
            rest = &body[len..];
        }
    }
    out
}

/// The top-level items of a `CREATE TABLE` statement's column list (column definitions and
/// table constraints), as written: split at commas outside parentheses, string literals and
/// quoted identifiers.
pub fn table_items(create_sql: &str) -> Vec<&str> {
    let Some(open) = create_sql.find('(') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, open + 1);
    let mut quote: Option<char> = None;
    for (i, c) in create_sql.char_indices().skip_while(|(i, _)| *i <= open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '[') => quote = Some(']'),
            (None, '(') => depth += 1,
            (None, ')') if depth == 0 => {
                out.push(create_sql[start..i].trim());
                return out;
            }
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(create_sql[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// The named CHECK constraints of a `CREATE TABLE` statement as written: `(name, clause)`.
pub fn named_check_clauses(create_sql: &str) -> Vec<(String, String)> {
    table_items(create_sql)
        .into_iter()
        .filter_map(|item| {
            let checks = named_checks(&normalize_sql(item));
            let (name, _) = checks.into_iter().next()?;
            normalize_sql(item)
                .starts_with("constraint ")
                .then(|| (name, item.to_owned()))
        })
        .collect()
}

/// The length of `s` up to the `)` closing an already open parenthesis, skipping string
/// literals.
fn balanced_prefix(s: &str) -> Option<usize> {
    let mut depth = 1usize;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The CHECK constraints of a table state (raw and lookup ones).
/// The CHECK constraints (raw SQL or lookup conditions) table `t` declares.
pub(crate) fn checks(t: &TableState) -> impl Iterator<Item = &ConstraintDef> {
    t.constraints.iter().filter(|c| {
        matches!(
            c.kind,
            ConstraintKind::Check { .. } | ConstraintKind::CheckLookup { .. }
        )
    })
}

/// Every index or CHECK constraint whose definition differs between the history (`declared`)
/// and the database (`db`), as sentences. Objects missing on one side are reported elsewhere
/// (by name); here only those both have.
pub fn compare(declared: &TableDefinitions, db: &TableDefinitions) -> Vec<String> {
    let mut out = Vec::new();
    for (table, want) in declared {
        let Some(have) = db.get(table) else {
            continue;
        };
        for (kind, w, h) in [
            ("index", &want.indexes, &have.indexes),
            ("CHECK constraint", &want.checks, &have.checks),
        ] {
            for (name, w) in w {
                if let Some(h) = h.get(name) {
                    if h != w {
                        out.push(format!(
                            "{kind} {name} on {table}: the database has {h}, the migrations say {w}"
                        ));
                    }
                }
            }
        }
        for name in want.checks.keys() {
            if !have.checks.contains_key(name) {
                out.push(format!(
                    "CHECK constraint {name} on {table} is missing from the database"
                ));
            }
        }
        for name in have.checks.keys() {
            if !want.checks.contains_key(name) {
                out.push(format!(
                    "CHECK constraint {name} on {table} is in the database but not in the \
                     migrations"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_keeps_literals_and_drops_quotes_case_and_spacing() {
        assert_eq!(
            normalize_sql("CREATE  UNIQUE INDEX \"a\" ON \"T\" (\"x\") WHERE (\"s\" = 'Open ')"),
            "create unique index a on t(x)where(s='Open ')"
        );
        assert_eq!(
            normalize_sql("create unique index a on t ( x ) where ( s='Open ' )"),
            normalize_sql("CREATE UNIQUE INDEX \"a\" ON \"t\" (\"x\") WHERE (\"s\" = 'Open ')")
        );
        assert_ne!(normalize_sql("x = 'a'"), normalize_sql("x = 'A'"));
        assert_eq!(normalize_sql("'it''s' \"q\"\"x\""), "'it''s' q\"x");
    }

    #[test]
    fn named_checks_are_found_in_create_table_text() {
        let sql = normalize_sql(
            "CREATE TABLE \"t\" (\"id\" INTEGER PRIMARY KEY, \"p\" INTEGER NOT NULL, \
             CONSTRAINT \"t_p_ok\" CHECK ((\"p\" BETWEEN 1 AND 5) AND \"p\" <> ')'), \
             CONSTRAINT \"t_u\" UNIQUE (\"p\"), CONSTRAINT \"t_q\" CHECK (p > 0))",
        );
        let checks = named_checks(&sql);
        assert_eq!(
            checks,
            BTreeMap::from([
                (
                    "t_p_ok".to_owned(),
                    "(p between 1 and 5)and p<>')'".to_owned()
                ),
                ("t_q".to_owned(), "p>0".to_owned()),
            ])
        );
    }

    #[test]
    fn check_clauses_are_found_as_written() {
        let sql = "CREATE TABLE \"t\" (\"id\" INTEGER PRIMARY KEY, p INTEGER CHECK (p > 0), \
                   q TEXT DEFAULT 'a,b', CONSTRAINT \"t_p\" CHECK ((p BETWEEN 1 AND 5) OR q = ')'), \
                   CONSTRAINT t_u UNIQUE (p, q), constraint t_q check (length(q) < 9))";
        assert_eq!(
            table_items(sql),
            [
                "\"id\" INTEGER PRIMARY KEY",
                "p INTEGER CHECK (p > 0)",
                "q TEXT DEFAULT 'a,b'",
                "CONSTRAINT \"t_p\" CHECK ((p BETWEEN 1 AND 5) OR q = ')')",
                "CONSTRAINT t_u UNIQUE (p, q)",
                "constraint t_q check (length(q) < 9)",
            ]
        );
        assert_eq!(
            named_check_clauses(sql),
            [
                (
                    "t_p".to_owned(),
                    "CONSTRAINT \"t_p\" CHECK ((p BETWEEN 1 AND 5) OR q = ')')".to_owned()
                ),
                (
                    "t_q".to_owned(),
                    "constraint t_q check (length(q) < 9)".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn only_differences_in_objects_both_have_are_reported() {
        let defs = |i: &[(&str, &str)], c: &[(&str, &str)]| {
            let m = |x: &[(&str, &str)]| {
                x.iter()
                    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                    .collect()
            };
            TableDefinitions::from([(
                "t".to_owned(),
                Definitions {
                    indexes: m(i),
                    checks: m(c),
                },
            )])
        };
        let want = defs(&[("i1", "x"), ("i2", "y")], &[("c1", "p>0")]);
        assert!(compare(&want, &want).is_empty());
        let have = defs(&[("i1", "x where s='a'")], &[("c1", "p>1"), ("c2", "q")]);
        assert_eq!(
            compare(&want, &have),
            [
                "index i1 on t: the database has x where s='a', the migrations say x",
                "CHECK constraint c1 on t: the database has p>1, the migrations say p>0",
                "CHECK constraint c2 on t is in the database but not in the migrations",
            ]
        );
    }
}
