//! Reading the migrations folder: `migrations/<app>/<NNNN>_<name>.toml`.

use super::checksum::checksum;
use super::error::{MResult, MigrationError};
use super::format::parse_migration;
use super::operations::Migration;
use std::path::{Path, PathBuf};

/// A migration read from disk, with where it came from and its checksum.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedMigration {
    /// The parsed migration.
    pub migration: Migration,
    /// The file it was read from.
    pub path: PathBuf,
    /// Its checksum (see [`checksum`]).
    pub checksum: String,
}

impl LoadedMigration {
    /// Parses migration text as if read from `path` (checks the id and app against the path
    /// when it has the usual shape).
    pub fn from_text(text: &str, path: &Path) -> MResult<LoadedMigration> {
        let shown = path.display().to_string();
        let migration = parse_migration(text, &shown)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if !valid_file_stem(stem) {
            return Err(MigrationError::at(
                &shown,
                None,
                "a migration file is named <NNNN>_<name>.toml (four digits, an underscore, letters, digits or underscores)",
            ));
        }
        if migration.id != stem {
            return Err(MigrationError::at(
                &shown,
                None,
                format!(
                    "[migration] id is {:?} but the file is named {stem:?}; they must match",
                    migration.id
                ),
            ));
        }
        let folder = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str());
        if let Some(folder) = folder {
            if folder != migration.app {
                return Err(MigrationError::at(
                    &shown,
                    None,
                    format!("[migration] app is {:?} but the file is in folder {folder:?}; they must match", migration.app),
                ));
            }
        }
        let checksum = checksum(&migration);
        Ok(LoadedMigration {
            migration,
            path: path.to_owned(),
            checksum,
        })
    }
}

/// True for `0001_initial`-like names.
pub fn valid_file_stem(stem: &str) -> bool {
    let b = stem.as_bytes();
    b.len() > 5
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'_'
        && b[5..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Reads every migration under `dir` (one folder per app). A missing folder holds none.
pub fn load_dir(dir: &Path) -> MResult<Vec<LoadedMigration>> {
    let io = |p: &Path, e: std::io::Error| {
        MigrationError::at(p.display().to_string(), None, format!("cannot read: {e}"))
    };
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut apps: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    apps.sort();
    let mut out = Vec::new();
    for app in apps {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&app)
            .map_err(|e| io(&app, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).map_err(|e| io(&f, e))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| MigrationError::at(f.display().to_string(), None, "not UTF-8 text"))?;
            out.push(LoadedMigration::from_text(&text, &f)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_and_ids_must_agree() {
        let text = "[migration]\nid = \"0001_initial\"\napp = \"users\"\n";
        assert!(LoadedMigration::from_text(text, Path::new("m/users/0001_initial.toml")).is_ok());
        let e = LoadedMigration::from_text(text, Path::new("m/users/0002_next.toml")).unwrap_err();
        assert!(e.to_string().contains("must match"), "{e}");
        let e =
            LoadedMigration::from_text(text, Path::new("m/blog/0001_initial.toml")).unwrap_err();
        assert!(e.to_string().contains("folder \"blog\""), "{e}");
        assert!(!valid_file_stem("1_x"));
        assert!(!valid_file_stem("0001-x"));
        assert!(valid_file_stem("0001_initial"));
    }
}
