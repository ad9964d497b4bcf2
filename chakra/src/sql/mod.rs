//! SQL compilers: the IR in, SQL text with bound parameters out, one dialect at a time.
//!
//! - [`cache`] — the statement-shape cache (compiled text of repeated shapes, new binds).
//! - [`writer`] — [`writer::SqlWriter`], the buffer of SQL text pieces and binds.
//! - [`query_cache`] — the typed-query cache (a model query's SELECT text per shape, new binds).
//! - [`query_shape`] — a model query's shape: what decides its SQL text, data left out.
//! - [`compound`] — compound selects (`UNION`/`INTERSECT`/`EXCEPT`) for both dialects.
//! - [`ddl`] — CREATE/DROP TABLE from model metadata.
//! - [`expression`] — expressions (the IR's `Expr` to SQL, beside [`statement`] for whole statements).
//! - [`raw`] — raw SQL text: placeholders found outside quotes, translated, counted.
//! - [`statement`] — SELECT / COUNT / EXISTS / INSERT / UPDATE / DELETE.
//!
//! What differs between dialects lives in their rooms (`crate::dialect`); the compilers here
//! walk the tree and call [`Dialect::sql`]'s hooks.

pub mod cache;
pub mod case_fold;
pub mod compound;
pub mod ddl;
pub mod expression;
pub mod filter_values;
pub mod query_cache;
pub mod query_shape;
pub mod raw;
pub mod statement;
pub mod writer;

use chakra_dsl::{Insert, Result, Statement, Value, ValueType};
use std::sync::Arc;

pub use crate::dialect::Dialect;

/// A compiled statement: SQL text split around its bind parameters, plus the binds.
/// `parts.len() == binds.len() + 1`; bind `i` sits between `parts[i]` and `parts[i + 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledQuery {
    /// The dialect it was compiled for.
    pub dialect: Dialect,
    /// SQL text pieces (shared: a cached statement shape hands out the same pieces to
    /// every execution).
    pub parts: Arc<[String]>,
    /// Bound values, already in the backend's storage form.
    pub binds: Vec<Value>,
    /// False when the SQL text varies with the data (the prepared-statement cache must not
    /// keep it).
    pub cacheable: bool,
    /// How to decode each returned column (shared, as `parts`).
    pub output: Arc<[ValueType]>,
}

impl CompiledQuery {
    /// True when the statement is a plain read: it starts with `SELECT` and takes no row
    /// lock (`FOR UPDATE`, `FOR SHARE`, …). Conservative: text that merely looks like a lock
    /// clause counts as one. What is not a plain read runs on a primary, never a replica.
    pub fn is_plain_select(&self) -> bool {
        let Some(first) = self.parts.first() else {
            return false;
        };
        let head = first.trim_start();
        if !head
            .get(..6)
            .is_some_and(|h| h.eq_ignore_ascii_case("select"))
        {
            return false;
        }
        !self.parts.iter().any(|p| {
            let upper = p.to_ascii_uppercase();
            [
                "FOR UPDATE",
                "FOR SHARE",
                "FOR NO KEY UPDATE",
                "FOR KEY SHARE",
                "INTO ",
            ]
            .iter()
            .any(|k| upper.contains(k))
        })
    }

    /// The SQL text with the dialect's placeholders (`$1` on PostgreSQL, `?` on SQLite).
    pub fn sql(&self) -> String {
        let mut s = String::with_capacity(self.parts.iter().map(|p| p.len() + 3).sum());
        let hooks = self.dialect.sql();
        for (i, part) in self.parts.iter().enumerate() {
            s.push_str(part);
            if i < self.binds.len() {
                hooks.placeholder(&mut s, i + 1);
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

/// A multi-row insert as one single-row statement to run once per row (SQLite, where a
/// statement is a function call and a prepared one is reused): the statement compiled for
/// the first row. Its text serves every row: the insert compiler binds each value of a row
/// in column order and writes nothing that depends on the values, and the binds of the
/// compiled row are checked to be exactly that row's values in storage form. Each row then
/// fills the bind slots with its own values. `None` when the insert is not of that kind
/// (fewer than two rows, no columns) or did not compile to that shape.
pub fn compile_insert_row(ins: &Insert, dialect: Dialect) -> Result<Option<CompiledQuery>> {
    compile_insert_row_returning(ins, &ins.returning, dialect)
}

/// [`compile_insert_row`] with another `RETURNING` list (empty: none).
pub fn compile_insert_row_returning(
    ins: &Insert,
    returning: &[chakra_dsl::ColumnRef],
    dialect: Dialect,
) -> Result<Option<CompiledQuery>> {
    if ins.rows.len() < 2 || ins.columns.is_empty() {
        return Ok(None);
    }
    for (r, row) in ins.rows.iter().enumerate() {
        if row.len() != ins.columns.len() {
            return Err(chakra_dsl::Error::InvalidQuery(format!(
                "insert into {:?}: row {r} has {} values for {} columns",
                ins.table,
                row.len(),
                ins.columns.len()
            )));
        }
    }
    let first = Insert {
        enum_types: ins.enum_types.clone(),
        table: ins.table.clone(),
        columns: ins.columns.clone(),
        rows: vec![ins.rows[0].clone()],
        returning: returning.to_vec(),
    };
    let q = compile(&Statement::Insert(first), dialect)?;
    let same = q.cacheable
        && q.binds.len() == ins.rows[0].len()
        && q.binds
            .iter()
            .zip(&ins.rows[0])
            .all(|(b, v)| *b == cache::storage_form(dialect, v.clone()));
    Ok(same.then_some(q))
}

/// Longest run of bind parameters one statement may carry.
fn max_binds(d: Dialect) -> usize {
    d.sql().max_binds()
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
                        enum_types: ins.enum_types.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use chakra_dsl::{ColumnRef, Expr, ValueType};

    fn rows() -> Vec<Vec<Value>> {
        vec![
            vec![Value::Text("a".into()), Value::Null(ValueType::DateTime)],
            vec![
                Value::Null(ValueType::Text),
                Value::DateTime(chrono::DateTime::UNIX_EPOCH),
            ],
        ]
    }

    #[test]
    fn a_multi_row_insert_compiles_to_one_text_for_every_row() {
        let ins = Insert {
            enum_types: Default::default(),
            table: "t".into(),
            columns: vec!["a".into(), "b".into()],
            rows: rows(),
            returning: vec![ColumnRef::new("t", "id", ValueType::I64)],
        };
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let q = compile_insert_row(&ins, d).unwrap().unwrap();
            // Each row alone compiles to the same text, its values in the bind slots.
            for row in rows() {
                let one = Insert {
                    rows: vec![row.clone()],
                    ..ins.clone()
                };
                let c = compile(&Statement::Insert(one), d).unwrap();
                assert_eq!(c.parts, q.parts, "{d:?}");
                let storage: Vec<Value> =
                    row.into_iter().map(|v| cache::storage_form(d, v)).collect();
                assert_eq!(c.binds, storage, "{d:?}");
            }
            assert!(q.sql().contains("RETURNING"));
            let bare = compile_insert_row_returning(&ins, &[], d).unwrap().unwrap();
            assert!(!bare.sql().contains("RETURNING"));
        }
        let one = Insert {
            rows: vec![rows().remove(0)],
            ..ins.clone()
        };
        assert_eq!(compile_insert_row(&one, Dialect::Sqlite).unwrap(), None);
        let ragged = Insert {
            rows: vec![rows().remove(0), vec![Value::I64(1)]],
            ..ins
        };
        assert!(compile_insert_row(&ragged, Dialect::Sqlite).is_err());
    }

    /// `n + 1 + 1 + …` nested `depth` levels deep in an UPDATE's SET.
    fn chained(depth: usize) -> Statement {
        let mut e = Expr::Column(ColumnRef::new("t", "n", ValueType::I64));
        for _ in 0..depth {
            e = Expr::Arith {
                left: Box::new(e),
                op: chakra_dsl::ArithOp::Add,
                right: Box::new(Expr::Value(Value::I64(1))),
            };
        }
        Statement::Update(chakra_dsl::Update {
            enum_types: Default::default(),
            table: "t".into(),
            sets: vec![("n".into(), e)],
            filter: None,
            returning: Vec::new(),
        })
    }

    #[test]
    fn expressions_past_the_depth_limit_are_refused_not_overflowing() {
        use chakra_dsl::limits::MAX_DEPTH;
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            assert!(compile(&chained(MAX_DEPTH - 1), d).is_ok());
            let e = compile(&chained(2_000), d).unwrap_err();
            assert!(matches!(e, chakra_dsl::Error::InvalidQuery(_)), "{e}");
            assert!(e.to_string().contains("100 levels"), "{e}");
        }
    }
}
