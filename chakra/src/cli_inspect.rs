//! `chakra migrate inspect`: reads an existing database and writes its initial migration
//! files (`crate::migrate::inspect`), listing on stderr what they do not represent.

use super::{Outcome, Style};
use crate::migrate::inspect::{initial_files, read_catalog, to_state, verify};
use crate::Pool;
use chakra_dsl::{Error, Result};
use std::path::Path;

/// Reads the database at `url` and writes `<out>/<app>/0001_initial.toml` (and a second
/// file when reference cycles need one).
pub async fn inspect(
    url: &str,
    app: &str,
    tables: Option<&str>,
    out_dir: &Path,
    style: Style,
) -> Result<Outcome> {
    let app_dir = out_dir.join(app);
    let existing = crate::migrate::load_dir(out_dir)
        .map(|ms| ms.iter().any(|m| m.migration.app == app))
        .unwrap_or(false);
    if existing {
        return Err(Error::Config(format!(
            "{} already holds migrations of app {app}: inspect writes an app's first migrations \
             (choose another --app or --out)",
            app_dir.display()
        )));
    }
    let only: Option<Vec<String>> = tables.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    if let crate::config::DatabaseUrl::SqliteFile(p) = crate::config::DatabaseUrl::parse(url)? {
        if !p.exists() {
            return Err(Error::Config(format!(
                "the database file {} does not exist: there is nothing to inspect",
                p.display()
            )));
        }
    }
    let pool = Pool::connect_for_migrations(
        url,
        crate::PoolOptions {
            max_size: 1,
            ..Default::default()
        },
    )
    .await?;
    let mut conn = pool.acquire().await?;
    let catalog = read_catalog(&mut conn).await?;
    if let Some(only) = &only {
        for t in only {
            if !catalog.tables.contains_key(t) {
                return Err(Error::Config(format!(
                    "--tables names {t:?}, which the database does not have (it has: {})",
                    catalog
                        .tables
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    let mut inspected = to_state(&catalog, conn.dialect(), only.as_deref());
    if inspected.state.tables.is_empty() {
        for n in &inspected.notes {
            eprintln!("{} {}", style.yellow("not represented:"), n.what);
        }
        return Err(Error::Config(
            "no table of the database can be written as a migration".into(),
        ));
    }
    let remaining = verify::settle(&mut conn, &catalog, &mut inspected).await?;
    drop(conn);
    let files = initial_files(&inspected, out_dir, app)?;
    std::fs::create_dir_all(&app_dir)
        .map_err(|e| Error::Config(format!("cannot create {}: {e}", app_dir.display())))?;
    for f in &files {
        std::fs::write(&f.path, &f.text)
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", f.path.display())))?;
        println!("{} {}", style.green("wrote"), f.path.display());
    }
    for n in &inspected.notes {
        let label = if n.as_run_sql {
            "as SQL:"
        } else {
            "not represented:"
        };
        eprintln!("{} {}", style.yellow(label), n.what);
    }
    for r in &remaining {
        eprintln!("{} {r}", style.yellow("differs:"));
    }
    if inspected.notes.iter().any(|n| !n.as_run_sql) || !remaining.is_empty() {
        eprintln!(
            "{}",
            style.dim(
                "review the files: `chakra migrate check` lists what still differs, and \
                 `apply --fake-initial` refuses until nothing does"
            )
        );
    }
    Ok(Outcome::Done)
}
