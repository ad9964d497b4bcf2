//! `chakra generate models`: the models of one language written from the migrations
//! (`crate::generate`), the file written only when its bytes change; `--check` says whether
//! it is stale instead.

use super::{Outcome, Style};
use crate::generate::{generate, Lang, Options, Source};
use clap::Subcommand;
use std::path::PathBuf;

/// `chakra generate …`.
#[derive(Debug, Subcommand)]
pub enum Generate {
    /// Write Rust or Python models from the migrations alone (no database).
    #[command(
        after_help = "Example:\n  chakra generate models --lang rust --out src/models.rs\n  chakra generate models --lang python --out app/models.py\n  chakra generate models --lang python --out app/models.py --check   # exit 1 when stale"
    )]
    Models {
        /// `rust` or `python`.
        #[arg(long, value_name = "LANG")]
        lang: Lang,
        /// The file to write (`-` prints it).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The migrations folder (one subfolder per app).
        #[arg(long, value_name = "DIR", default_value = "migrations")]
        migrations: PathBuf,
        /// Only the tables this app's migrations created.
        #[arg(long, value_name = "NAME")]
        app: Option<String>,
        /// Rust: the module path of the `schema.rs` the models are checked against
        /// (`chakra migrate schema` writes it).
        #[arg(long, value_name = "PATH", default_value = "crate::schema")]
        schema: String,
        /// Rust: leave the `schema = …` checks out.
        #[arg(long)]
        no_schema: bool,
        /// Write nothing; exit 1 naming the file when it is not what generating gives.
        #[arg(long)]
        check: bool,
    },
}

/// Runs `chakra generate …`.
pub fn execute(cmd: Generate, out: Style) -> crate::Result<Outcome> {
    let Generate::Models {
        lang,
        out: file,
        migrations,
        app,
        schema,
        no_schema,
        check,
    } = cmd;
    if !migrations.is_dir() {
        return Err(crate::Error::Config(format!(
            "the migrations folder {} is not a folder (--migrations)",
            migrations.display()
        )));
    }
    let source = Source::from_dir(&migrations)?;
    let to_stdout = file.as_os_str() == "-";
    let existing = if to_stdout {
        None
    } else {
        match std::fs::read_to_string(&file) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(crate::Error::Config(format!(
                    "cannot read {}: {e}",
                    file.display()
                )))
            }
        }
    };
    let opts = Options {
        app,
        schema_path: (!no_schema).then_some(schema),
    };
    let g = generate(&source, lang, &opts, existing.as_deref())?;
    for n in &g.notes {
        eprintln!("{} {n}", out.yellow("note:"));
    }
    if to_stdout {
        print!("{}", g.text);
        return Ok(Outcome::Done);
    }
    let same = existing.as_deref() == Some(g.text.as_str());
    if check {
        if same {
            println!("{} {} is up to date", out.green("ok:"), file.display());
            return Ok(Outcome::Done);
        }
        println!(
            "{} {} is stale: regenerate it with `chakra generate models --lang {} --out {}`",
            out.red("stale:"),
            file.display(),
            match lang {
                Lang::Rust => "rust",
                Lang::Python => "python",
            },
            file.display()
        );
        return Ok(Outcome::Differs);
    }
    if same {
        println!("{} {} (unchanged)", out.dim("kept"), file.display());
        return Ok(Outcome::Done);
    }
    std::fs::write(&file, &g.text)
        .map_err(|e| crate::Error::Config(format!("cannot write {}: {e}", file.display())))?;
    println!("{} {}", out.green("wrote"), file.display());
    Ok(Outcome::Done)
}
