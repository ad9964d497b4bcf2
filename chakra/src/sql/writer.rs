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
        }
    }

    /// Appends trusted SQL text (keywords, operators; never user data).
    pub fn sql(&mut self, s: &str) {
        self.current.push_str(s);
    }

    /// Appends a validated, quoted identifier.
    pub fn ident(&mut self, name: &str) -> Result<()> {
        ident::validate(name)?;
        self.current.push('"');
        self.current.push_str(name);
        self.current.push('"');
        Ok(())
    }

    /// Appends a bind parameter carrying `v`, converted to the backend's storage form.
    pub fn bind(&mut self, v: Value) {
        let v = super::cache::storage_form(self.dialect, v);
        self.parts.push(std::mem::take(&mut self.current));
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
