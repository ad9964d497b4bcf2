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
