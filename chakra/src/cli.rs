//! The `chakra` command line: `chakra migrate apply | rollback | status | sql | …` and
//! `chakra generate models`.
//!
//! The `chakra` binary (`cargo install --path chakra`) calls [`run`]; so can an application's
//! own binary, to embed the commands (`#[tokio::main]` binaries await [`run_async`]). Exit codes: 0 success, 1 the command failed (a bad
//! migration file, a database error, a refused rollback), 2 bad usage.

use crate::migrate::{
    plan, Direction, LoadedMigration, Migrator, RollbackTarget, Status, StatusEntry, Step,
};
use crate::{Dialect, Pool};
use chakra_dsl::ModelMeta;
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[path = "cli_generate.rs"]
mod generate_cmd;
#[path = "cli_inspect.rs"]
mod inspect_cmd;
#[path = "cli_make.rs"]
mod make_cmd;
#[path = "cli_databases.rs"]
mod per_database;

pub use generate_cmd::Generate;

/// Chakra ORM's command line.
#[derive(Debug, Parser)]
#[command(
    name = "chakra",
    version,
    about = "Chakra ORM: shared migrations for Rust and Python"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply, roll back and inspect the TOML migrations in `migrations/<app>/`.
    #[command(subcommand)]
    Migrate(Migrate),
    /// Write Rust or Python models from the migrations (`chakra generate models`).
    #[command(subcommand)]
    Generate(Generate),
}

/// Options every migrate subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Database URL (`postgres://…`, `sqlite://app.db`); default: CHAKRA_DATABASE_URL, then
    /// `[database] url` in chakra.toml, then sqlite://chakra.db.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// A database named in chakra.toml (`[databases.NAME]`): its primary's URL, its own
    /// migrations folder (its `migrations`) unless `--dir` says another, and (make, check)
    /// only the models bound to it. Migrations never run on its replicas.
    #[arg(long, value_name = "NAME", conflicts_with = "database_url")]
    pub database: Option<String>,
    /// The migrations folder (one subfolder per app).
    #[arg(long, value_name = "DIR", default_value = "migrations")]
    pub dir: PathBuf,
    /// Tolerate applied migrations whose files are gone (reported, then left out).
    #[arg(long)]
    pub ignore_missing: bool,
}

/// `chakra migrate …`.
#[derive(Debug, Subcommand)]
pub enum Migrate {
    /// Apply pending migrations, in dependency order.
    #[command(
        after_help = "Example:\n  chakra migrate apply --database-url postgres://app@localhost/app\n  chakra migrate apply --to users/0002_profile"
    )]
    Apply {
        /// Stop after this migration (`app/id`, or `id` when unambiguous).
        #[arg(long, value_name = "ID")]
        to: Option<String>,
        /// Seconds to wait for another migrator's lock (PostgreSQL's advisory lock, SQLite's
        /// write lock).
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lock_timeout: u64,
        /// PostgreSQL: how long each DDL statement may wait for a table lock (`5s`, `500ms`,
        /// `2m`) before failing with a retryable error naming the table and who holds it; a
        /// migration's own `lock_timeout` wins.
        #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_ddl_timeout)]
        ddl_lock_timeout: Duration,
        /// PostgreSQL: try a migration that failed on a table lock again, up to N times.
        #[arg(long, value_name = "N", default_value_t = 0)]
        retry_lock: u32,
        /// First record as applied, without running them, the pending migrations the
        /// database already has (as `migrate inspect` writes them), once `check` finds the
        /// database matches them; refused, listing the differences, otherwise.
        #[arg(long)]
        fake_initial: bool,
        /// Options every command takes (`--dir`, `--database-url`, …).
        #[command(flatten)]
        common: Common,
    },
    /// Write the initial migrations of an existing database: its tables, columns, keys,
    /// indexes and checks, as the migration format says them. What it cannot say is listed
    /// on stderr and left as a commented RunSQL block.
    #[command(
        after_help = "Example:\n  chakra migrate inspect --database-url postgres://app@localhost/app --app shop\n  chakra migrate apply --fake-initial --database-url postgres://app@localhost/app\n  chakra migrate inspect --tables orders,customers --out migrations"
    )]
    Inspect {
        /// The database to read (default: as the other commands find it).
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// The app the files belong to (`<out>/<app>/0001_initial.toml`).
        #[arg(long, default_value = "main")]
        app: String,
        /// Only these tables (comma-separated); default: every table.
        #[arg(long, value_name = "A,B")]
        tables: Option<String>,
        /// The migrations folder to write into (`--dir` says the same).
        #[arg(long, alias = "dir", value_name = "DIR", default_value = "migrations")]
        out: PathBuf,
    },
    /// Roll back applied migrations (the last one by default).
    #[command(
        after_help = "Migrations are undone in the reverse of the order they were applied in.\n\nExample:\n  chakra migrate rollback --steps 2\n  chakra migrate rollback --to users/0001_initial\n  chakra migrate rollback --to posts/zero"
    )]
    Rollback {
        /// Roll back the migrations of this migration's app applied after it (it stays
        /// applied); `app/zero` rolls back the whole app. Refused, naming them, when a
        /// migration of another app depends on one of them.
        #[arg(long, value_name = "ID", conflicts_with = "steps")]
        to: Option<String>,
        /// Roll back this many migrations, last applied first.
        #[arg(long, value_name = "N")]
        steps: Option<usize>,
        /// Seconds to wait for another migrator's lock (PostgreSQL's advisory lock, SQLite's
        /// write lock).
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lock_timeout: u64,
        /// PostgreSQL: how long each DDL statement may wait for a table lock (`5s`, `500ms`,
        /// `2m`) before failing with a retryable error naming the table and who holds it; a
        /// migration's own `lock_timeout` wins.
        #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_ddl_timeout)]
        ddl_lock_timeout: Duration,
        /// PostgreSQL: try a migration that failed on a table lock again, up to N times.
        #[arg(long, value_name = "N", default_value_t = 0)]
        retry_lock: u32,
        /// Options every command takes (`--dir`, `--database-url`, …).
        #[command(flatten)]
        common: Common,
    },
    /// Show every migration, applied or pending, per app.
    #[command(after_help = "Example:\n  chakra migrate status --dir migrations")]
    Status {
        /// Options every command takes (`--dir`, `--database-url`, …).
        #[command(flatten)]
        common: Common,
    },
    /// Write the next migrations: the difference between the models and the migrations.
    #[command(
        after_help = "Example:\n  chakra migrate make --app users\n  chakra migrate make --rename users.name=full_name --no-input\n  chakra migrate make --check   # exit 1 when the models and migrations disagree\n\nRun it from your application's binary (which calls chakra::cli::run()) or the Python\npackage: the models are the ones that program defines."
    )]
    Make {
        /// The app new tables go to (default: the only app there is).
        #[arg(long)]
        app: Option<String>,
        /// Name of the migration (`0002_<name>`); default: derived from its operations.
        #[arg(long)]
        name: Option<String>,
        /// A rename, said up front: `table.old=new` for a field, `old_table=new_table`.
        #[arg(long, value_name = "RENAME")]
        rename: Vec<String>,
        /// The value existing rows get for a NOT NULL field added without a database default
        /// (a callable default): `table.field=value` (`field=value` when one table adds it),
        /// e.g. `--default loans.due=now()`. Asked for when missing and there is a terminal.
        #[arg(long, value_name = "FIELD=VALUE")]
        default: Vec<String>,
        /// Never ask: possible renames become remove + add, and are reported.
        #[arg(long)]
        no_input: bool,
        /// Write merge migrations for apps with several leaf migrations.
        #[arg(long, conflicts_with_all = ["rename", "check"])]
        merge: bool,
        /// Write nothing; exit 1 when a migration would be written.
        #[arg(long)]
        check: bool,
        /// The migrations folder (one subfolder per app).
        #[arg(long, value_name = "DIR", default_value = "migrations")]
        dir: PathBuf,
        /// A database named in chakra.toml (`[databases.NAME]`): only the models bound to it,
        /// and its own migrations folder (its `migrations`) unless `--dir` says another.
        #[arg(long, value_name = "NAME")]
        database: Option<String>,
    },
    /// Check that the database matches its migration history (and, from a program with
    /// models, that the models match the migrations); exit 1 listing the differences.
    /// Changes nothing.
    #[command(
        after_help = "Example:\n  chakra migrate check --database-url postgres://app@localhost/app"
    )]
    Check {
        /// Options every command takes (`--dir`, `--database-url`, …).
        #[command(flatten)]
        common: Common,
    },
    /// Flag operations that lose data, fail on tables with rows, or lock a big table.
    #[command(
        after_help = "Example:\n  chakra migrate lint                      # every migration\n  chakra migrate lint users/0002_profile   # only these\n\nRules: DS101 drop table, DS102 drop column, MF101 NOT NULL column without default,\nMF102 column made NOT NULL without default, MF103 unique/check added to existing rows,\nDT101 narrowed type, DT102 lossy type change, PG101 index without CONCURRENTLY, BC101 rename,\nPT101 raw-SQL check constraint (not proven portable).\nExit status 1 when anything is flagged."
    )]
    Lint {
        /// Migrations to lint (`app/id` or `id`); all when none.
        migrations: Vec<String>,
        /// The migrations folder (one subfolder per app).
        #[arg(long, value_name = "DIR", default_value = "migrations")]
        dir: PathBuf,
        /// Also flag what is costly on this database (mysql: MY101, operations that copy
        /// the whole table).
        #[arg(long, value_name = "DIALECT")]
        dialect: Option<String>,
    },
    /// Write schema.rs from the migrations alone (no database): one module per table, one
    /// type per column, for checking models at compile time.
    #[command(
        after_help = "Example:\n  chakra migrate schema --out src/schema.rs\n  chakra migrate schema --out -   # print it"
    )]
    Schema {
        /// Where to write it (`-` prints it).
        #[arg(long, value_name = "FILE", default_value = "src/schema.rs")]
        out: PathBuf,
        /// The migrations folder (one subfolder per app).
        #[arg(long, value_name = "DIR", default_value = "migrations")]
        dir: PathBuf,
    },
    /// Print the SQL that `apply` (or `rollback` with --rollback) would run now.
    #[command(
        after_help = "Example:\n  chakra migrate sql\n  chakra migrate sql --rollback --steps 1\n  chakra migrate sql --dialect sqlite   # for an empty database, no connection"
    )]
    Sql {
        /// Up to this migration (apply) or back to it (rollback).
        #[arg(long, value_name = "ID")]
        to: Option<String>,
        /// Show what `rollback` would run instead of `apply`.
        #[arg(long)]
        rollback: bool,
        /// With --rollback: how many migrations.
        #[arg(long, value_name = "N", requires = "rollback")]
        steps: Option<usize>,
        /// Plan for an empty database of this dialect (postgres, postgresql, pg, sqlite, sqlite3;
        /// mysql, mariadb; any case) without connecting.
        #[arg(long, value_name = "DIALECT", conflicts_with = "rollback")]
        dialect: Option<String>,
        /// Options every command takes (`--dir`, `--database-url`, …).
        #[command(flatten)]
        common: Common,
    },
}

/// The apps the models declare for their tables (`#[chakra(app = …)]`, `__app__`).
fn declared_apps(models: &[ModelMeta]) -> std::collections::BTreeMap<String, String> {
    models
        .iter()
        .filter_map(|m| m.app.clone().map(|a| (m.table.clone(), a)))
        .collect()
}

/// Parses the process arguments and runs the command; returns the exit code. `make` sees
/// every `#[derive(Model)]` of the binary (the model registry).
///
/// Works from plain `fn main()` and from inside a running tokio runtime alike: there it runs
/// the command on a thread of its own (blocking the caller until it ends). An `async fn main`
/// (`#[tokio::main]`) should rather `.await` [`run_async`].
pub fn run() -> ExitCode {
    run_from(std::env::args_os())
}

/// Parses the process arguments and runs the command on the caller's runtime: the entry of
/// a `#[tokio::main]` binary (`Some("migrate") => chakra::cli::run_async().await`).
pub async fn run_async() -> ExitCode {
    run_async_from(std::env::args_os()).await
}

/// [`run_async`] with the arguments given (the first is the program name).
pub async fn run_async_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    ExitCode::from(exit_status_async(args, registered()).await)
}

/// Every `#[derive(Model)]` of the binary.
fn registered() -> Vec<ModelMeta> {
    crate::model::registry::registered_models()
        .into_iter()
        .map(|m| (**m).clone())
        .collect()
}

/// Parses `args` (the first is the program name) and runs the command, with the binary's
/// registered models.
pub fn run_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_with_models(args, registered())
}

/// Parses `args` and runs the command; `make` compares the migrations with `models` (the
/// Python package passes its models here).
pub fn run_with_models<I, T>(args: I, models: Vec<ModelMeta>) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    ExitCode::from(exit_status(args, models))
}

/// Like [`run_with_models`], returning the exit status as a number (0 success, 1 failure or
/// difference, 2 bad usage) for callers that pass it on themselves (the Python console
/// script's `sys.exit`). Outside a runtime it starts one; inside one (a `#[tokio::main]`
/// program) it runs the command on a thread with a runtime of its own and blocks until it
/// ends — [`exit_status_async`] awaits it instead.
pub fn exit_status<I, T>(args: I, models: Vec<ModelMeta>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    exit_status_bound(args, models, &Bindings::new())
}

/// Model name → the named database it is bound to in code (Python's `__database__`, a
/// Rust program's own list): with chakra.toml's `models = [...]` of each `[databases.NAME]`,
/// which models `make` and `check` count for `--database NAME` (an unbound model is on
/// `default`).
pub type Bindings = std::collections::HashMap<String, String>;

/// Like [`exit_status`], with the models' database bindings made in code.
pub fn exit_status_bound<I, T>(args: I, models: Vec<ModelMeta>, bindings: &Bindings) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let (cli, models) = match prepare(args, models, bindings) {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return block_on_own_runtime(cli, models);
    }
    // A runtime cannot be started (nor blocked on) from one of its own threads.
    std::thread::scope(|s| {
        s.spawn(|| block_on_own_runtime(cli, models))
            .join()
            .unwrap_or_else(|_| {
                eprintln!("error: the migrate command's thread panicked");
                1
            })
    })
}

/// Like [`exit_status`], run on the caller's runtime.
pub async fn exit_status_async<I, T>(args: I, models: Vec<ModelMeta>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match prepare(args, models, &Bindings::new()) {
        Ok((cli, models)) => finish(cli, models).await,
        Err(code) => code,
    }
}

/// Starts a runtime and runs the command on it.
fn block_on_own_runtime(cli: Cli, models: Vec<ModelMeta>) -> u8 {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(finish(cli, models)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            1
        }
    }
}

/// The arguments parsed and checked, and the models resolved, before any I/O: `Err` is the
/// exit status of a command that ends here (help, bad usage, a bad models set).
fn prepare<I, T>(
    args: I,
    models: Vec<ModelMeta>,
    bindings: &Bindings,
) -> Result<(Cli, Vec<ModelMeta>), u8>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, dir_given(&m))));
    let (mut cli, dir_given) = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return Err(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let models = match per_database::choose(&mut cli.command, dir_given, models, bindings) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{} {e}", Style::detect().red("error:"));
            return Err(1);
        }
    };
    if let Some(problem) = dir_problem(&cli.command) {
        eprintln!("{} {problem}", Style::detect().red("error:"));
        return Err(2);
    }
    // Foreign keys pointed at tables, and the join tables of many-to-many relations, as the
    // models' own DDL makes them.
    let needs_models = matches!(
        &cli.command,
        Command::Migrate(Migrate::Make { .. } | Migrate::Check { .. })
    );
    if !needs_models || models.is_empty() {
        return Ok((cli, models));
    }
    let arcs: Vec<std::sync::Arc<ModelMeta>> =
        models.into_iter().map(std::sync::Arc::new).collect();
    match chakra_dsl::relations::resolve_schema(&arcs) {
        Ok(m) => Ok((cli, m)),
        Err(e) => {
            eprintln!("error: {e}");
            Err(1)
        }
    }
}

/// Runs a prepared command; its exit status.
async fn finish(cli: Cli, models: Vec<ModelMeta>) -> u8 {
    let out = Style::detect();
    match execute(cli, &models, out).await {
        Ok(Outcome::Done) => 0,
        Ok(Outcome::Differs) => 1,
        Err(e) => {
            eprintln!("{} {e}", out.red("error:"));
            1
        }
    }
}

/// True when the command line said `--dir` itself (not its default).
fn dir_given(m: &clap::ArgMatches) -> bool {
    let Some(("migrate", m)) = m.subcommand() else {
        return false;
    };
    m.subcommand().is_some_and(|(_, sub)| {
        sub.try_get_raw("dir").is_ok_and(|v| v.is_some())
            && sub.value_source("dir") == Some(clap::parser::ValueSource::CommandLine)
    })
}

/// The `--dir` of a command that reads migrations, when it is not a folder: a typo in a
/// deploy script must not pass for "nothing to do". (`make` may create the folder.)
fn dir_problem(cmd: &Command) -> Option<String> {
    let Command::Migrate(m) = cmd else {
        return None; // `generate` names its own folder (--migrations)
    };
    let dir = match m {
        Migrate::Make { .. } | Migrate::Inspect { .. } => return None,
        Migrate::Apply { common, .. }
        | Migrate::Rollback { common, .. }
        | Migrate::Status { common }
        | Migrate::Check { common }
        | Migrate::Sql { common, .. } => &common.dir,
        Migrate::Lint { dir, .. } | Migrate::Schema { dir, .. } => dir,
    };
    if dir.is_dir() {
        None
    } else if dir.exists() {
        Some(format!(
            "the migrations folder {} is not a folder (--dir)",
            dir.display()
        ))
    } else {
        Some(format!(
            "the migrations folder {} does not exist (--dir; the default is ./migrations)",
            dir.display()
        ))
    }
}

/// Says so when `dir` holds no migrations at all (true then). The database commands still
/// go on when the database exists: its history may name migrations whose files are gone.
fn none_in(dir: &std::path::Path, out: Style) -> crate::Result<bool> {
    if crate::migrate::load_dir(dir)?.is_empty() {
        println!(
            "{}",
            out.dim(&format!("no migrations in {}", dir.display()))
        );
        return Ok(true);
    }
    Ok(false)
}

/// The database URL a command uses (`--database-url`, else the default lookup).
fn url_of(common: &Common) -> crate::Result<String> {
    if let Some(u) = &common.database_url {
        return Ok(u.clone());
    }
    match common.database.as_deref() {
        Some(name) => named_database_url(name),
        None => crate::config::default_url(),
    }
}

/// The primary URL of the database `name` declared in `./chakra.toml` (`default`: the
/// default lookup when no table declares it).
fn named_database_url(name: &str) -> crate::Result<String> {
    let text = std::fs::read_to_string("chakra.toml").unwrap_or_default();
    let declared = crate::databases::settings::from_toml(&text)?;
    if let Some((_, c)) = declared.iter().find(|(n, _)| n == name) {
        return Ok(c.url.clone());
    }
    if name == crate::databases::DEFAULT_DATABASE {
        return crate::config::default_url();
    }
    let mut known: Vec<String> = declared.into_iter().map(|(n, _)| n).collect();
    if known.is_empty() {
        known.push(crate::databases::DEFAULT_DATABASE.to_owned());
    }
    Err(crate::Error::UnknownDatabase {
        name: name.to_owned(),
        known: known.join(", "),
    })
}

/// The SQLite file of the URL when it does not exist: the read-only commands then answer
/// for an empty database instead of creating it.
fn absent_sqlite_file(common: &Common) -> crate::Result<Option<PathBuf>> {
    Ok(match crate::config::DatabaseUrl::parse(&url_of(common)?)? {
        crate::config::DatabaseUrl::SqliteFile(p) if !p.exists() => Some(p),
        _ => None,
    })
}

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (exit 0).
    Done,
    /// `make --check` or `check` found a difference, or `lint` flagged something (exit 1).
    Differs,
}

/// Runs a parsed command, printing to stdout (results) and stderr (progress).
pub async fn execute(cli: Cli, models: &[ModelMeta], out: Style) -> crate::Result<Outcome> {
    let cmd = match cli.command {
        Command::Migrate(cmd) => cmd,
        Command::Generate(g) => return generate_cmd::execute(g, out),
    };
    match cmd {
        Migrate::Make {
            app,
            name,
            rename,
            default,
            no_input,
            merge,
            check,
            dir,
            database: _,
        } => {
            let opts = crate::migrate::MakeOptions {
                app,
                name,
                renames: parse_renames(&rename)?,
                declared_apps: declared_apps(models),
                backfill: parse_defaults(&default)?,
                lenient: check,
                all_constraints: false,
            };
            return make_cmd::make(&dir, models, opts, no_input, merge, check, out);
        }
        Migrate::Inspect {
            database_url,
            app,
            tables,
            out: dir,
        } => {
            let url = match database_url {
                Some(u) => u,
                None => crate::config::default_url()?,
            };
            return inspect_cmd::inspect(&url, &app, tables.as_deref(), &dir, out).await;
        }
        Migrate::Check { common } => {
            if let Some(file) = absent_sqlite_file(&common)? {
                return Err(crate::Error::Migration(format!(
                    "the database file {} does not exist: there is nothing to check (apply \
                     creates it)",
                    file.display()
                )));
            }
            let m = migrator(&common, 60, out).await?;
            let mut problems = m.check_database().await?;
            if !models.is_empty() {
                let migrations = crate::migrate::load_dir(&common.dir)?;
                let target = crate::migrate::State::from_models(models)?;
                // Only listing: a new table without a declared app is still listed.
                let opts = crate::migrate::MakeOptions {
                    app: Some("models".into()),
                    declared_apps: declared_apps(models),
                    lenient: true,
                    ..Default::default()
                };
                for nm in crate::migrate::make(&migrations, &common.dir, &target, &opts)? {
                    for op in &nm.migration.operations {
                        problems.push(format!("the models need a migration: {}", op.describe()));
                    }
                }
            }
            if problems.is_empty() {
                println!("{}", out.dim("the database matches the migrations"));
                return Ok(Outcome::Done);
            }
            for p in &problems {
                println!("{} {p}", out.red("drift:"));
            }
            return Ok(Outcome::Differs);
        }
        Migrate::Schema { out: file, dir } => {
            if none_in(&dir, out)? {
                return Ok(Outcome::Done);
            }
            let graph = crate::migrate::Graph::new(crate::migrate::load_dir(&dir)?)?;
            let state = crate::migrate::State::replay(graph.ordered.iter().map(|m| &m.migration))?;
            let (text, notes) = crate::migrate::schema_rs::schema_rs_with_notes(&state);
            for n in &notes {
                eprintln!("{} {n}", out.yellow("note:"));
            }
            if file.as_os_str() == "-" {
                print!("{text}");
            } else {
                std::fs::write(&file, text).map_err(|e| {
                    crate::Error::Config(format!("cannot write {}: {e}", file.display()))
                })?;
                println!("{} {}", out.green("wrote"), file.display());
            }
        }
        Migrate::Lint {
            migrations,
            dir,
            dialect,
        } => {
            if none_in(&dir, out)? {
                return Ok(Outcome::Done);
            }
            let graph = crate::migrate::Graph::new(crate::migrate::load_dir(&dir)?)?;
            let only = migrations
                .iter()
                .map(|m| graph.find(m))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let d = dialect.as_deref().map(str::parse::<Dialect>).transpose()?;
            let findings = crate::migrate::lint::lint_on(&graph, &only, d)?;
            for f in &findings {
                println!(
                    "{}: {} {}: {}",
                    f.path.display(),
                    out.yellow(f.code),
                    f.operation,
                    f.message
                );
            }
            if findings.is_empty() {
                println!("{}", out.dim("nothing to flag"));
                return Ok(Outcome::Done);
            }
            return Ok(Outcome::Differs);
        }
        Migrate::Apply {
            to,
            lock_timeout,
            ddl_lock_timeout,
            retry_lock,
            fake_initial,
            common,
        } => {
            if none_in(&common.dir, out)? && absent_sqlite_file(&common)?.is_some() {
                return Ok(Outcome::Done);
            }
            let mut m = migrator(&common, lock_timeout, out).await?;
            m.ddl_lock_timeout = ddl_lock_timeout;
            m.retry_lock = retry_lock;
            if fake_initial {
                let faked = m.fake_initial(to.as_deref()).await?;
                for key in &faked {
                    println!("{} {key} (already in the database)", out.green("recorded"));
                }
            }
            let done = m.apply(to.as_deref()).await?;
            report(&done, out);
        }
        Migrate::Rollback {
            to,
            steps,
            lock_timeout,
            ddl_lock_timeout,
            retry_lock,
            common,
        } => {
            if none_in(&common.dir, out)? && absent_sqlite_file(&common)?.is_some() {
                return Ok(Outcome::Done);
            }
            let mut m = migrator(&common, lock_timeout, out).await?;
            m.ddl_lock_timeout = ddl_lock_timeout;
            m.retry_lock = retry_lock;
            let done = m.rollback(&rollback_target(to, steps)).await?;
            report(&done, out);
        }
        Migrate::Status { common } => {
            if none_in(&common.dir, out)? && absent_sqlite_file(&common)?.is_some() {
                return Ok(Outcome::Done);
            }
            if let Some(file) = absent_sqlite_file(&common)? {
                let graph = crate::migrate::Graph::new(crate::migrate::load_dir(&common.dir)?)?;
                eprintln!(
                    "{}",
                    out.dim(&format!(
                        "the database file {} does not exist yet: nothing is applied",
                        file.display()
                    ))
                );
                print_status(&plan::status(&graph, &[]), out);
                return Ok(Outcome::Done);
            }
            let m = migrator(&common, 60, out).await?;
            print_status(&m.status().await?, out);
            // Only when the history is readable and consistent: status itself never fails
            // on drift.
            if let Ok(drift) = m.check_database().await {
                if !drift.is_empty() {
                    println!(
                        "{} (the database differs from its migrations in {} way(s))",
                        out.red("drift: run check"),
                        drift.len()
                    );
                }
            }
        }
        Migrate::Sql {
            to,
            rollback,
            steps,
            dialect,
            common,
        } => {
            if none_in(&common.dir, out)? && absent_sqlite_file(&common)?.is_some() {
                return Ok(Outcome::Done);
            }
            let dialect = match (dialect, absent_sqlite_file(&common)?) {
                (None, Some(_)) if rollback => {
                    println!(
                        "{}",
                        out.dim("-- nothing to do (the database file does not exist)")
                    );
                    return Ok(Outcome::Done);
                }
                (None, Some(_)) => Some("sqlite".to_owned()),
                (given, _) => given,
            };
            let (steps, d) = match dialect {
                Some(name) => {
                    let d: Dialect = name.parse()?;
                    let graph = crate::migrate::Graph::new(crate::migrate::load_dir(&common.dir)?)?;
                    (plan::plan_apply(&graph, &[], to.as_deref(), d)?, d)
                }
                None => {
                    let m = migrator(&common, 60, out).await?;
                    let steps = if rollback {
                        m.plan_rollback(&rollback_target(to, steps)).await?
                    } else {
                        m.plan_apply(to.as_deref()).await?
                    };
                    (steps, m.dialect())
                }
            };
            print_sql(&steps, d, out);
        }
    }
    Ok(Outcome::Done)
}

fn parse_ddl_timeout(text: &str) -> Result<Duration, String> {
    crate::migrate::format::parse_lock_timeout(text)
        .ok_or_else(|| format!("{text:?} is not a duration above zero (write 5s, 500ms or 2m)"))
}

/// `--default table.field=value` (or `field=value`, resolved by `make` when one table adds
/// the field): `("", field)` keys stand for "any table".
fn parse_defaults(
    items: &[String],
) -> crate::Result<std::collections::BTreeMap<(String, String), String>> {
    let mut out = std::collections::BTreeMap::new();
    for item in items {
        let (left, value) = item.split_once('=').ok_or_else(|| {
            crate::Error::Config(format!(
                "--default {item:?}: write table.field=value (for example loans.due=now())"
            ))
        })?;
        let (table, field) = left.split_once('.').unwrap_or(("", left));
        if field.is_empty() {
            return Err(crate::Error::Config(format!(
                "--default {item:?}: no field name before ="
            )));
        }
        out.insert((table.to_owned(), field.to_owned()), value.to_owned());
    }
    Ok(out)
}

fn parse_renames(items: &[String]) -> crate::Result<crate::migrate::Renames> {
    let mut r = crate::migrate::Renames::default();
    for item in items {
        let bad = || {
            crate::Error::Config(format!(
                "--rename {item:?}: write table.old_field=new_field or old_table=new_table"
            ))
        };
        let (left, new) = item.split_once('=').ok_or_else(bad)?;
        match left.split_once('.') {
            Some((table, old)) if !table.is_empty() && !old.is_empty() && !new.is_empty() => {
                r.fields
                    .insert((table.to_owned(), old.to_owned()), new.to_owned());
            }
            None if !left.is_empty() && !new.is_empty() => {
                r.tables.insert(left.to_owned(), new.to_owned());
            }
            _ => return Err(bad()),
        }
    }
    Ok(r)
}

fn rollback_target(to: Option<String>, steps: Option<usize>) -> RollbackTarget {
    match (to, steps) {
        (Some(t), _) => RollbackTarget::To(t),
        (None, n) => RollbackTarget::Steps(n.unwrap_or(1)),
    }
}

async fn migrator(common: &Common, lock_timeout: u64, out: Style) -> crate::Result<Migrator> {
    let url = url_of(common)?;
    let migrations: Vec<LoadedMigration> = crate::migrate::load_dir(&common.dir)?;
    // SQLite: each busy wait lasts at most a second, so the migrator says it is waiting
    // for another applier early and stops at --lock-timeout.
    let sqlite = !matches!(
        crate::config::DatabaseUrl::parse(&url)?,
        crate::config::DatabaseUrl::Postgres(_)
    );
    let pool = Pool::connect_for_migrations(
        &url,
        crate::PoolOptions {
            max_size: 2,
            statement_timeout: sqlite.then(|| {
                Duration::from_secs(lock_timeout)
                    .min(Duration::from_secs(1))
                    .max(Duration::from_millis(50))
            }),
            // Migrations bring the database to the models: no stale-models check here
            // (`connect_for_migrations` skips it whatever the URL says).
            ..Default::default()
        },
    )
    .await?;
    let mut m =
        Migrator::new(pool, migrations)?.on_message(move |msg| eprintln!("{}", out.dim(msg)));
    m.lock_timeout = Duration::from_secs(lock_timeout);
    m.ignore_missing = common.ignore_missing;
    Ok(m)
}

fn report(done: &[Step], out: Style) {
    if done.is_empty() {
        println!("{}", out.dim("nothing to do"));
    }
    for s in done {
        let verb = match s.direction {
            Direction::Apply => out.green("applied"),
            Direction::Rollback => out.yellow("rolled back"),
        };
        println!("{verb} {}/{}", s.key.app, s.key.id);
    }
}

fn print_status(entries: &[StatusEntry], out: Style) {
    let mut apps: Vec<&str> = entries.iter().map(|e| e.key.app.as_str()).collect();
    apps.sort();
    apps.dedup();
    for app in apps {
        println!("{}", out.bold(app));
        for e in entries.iter().filter(|e| e.key.app == app) {
            let (mark, note) = match &e.status {
                Status::Applied(at) => (
                    out.green("[x]"),
                    format!("applied {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
                ),
                Status::Pending => (out.yellow("[ ]"), "pending".to_owned()),
                Status::Changed(_) => (
                    out.red("[!]"),
                    "applied, but the file was edited since".to_owned(),
                ),
                Status::Missing(_) => (
                    out.red("[?]"),
                    "applied, but its file is missing".to_owned(),
                ),
                Status::PartlyApplied { done, total } => (
                    out.yellow("[~]"),
                    format!("partly applied: {done} of {total} steps (apply resumes it)"),
                ),
            };
            println!("  {mark} {}  {}", e.key.id, out.dim(&note));
        }
    }
}

fn print_sql(steps: &[Step], d: Dialect, out: Style) {
    if steps.is_empty() {
        println!("{}", out.dim("-- nothing to do"));
    } else if let Some(setup) = d.migrate().script_preamble() {
        println!("-- the session Chakra's connections have: run this first when pasting");
        println!("{setup};");
        println!();
    }
    for s in steps {
        let what = match s.direction {
            Direction::Apply => "records",
            Direction::Rollback => "deletes",
        };
        println!("-- {}/{} ({})", s.key.app, s.key.id, s.path.display());
        if let Some(done) = s.resume_at {
            println!(
                "-- partly applied: {done} of {} steps ran; apply resumes after them",
                s.plan.statements.len()
            );
        }
        let script = s.script(d);
        if s.atomic {
            let commit = script.iter().rposition(|x| x == "COMMIT");
            for (i, stmt) in script.iter().enumerate() {
                if Some(i) == commit {
                    println!("-- then {what} the history row in chakra_migrations");
                }
                println!("{stmt};");
            }
        } else {
            if d.migrate().transactional_ddl() {
                println!(
                    "-- not atomic: each statement is recorded in chakra_migration_progress once it ran"
                );
            } else {
                println!(
                    "-- each DDL statement commits on its own here: each is recorded in \
                     chakra_migration_progress once it ran"
                );
            }
            for stmt in &script {
                println!("{stmt};");
            }
            println!("-- then {what} the history row in chakra_migrations");
        }
        println!();
    }
}

/// Terminal styling: ANSI colours on a terminal, plain text otherwise (or with `NO_COLOR`).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colours when stdout and stderr are terminals and `NO_COLOR` is unset.
    pub fn detect() -> Style {
        Style {
            color: std::env::var_os("NO_COLOR").is_none()
                && std::io::stdout().is_terminal()
                && std::io::stderr().is_terminal(),
        }
    }

    /// Never colours.
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    pub(crate) fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub(crate) fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub(crate) fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
        let c = Cli::try_parse_from(["chakra", "migrate", "rollback", "--steps", "2"]).unwrap();
        assert!(matches!(
            c.command,
            Command::Migrate(Migrate::Rollback { steps: Some(2), .. })
        ));
        assert!(Cli::try_parse_from([
            "chakra", "migrate", "rollback", "--steps", "1", "--to", "x"
        ])
        .is_err());
        let help = Cli::command()
            .find_subcommand_mut("migrate")
            .unwrap()
            .find_subcommand_mut("apply")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(
            help.contains("Example:") && help.contains("--database-url"),
            "{help}"
        );
    }
}
