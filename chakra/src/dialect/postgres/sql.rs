//! [`Postgres`]: PostgreSQL's SQL hooks.

use crate::dialect::SqlHooks;

/// PostgreSQL (and compatible engines; the unit type its hooks are implemented on).
#[derive(Debug, Clone, Copy)]
pub struct Postgres;

impl SqlHooks for Postgres {
    fn title(&self) -> &'static str {
        "PostgreSQL"
    }

    /// `$1`, `$2`, …
    fn placeholder(&self, out: &mut String, n: usize) {
        use std::fmt::Write;
        let _ = write!(out, "${n}");
    }

    fn max_binds(&self) -> usize {
        65_535
    }
}
