//! `chakra migrate make`: asks about possible renames (or reports them with `--no-input`),
//! then writes the next migration files.

use super::{Outcome, Style};
use crate::migrate::{
    load_dir, make as plan_make, merge as plan_merge, rename_candidates, MakeOptions, NewMigration,
    RenameCandidate, State,
};
use chakra_dsl::{Error, ModelMeta, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// Runs `make` over the migrations in `dir` and `models`.
pub fn make(
    dir: &Path,
    models: &[ModelMeta],
    mut opts: MakeOptions,
    no_input: bool,
    merge: bool,
    check: bool,
    out: Style,
) -> Result<Outcome> {
    let migrations = load_dir(dir)?;
    if merge {
        let merged = plan_merge(&migrations, dir)?;
        if merged.is_empty() {
            println!(
                "{}",
                out.dim("no app has several leaf migrations: nothing to merge")
            );
        }
        return write_all(&merged, out).map(|_| Outcome::Done);
    }
    if models.is_empty() {
        return Err(Error::Config(
            "no models are registered in this program: run `make` from your application's \
             binary (calling chakra::cli::run()) or from the Python package"
                .into(),
        ));
    }
    let target = State::from_models(models)?;
    let graph = crate::migrate::Graph::new(migrations.clone())?;
    let current = State::replay(graph.ordered.iter().map(|m| &m.migration))?;
    let interactive = !no_input && !check && std::io::stdin().is_terminal();
    let mut declined: Vec<RenameCandidate> = Vec::new();
    loop {
        let candidates = rename_candidates(&current, &target, &opts.renames);
        let Some(c) = candidates.into_iter().find(|c| !declined.contains(c)) else {
            break;
        };
        if interactive && ask(&c.question())? {
            match c {
                RenameCandidate::Table { old, new } => {
                    opts.renames.tables.insert(old, new);
                }
                RenameCandidate::Field { table, old, new } => {
                    opts.renames.fields.insert((table, old), new);
                }
            }
        } else {
            // Not a rename (said so, or nobody to ask): remove + add, and say it.
            if !check {
                eprintln!("{}", out.yellow(&not_a_rename(&c)));
            }
            declined.push(c);
        }
    }
    resolve_defaults(&migrations, &target, &mut opts, interactive)?;
    let made = plan_make(&migrations, dir, &target, &opts)?;
    if check {
        if made.is_empty() {
            println!("{}", out.dim("models and migrations agree"));
            return Ok(Outcome::Done);
        }
        for m in &made {
            println!(
                "{} {} ({} operations)",
                out.red("would write"),
                m.path.display(),
                m.migration.operations.len()
            );
            for op in &m.migration.operations {
                println!("  {}", op.describe());
            }
        }
        return Ok(Outcome::Differs);
    }
    if made.is_empty() {
        println!("{}", out.dim("no changes"));
    }
    write_all(&made, out)?;
    Ok(Outcome::Done)
}

/// Gives `--default field=value` its table, and asks (on a terminal) for the value existing
/// rows get for each NOT NULL field added without a database default that has none yet.
fn resolve_defaults(
    migrations: &[crate::migrate::LoadedMigration],
    target: &State,
    opts: &mut MakeOptions,
    interactive: bool,
) -> Result<()> {
    let wanted = crate::migrate::make::needs_backfill(migrations, target, opts)?;
    let bare: Vec<(String, String)> = opts
        .backfill
        .keys()
        .filter(|(t, _)| t.is_empty())
        .cloned()
        .collect();
    for key in bare {
        let value = opts.backfill.remove(&key).unwrap_or_default();
        let tables: Vec<&String> = wanted
            .iter()
            .filter(|(_, f)| f.name == key.1)
            .map(|(t, _)| t)
            .collect();
        match tables.as_slice() {
            [one] => {
                opts.backfill.insert(((*one).clone(), key.1.clone()), value);
            }
            [] => {
                return Err(Error::Config(format!(
                    "--default {}={value}: no NOT NULL field {:?} without a default is added",
                    key.1, key.1
                )))
            }
            many => {
                return Err(Error::Config(format!(
                    "--default {}={value}: tables {} all add {:?}; write table.field=value",
                    key.1,
                    many.iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    key.1
                )))
            }
        }
    }
    if !interactive {
        return Ok(());
    }
    for (table, field) in crate::migrate::make::needs_backfill(migrations, target, opts)? {
        let ty = crate::migrate::lint::shown_type(&field.ty);
        loop {
            eprint!(
                "{table}.{} ({ty}) is added NOT NULL without a database default, and {table} \
                 may have rows. The value existing rows get (for example now() for a \
                 DateTime; empty to stop): ",
                field.name
            );
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::Config(format!("cannot read the answer: {e}")))?;
            let answer = line.trim();
            if answer.is_empty() {
                return Err(Error::Config(format!(
                    "stopped: no value for existing rows of {table}.{}",
                    field.name
                )));
            }
            match crate::migrate::make::backfill_value(answer, &field) {
                Ok(_) => {
                    opts.backfill
                        .insert((table.clone(), field.name.clone()), answer.to_owned());
                    break;
                }
                Err(why) => eprintln!("{why}"),
            }
        }
    }
    Ok(())
}

fn not_a_rename(c: &RenameCandidate) -> String {
    match c {
        RenameCandidate::Table { old, new } => format!(
            "note: table {old} -> {new} may be a rename; making it delete + create \
             (say --rename {old}={new} to rename)"
        ),
        RenameCandidate::Field { table, old, new } => format!(
            "note: {table}.{old} -> {table}.{new} may be a rename; making it remove + add \
             (say --rename {table}.{old}={new} to rename)"
        ),
    }
}

fn ask(question: &str) -> Result<bool> {
    eprint!("{question} ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::Config(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

fn write_all(made: &[NewMigration], out: Style) -> Result<()> {
    for m in made {
        if m.path.exists() {
            return Err(Error::Config(format!(
                "{} already exists; not overwriting it",
                m.path.display()
            )));
        }
        if let Some(parent) = m.path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&m.path, &m.text)
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", m.path.display())))?;
        println!("{} {}", out.green("wrote"), m.path.display());
        for op in &m.migration.operations {
            println!("  {}", op.describe());
        }
    }
    Ok(())
}
