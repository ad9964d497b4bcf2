//! The tables a statement reads (its `FROM`, joins, and every subquery's), for the check that
//! a query stays on one database.

use chakra_dsl::ir::walk::{walk_select, VisitMut};
use chakra_dsl::{Select, Source, Statement};
use std::collections::BTreeSet;

struct Collect(BTreeSet<String>);

impl VisitMut for Collect {
    fn source(&mut self, s: &mut Source) {
        if let Source::Table { name, .. } = s {
            self.0.insert(name.clone());
        }
    }
}

/// Every table `select` reads, subqueries included.
pub fn tables_of_select(select: &Select) -> BTreeSet<String> {
    let mut c = Collect(BTreeSet::new());
    walk_select(&mut select.clone(), &mut c);
    c.0
}

/// Every table a read statement reads (empty for writes: a write's own table is its
/// model's).
pub fn tables_of(stmt: &Statement) -> BTreeSet<String> {
    match stmt {
        Statement::Select(s) | Statement::Count(s) | Statement::Exists(s) => tables_of_select(s),
        _ => BTreeSet::new(),
    }
}
