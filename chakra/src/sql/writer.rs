//! [`SqlWriter`]: accumulates SQL text and bound values while a statement is compiled.

use super::{CompiledQuery, Dialect};
use chakra_dsl::limits::{query_too_deep, MAX_DEPTH};
use chakra_dsl::{ident, Result, Value, ValueType};

/// The buffer a statement is compiled into.
pub struct SqlWriter {
    /// Target dialect.
    pub dialect: Dialect,
    parts: Vec<String>,
    current: String,
    binds: Vec<Value>,
    cacheable: bool,
    depth: usize,
    ddl: bool,
    binds_only: bool,
    refused: Option<String>,
}

impl SqlWriter {
    /// An empty writer.
    pub fn new(dialect: Dialect) -> Self {
        SqlWriter {
            dialect,
            parts: Vec::new(),
            current: String::with_capacity(128),
            binds: Vec::new(),
            cacheable: true,
            depth: 0,
            ddl: false,
            binds_only: false,
            refused: None,
        }
    }

    /// A writer that keeps only the binds: text and identifiers are skipped (not written,
    /// not validated), every value is bound exactly as [`SqlWriter::new`]'s would be, and
    /// every value check the compiler makes still runs. The typed-query cache
    /// ([`super::query_cache`]) fills a cached statement's bind slots with it.
    pub fn binds_only(dialect: Dialect) -> Self {
        SqlWriter {
            dialect,
            parts: Vec::new(),
            current: String::new(),
            binds: Vec::with_capacity(4),
            cacheable: true,
            depth: 0,
            ddl: false,
            binds_only: true,
            refused: None,
        }
    }

    /// True for a [`SqlWriter::binds_only`] writer.
    pub fn is_binds_only(&self) -> bool {
        self.binds_only
    }

    /// A writer for an expression inside DDL (an index's `WHERE`, a `CHECK`): columns are
    /// written unqualified and values as escaped literals, since DDL takes no parameters.
    pub fn ddl(dialect: Dialect) -> Self {
        SqlWriter {
            ddl: true,
            ..SqlWriter::new(dialect)
        }
    }

    /// True for a [`SqlWriter::ddl`] writer.
    pub fn is_ddl(&self) -> bool {
        self.ddl
    }

    /// The DDL text written so far, or why a value could not be written as a literal.
    pub fn ddl_text(self) -> std::result::Result<String, String> {
        match self.refused {
            Some(why) => Err(why),
            None => Ok(self.current),
        }
    }

    /// Appends trusted SQL text (keywords, operators; never user data).
    pub fn sql(&mut self, s: &str) {
        if !self.binds_only {
            self.current.push_str(s);
        }
    }

    /// Appends a validated, quoted identifier.
    pub fn ident(&mut self, name: &str) -> Result<()> {
        if self.binds_only {
            return Ok(());
        }
        ident::validate(name)?;
        self.current.push('"');
        self.current.push_str(name);
        self.current.push('"');
        Ok(())
    }

    /// Appends a bind parameter carrying `v`, converted to the backend's storage form.
    pub fn bind(&mut self, v: Value) {
        let v = super::cache::storage_form(self.dialect, v);
        if self.ddl {
            match literal(self.dialect, &v) {
                Ok(text) => self.current.push_str(&text),
                Err(why) => self.refused = Some(why),
            }
            return;
        }
        if !self.binds_only {
            self.parts.push(std::mem::take(&mut self.current));
        }
        self.binds.push(v);
    }

    /// Enters one level of a nested expression: past [`MAX_DEPTH`] levels the statement is
    /// `InvalidQuery`, so no IR can overflow the stack while it is written.
    pub fn enter(&mut self) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(query_too_deep("the statement's expressions"));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves the level [`SqlWriter::enter`] entered.
    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Marks the statement as not reusable from the prepared-statement cache.
    pub fn uncacheable(&mut self) {
        self.cacheable = false;
    }

    /// The binds written, in order, and whether the statement is cacheable (a
    /// [`SqlWriter::binds_only`] writer's result).
    pub fn into_binds(self) -> (Vec<Value>, bool) {
        (self.binds, self.cacheable)
    }

    /// Finishes the statement.
    pub fn finish(mut self, output: Vec<ValueType>) -> CompiledQuery {
        self.parts.push(self.current);
        CompiledQuery {
            dialect: self.dialect,
            parts: self.parts.into(),
            binds: self.binds,
            cacheable: self.cacheable,
            output: output.into(),
        }
    }
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A value as an SQL literal for DDL (no parameters there): numbers as digits, text quoted
/// with quotes doubled.
fn literal(d: Dialect, v: &Value) -> std::result::Result<String, String> {
    Ok(match v {
        Value::Null(_) => "NULL".into(),
        Value::Bool(b) => d.sql().bool_literal(*b).into(),
        Value::I32(i) => i.to_string(),
        Value::I64(i) => i.to_string(),
        Value::F64(f) if f.is_finite() => format!("{f:?}"),
        Value::Decimal(x) => x.to_string(),
        Value::Text(s) if !s.contains('\0') => quoted(s),
        Value::Date(x) => quoted(&x.to_string()),
        Value::DateTime(x) => quoted(&x.to_rfc3339()),
        Value::Uuid(x) => quoted(&x.to_string()),
        other => return Err(format!("{other:?} cannot be written into DDL as a literal")),
    })
}
