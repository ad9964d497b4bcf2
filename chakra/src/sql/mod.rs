//! SQL compilers: the IR in, SQL text with bound parameters out, one dialect at a time.
//!
//! - [`cache`] — the statement-shape cache (compiled text of repeated shapes, new binds).
//! - [`writer`] — [`writer::SqlWriter`], the buffer of SQL text pieces and binds.
//! - [`ddl`] — CREATE/DROP TABLE from model metadata.
//! - [`expression`] — expressions (the IR's `Expr` to SQL, beside [`statement`] for whole statements).
//! - [`raw`] — raw SQL text: placeholders found outside quotes, translated, counted.
//! - [`statement`] — SELECT / COUNT / EXISTS / INSERT / UPDATE / DELETE.
//! - [`sqlite_values`] — how canonical values are stored on SQLite (text dates, JSON arrays…).

pub mod cache;
pub mod ddl;
pub mod expression;
pub mod json_contains;
pub mod raw;
pub mod sqlite_values;
pub mod statement;
pub mod writer;

use chakra_dsl::{Insert, Result, Statement, Value, ValueType};

/// The SQL dialects Chakra compiles to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL (and compatible engines).
    Postgres,
    /// SQLite 3.35+.
    Sqlite,
}

/// A compiled statement: SQL text split around its bind parameters, plus the binds.
/// `parts.len() == binds.len() + 1`; bind `i` sits between `parts[i]` and `parts[i + 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledQuery {
    /// The dialect it was compiled for.
    pub dialect: Dialect,
    /// SQL text pieces.
    pub parts: Vec<String>,
    /// Bound values, already in the backend's storage form.
    pub binds: Vec<Value>,
    /// False when the SQL text varies with the data (the prepared-statement cache must not
    /// keep it).
    pub cacheable: bool,
    /// How to decode each returned column.
    pub output: Vec<ValueType>,
}

impl CompiledQuery {
    /// The SQL text with the dialect's placeholders (`$1` on PostgreSQL, `?` on SQLite).
    pub fn sql(&self) -> String {
        let mut s = String::with_capacity(self.parts.iter().map(|p| p.len() + 3).sum());
        for (i, part) in self.parts.iter().enumerate() {
            s.push_str(part);
            if i < self.binds.len() {
                match self.dialect {
                    Dialect::Postgres => {
                        s.push('$');
                        s.push_str(&(i + 1).to_string());
                    }
                    Dialect::Sqlite => s.push('?'),
                }
            }
        }
        s
    }
}

/// Compiles a statement for a dialect.
pub fn compile(stmt: &Statement, dialect: Dialect) -> Result<CompiledQuery> {
    let mut w = writer::SqlWriter::new(dialect);
    statement::statement(&mut w, stmt)?;
    Ok(w.finish(stmt.output_types()))
}

/// Longest run of bind parameters one statement may carry.
fn max_binds(d: Dialect) -> usize {
    match d {
        Dialect::Postgres => 65_535,
        Dialect::Sqlite => 32_766,
    }
}

/// Compiles a statement, splitting an insert whose binds would exceed the backend's limit
/// into several statements (which the executor runs in one transaction). Anything else
/// compiles to exactly one statement.
pub fn compile_parts(stmt: &Statement, dialect: Dialect) -> Result<Vec<CompiledQuery>> {
    if let Statement::Upsert(up) = stmt {
        let ins = &up.insert;
        let per = (max_binds(dialect) / ins.columns.len().max(1)).max(1);
        if ins.rows.len() > per {
            return ins
                .rows
                .chunks(per)
                .map(|rows| {
                    let mut part = up.clone();
                    part.insert.rows = rows.to_vec();
                    compile(&Statement::Upsert(part), dialect)
                })
                .collect();
        }
    }
    if let Statement::Insert(ins) = stmt {
        let per = (max_binds(dialect) / ins.columns.len().max(1)).max(1);
        if ins.rows.len() > per {
            return ins
                .rows
                .chunks(per)
                .map(|rows| {
                    let part = Insert {
                        table: ins.table.clone(),
                        columns: ins.columns.clone(),
                        rows: rows.to_vec(),
                        returning: ins.returning.clone(),
                    };
                    compile(&Statement::Insert(part), dialect)
                })
                .collect();
        }
    }
    Ok(vec![compile(stmt, dialect)?])
}
