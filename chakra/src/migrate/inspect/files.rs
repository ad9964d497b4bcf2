//! The initial migration files of an inspected database: the state written by `make`'s own
//! planner and writer (tables ordered so foreign keys resolve, reference cycles split into
//! `CreateModel` then `AddField`), the RunSQL operations for what only SQL says appended to
//! the migration creating their table, and what is left out as a commented block at the end
//! of the first file. Pure.

use super::convert::Inspected;
use crate::migrate::error::{MResult, MigrationError};
use crate::migrate::make::{make, MakeOptions, NewMigration};
use crate::migrate::operations::Operation;
use crate::migrate::writer::write_migration;
use std::fmt::Write;
use std::path::Path;

/// The files for `inspected`, in app `app` under `dir` (which must hold no migrations of
/// that app yet).
pub fn initial_files(inspected: &Inspected, dir: &Path, app: &str) -> MResult<Vec<NewMigration>> {
    let opts = MakeOptions {
        app: Some(app.to_owned()),
        name: Some("initial".into()),
        all_constraints: true,
        ..Default::default()
    };
    let mut made = make(&[], dir, &inspected.state, &opts)?;
    for (table, ops) in &inspected.run_sql {
        let m =
            made.iter_mut()
                .find(|m| {
                    m.migration.operations.iter().any(
                        |op| matches!(op, Operation::CreateModel { table: t, .. } if t == table),
                    )
                })
                .ok_or_else(|| {
                    MigrationError::new(format!("table {table}: no migration creates it"))
                })?;
        m.migration.operations.extend(ops.iter().cloned());
    }
    for m in &mut made {
        m.text = write_migration(&m.migration);
    }
    let Some(first) = made.first_mut() else {
        return Ok(made);
    };
    let mut head = String::from(
        "# Written by `chakra migrate inspect` from an existing database: a starting point to\n\
         # review. `chakra migrate apply --fake-initial` records it as applied once `check`\n\
         # finds the database matches it.\n",
    );
    head.push('\n');
    first.text = head + &first.text;
    if inspected.notes.iter().any(|n| !n.as_run_sql) {
        let mut tail = String::from(
            "\n# Not represented above (each also listed on stderr). Uncomment and adapt what\n\
             # should be part of the history; `chakra migrate check` lists what still differs.\n",
        );
        for n in inspected.notes.iter().filter(|n| !n.as_run_sql) {
            let _ = writeln!(tail, "#\n# - {}", n.what.replace('\n', " "));
            if let Some(sql) = &n.sql {
                tail.push_str("# [[operations]]\n# type = \"RunSQL\"\n# sql = '''\n");
                for line in sql.lines() {
                    let _ = writeln!(tail, "# {line}");
                }
                tail.push_str("# '''\n");
            }
        }
        first.text.push_str(&tail);
        if !first.text.ends_with('\n') {
            first.text.push('\n');
        }
    }
    Ok(made)
}
