//! Setup shared by the `migrate_*` tests: a folder of migration files, counting rows with one
//! query, the seed migration, the `chakra` command line.
#![allow(dead_code)]

use chakra::dsl::ValueType;
use chakra::Pool;
use std::path::{Path, PathBuf};

/// The example app's first users migration (`migrations/users/0001_initial.toml`).
pub const SEED: &str = include_str!("../../../migrations/users/0001_initial.toml");

/// A new folder under the temporary directory holding `files` (`("users/0001_x.toml",
/// text)`), named after `prefix`, unique per call.
pub fn migration_dir(prefix: &str, files: &[(&str, &str)]) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "chakra_{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    for (name, text) in files {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

/// The one integer a query returns (`SELECT count(*) …`).
pub async fn count(pool: &Pool, sql: &str) -> i64 {
    let q = chakra::migrate::history::raw(pool.dialect(), &[sql], vec![], vec![ValueType::I64]);
    pool.fetch_compiled(&q).await.unwrap()[0][0]
        .as_i64()
        .unwrap()
}

/// `chakra <args…> --dir <dir>` with the binary built for these tests, `NO_COLOR` set.
pub fn chakra_cli(args: &[&str], dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_chakra"));
    c.args(args).arg("--dir").arg(dir).env("NO_COLOR", "1");
    c
}
