//! The autodetector: the operations that take one schema state (the migrations replayed) to
//! another (the models), in an order that always applies. Pure.
//!
//! Order, after Django's autodetector: confirmed renames of tables, then of fields; removed
//! indexes and constraints; created tables (referenced tables first; a foreign-key cycle is
//! broken by adding the waiting key later with `AddField`); added, altered, removed fields;
//! deleted tables (referencing tables first); added indexes and constraints; the deferred
//! foreign keys. Renames are never guessed: [`rename_candidates`] lists what might be one, and
//! the caller asks (or is told by `--rename`) before passing it in [`Renames`].

use super::error::{MResult, MigrationError};
use super::operations::{ConstraintKind, Operation};
use super::state::{State, TableState};
use chakra_dsl::FieldMeta;
use std::collections::{BTreeMap, BTreeSet};

/// Renames the user confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    /// Old table name → new table name.
    pub tables: BTreeMap<String, String>,
    /// (table, as named in the target, old field name) → new field name.
    pub fields: BTreeMap<(String, String), String>,
}

/// Something that might be a rename; never assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenameCandidate {
    /// A removed table and an added one with the same columns.
    Table {
        /// Table in the migrations.
        old: String,
        /// Table in the models.
        new: String,
    },
    /// In one table, a removed field and an added one of the same definition.
    Field {
        /// The table (its name in the models).
        table: String,
        /// Field in the migrations.
        old: String,
        /// Field in the models.
        new: String,
    },
}

impl RenameCandidate {
    /// The question interactive `make` asks.
    pub fn question(&self) -> String {
        match self {
            RenameCandidate::Table { old, new } => {
                format!("Was table {old} renamed to {new}? [y/N]")
            }
            RenameCandidate::Field { table, old, new } => {
                format!("Was {table}.{old} renamed to {table}.{new}? [y/N]")
            }
        }
    }
}

/// What the diff compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiffOptions {
    /// Compare named indexes and table constraints too. Off when the target comes from
    /// models, which do not declare them yet: those written by hand in migrations stay.
    pub named_indexes_and_constraints: bool,
    /// Compare what models declare (named indexes, lookup-condition checks) even when
    /// `named_indexes_and_constraints` is off: the target comes from models, which own those;
    /// hand-written foreign keys, unique constraints and raw-SQL checks stay.
    pub model_options: bool,
}

impl DiffOptions {
    fn compares_index(&self) -> bool {
        self.named_indexes_and_constraints || self.model_options
    }

    fn compares_constraint(&self, c: &super::operations::ConstraintDef) -> bool {
        self.named_indexes_and_constraints
            || (self.model_options && matches!(c.kind, ConstraintKind::CheckLookup { .. }))
    }
}

/// Fills what a state read from models and one read from migrations write differently: a
/// foreign key's model name (dropped), an empty referenced column (the primary key), and the
/// `index` flag (true exactly when the field has an index of its own, as the DDL builds it).
pub fn normalize(state: &State) -> State {
    let pk = |table: &str| {
        state
            .table(table)
            .and_then(|t| t.fields.iter().find(|f| f.primary_key))
            .map(|f| f.column.clone())
    };
    let mut out = state.clone();
    for t in out.tables.values_mut() {
        for f in &mut t.fields {
            if let Some(r) = &mut f.references {
                r.model.clear();
                if r.column.is_empty() {
                    r.column = pk(&r.table).unwrap_or_default();
                }
            }
        }
        // `index` means "has its own index": foreign keys get one, unique and leading
        // primary-key columns have one already (the same rule as the DDL).
        let indexed: Vec<bool> = t
            .fields
            .iter()
            .map(|f| super::table_sql::field_index(t, f).is_some())
            .collect();
        for (f, on) in t.fields.iter_mut().zip(indexed) {
            f.index = on;
        }
    }
    out
}

fn same_but_name(a: &FieldMeta, b: &FieldMeta) -> bool {
    let mut b = b.clone();
    b.name = a.name.clone();
    b.column = a.column.clone();
    *a == b
}

/// Possible renames between `from` and `to` (after the confirmed `renames`), for the caller to
/// ask about.
pub fn rename_candidates(from: &State, to: &State, renames: &Renames) -> Vec<RenameCandidate> {
    let (from, to) = (normalize(from), normalize(to));
    let mut out = Vec::new();
    let renamed_old: BTreeSet<&String> = renames.tables.keys().collect();
    let renamed_new: BTreeSet<&String> = renames.tables.values().collect();
    let removed: Vec<&TableState> = from
        .tables
        .values()
        .filter(|t| !to.tables.contains_key(&t.table) && !renamed_old.contains(&t.table))
        .collect();
    let added: Vec<&TableState> = to
        .tables
        .values()
        .filter(|t| !from.tables.contains_key(&t.table) && !renamed_new.contains(&t.table))
        .collect();
    for r in &removed {
        for a in &added {
            let cols = |t: &TableState| {
                t.fields
                    .iter()
                    .map(|f| (f.column.clone(), f.ty.clone()))
                    .collect::<Vec<_>>()
            };
            if cols(r) == cols(a) {
                out.push(RenameCandidate::Table {
                    old: r.table.clone(),
                    new: a.table.clone(),
                });
            }
        }
    }
    for t in to.tables.values() {
        let old_name = renames
            .tables
            .iter()
            .find(|(_, new)| *new == &t.table)
            .map(|(old, _)| old.clone())
            .unwrap_or_else(|| t.table.clone());
        let Some(old) = from.tables.get(&old_name) else {
            continue;
        };
        let renamed_from: BTreeSet<&String> = renames
            .fields
            .keys()
            .filter(|(table, _)| table == &t.table)
            .map(|(_, f)| f)
            .collect();
        let renamed_to: BTreeSet<&String> = renames
            .fields
            .iter()
            .filter(|((table, _), _)| table == &t.table)
            .map(|(_, new)| new)
            .collect();
        for gone in old
            .fields
            .iter()
            .filter(|f| t.field(&f.name).is_none() && !renamed_from.contains(&f.name))
        {
            for new in t
                .fields
                .iter()
                .filter(|f| old.field(&f.name).is_none() && !renamed_to.contains(&f.name))
            {
                if same_but_name(gone, new) {
                    out.push(RenameCandidate::Field {
                        table: t.table.clone(),
                        old: gone.name.clone(),
                        new: new.name.clone(),
                    });
                }
            }
        }
    }
    out
}

struct Diff {
    state: State,
    ops: Vec<Operation>,
}

impl Diff {
    fn push(&mut self, op: Operation) -> MResult<()> {
        self.state.apply(&op).map_err(|e| {
            MigrationError::new(format!("the autodetector produced an operation that does not apply ({}); write this migration by hand", e.message))
        })?;
        self.ops.push(op);
        Ok(())
    }
}

/// The operations that take `from` to `to`.
pub fn diff(
    from: &State,
    to: &State,
    renames: &Renames,
    opts: DiffOptions,
) -> MResult<Vec<Operation>> {
    let (mut ops, deferred) = diff_phased(from, to, renames, opts)?;
    ops.extend(deferred);
    Ok(ops)
}

/// [`diff`] in two phases: everything, then the foreign keys that had to wait for a table
/// created later (a cycle). `make` writes the second phase as later migrations, so a
/// cross-app cycle becomes `CreateModel` in one migration and `AddField` in a later one.
pub fn diff_phased(
    from: &State,
    to: &State,
    renames: &Renames,
    opts: DiffOptions,
) -> MResult<(Vec<Operation>, Vec<Operation>)> {
    let to = normalize(to);
    let mut d = Diff {
        state: normalize(from),
        ops: Vec::new(),
    };
    for (old, new) in &renames.tables {
        let new_name = to.table(new).map(|t| t.name.clone());
        d.push(Operation::RenameModel {
            table: old.clone(),
            new_table: new.clone(),
            new_name: new_name.filter(|n| d.state.table(old).is_some_and(|t| &t.name != n)),
        })?;
    }
    for ((table, old), new) in &renames.fields {
        d.push(Operation::RenameField {
            table: table.clone(),
            name: old.clone(),
            new_name: new.clone(),
        })?;
    }
    let kept: Vec<String> = to
        .tables
        .keys()
        .filter(|t| d.state.tables.contains_key(*t))
        .cloned()
        .collect();
    if opts.compares_index() {
        for name in &kept {
            let (old, new) = (d.state.tables[name].clone(), &to.tables[name]);
            for i in old.indexes.iter().filter(|i| !new.indexes.contains(i)) {
                d.push(Operation::RemoveIndex {
                    table: name.clone(),
                    name: i.name.clone(),
                })?;
            }
            for c in old
                .constraints
                .iter()
                .filter(|c| opts.compares_constraint(c) && !new.constraints.contains(c))
            {
                d.push(Operation::RemoveConstraint {
                    table: name.clone(),
                    name: c.name.clone(),
                })?;
            }
        }
    }
    let deferred = create_tables(&mut d, &to, opts)?;
    for name in &kept {
        let new = &to.tables[name];
        for f in &new.fields {
            if d.state.tables[name].field(&f.name).is_none() {
                d.push(Operation::AddField {
                    table: name.clone(),
                    field: f.clone(),
                })?;
            }
        }
        for f in &new.fields {
            let Some(old) = d.state.tables[name].field(&f.name).cloned() else {
                continue;
            };
            if old.column != f.column {
                return Err(MigrationError::new(format!(
                    "{name}.{}: the column changes from {:?} to {:?}; write a RenameField by hand",
                    f.name, old.column, f.column
                )));
            }
            if old != *f {
                d.push(Operation::AlterField {
                    table: name.clone(),
                    field: f.clone(),
                    lossy: false,
                    using: None,
                })?;
            }
        }
        let gone: Vec<String> = d.state.tables[name]
            .fields
            .iter()
            .filter(|f| new.field(&f.name).is_none())
            .map(|f| f.name.clone())
            .collect();
        for g in gone {
            d.push(Operation::RemoveField {
                table: name.clone(),
                name: g,
            })?;
        }
    }
    delete_tables(&mut d, &to)?;
    if opts.compares_index() {
        for name in &kept {
            let new = &to.tables[name];
            for i in &new.indexes {
                if !d.state.tables[name].indexes.contains(i) {
                    d.push(Operation::AddIndex {
                        table: name.clone(),
                        index: i.clone(),
                    })?;
                }
            }
            for c in new
                .constraints
                .iter()
                .filter(|c| opts.compares_constraint(c))
            {
                if !d.state.tables[name].constraints.contains(c) {
                    d.push(Operation::AddConstraint {
                        table: name.clone(),
                        constraint: c.clone(),
                    })?;
                }
            }
        }
    }
    let first = std::mem::take(&mut d.ops);
    for op in deferred {
        d.push(op)?;
    }
    Ok((first, d.ops))
}

/// Tables a table's foreign keys point at (itself excluded).
fn referenced(t: &TableState) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = t
        .fields
        .iter()
        .filter_map(|f| f.references.as_ref().map(|r| r.table.clone()))
        .collect();
    for c in &t.constraints {
        if let ConstraintKind::ForeignKey { table, .. } = &c.kind {
            out.insert(table.clone());
        }
    }
    out.remove(&t.table);
    out
}

fn create_tables(d: &mut Diff, to: &State, opts: DiffOptions) -> MResult<Vec<Operation>> {
    let mut pending: BTreeMap<String, TableState> = to
        .tables
        .iter()
        .filter(|(name, _)| !d.state.tables.contains_key(*name))
        .map(|(n, t)| (n.clone(), t.clone()))
        .collect();
    let mut deferred = Vec::new();
    while !pending.is_empty() {
        let ready = pending
            .values()
            .find(|t| referenced(t).iter().all(|r| !pending.contains_key(r)))
            .map(|t| t.table.clone());
        let name = ready.unwrap_or_else(|| pending.keys().next().expect("non-empty").clone());
        let mut t = pending.remove(&name).expect("pending table");
        let waits = |table: &str| pending.contains_key(table);
        let (now, later): (Vec<FieldMeta>, Vec<FieldMeta>) = t
            .fields
            .drain(..)
            .partition(|f| !f.references.as_ref().is_some_and(|r| waits(&r.table)));
        t.fields = now;
        for f in later {
            deferred.push(Operation::AddField {
                table: name.clone(),
                field: f,
            });
        }
        let (constraints, later_c): (Vec<_>, Vec<_>) = t.constraints.drain(..).partition(
            |c| !matches!(&c.kind, ConstraintKind::ForeignKey { table, .. } if waits(table)),
        );
        for c in later_c {
            deferred.push(Operation::AddConstraint {
                table: name.clone(),
                constraint: c,
            });
        }
        let (indexes, constraints) = if opts.named_indexes_and_constraints {
            (t.indexes, constraints)
        } else if opts.model_options {
            let owned = constraints
                .into_iter()
                .filter(|c| opts.compares_constraint(c))
                .collect();
            (t.indexes, owned)
        } else {
            (Vec::new(), Vec::new())
        };
        d.push(Operation::CreateModel {
            name: t.name,
            table: name,
            fields: t.fields,
            indexes,
            constraints,
        })?;
    }
    Ok(deferred)
}

fn delete_tables(d: &mut Diff, to: &State) -> MResult<()> {
    let mut doomed: BTreeSet<String> = d
        .state
        .tables
        .keys()
        .filter(|t| !to.tables.contains_key(*t))
        .cloned()
        .collect();
    while !doomed.is_empty() {
        let referenced_by_doomed = |name: &str| {
            doomed
                .iter()
                .any(|o| o != name && referenced(&d.state.tables[o]).contains(name))
        };
        let next = doomed.iter().find(|n| !referenced_by_doomed(n)).cloned();
        match next {
            Some(name) => {
                doomed.remove(&name);
                d.push(Operation::DeleteModel { table: name })?;
            }
            None => {
                // A cycle: drop the foreign-key fields among the doomed tables first.
                let name = doomed.iter().next().expect("non-empty").clone();
                let t = d.state.tables[&name].clone();
                let cut: Vec<String> = t
                    .fields
                    .iter()
                    .filter(|f| {
                        f.references
                            .as_ref()
                            .is_some_and(|r| r.table != name && doomed.contains(&r.table))
                    })
                    .map(|f| f.name.clone())
                    .collect();
                if cut.is_empty() || cut.len() == t.fields.len() {
                    return Err(MigrationError::new(format!(
                        "cannot order the deletion of tables {}; write this migration by hand",
                        doomed.iter().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
                for f in cut {
                    d.push(Operation::RemoveField {
                        table: name.clone(),
                        name: f,
                    })?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "autodetect_tests.rs"]
mod tests;
