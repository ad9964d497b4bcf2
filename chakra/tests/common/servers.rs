//! Throwaway servers for the tests that stop and start one (`server_restart`,
//! `server_restart_mysql`, `replicas`): finding the server programs, and running the
//! PostgreSQL tools as the `postgres` user when the tests run as root (PostgreSQL refuses
//! to run as root).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Whether the tests run as root (then PostgreSQL's tools run as `postgres`).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory of the PostgreSQL server programs that holds `tool` (`initdb`,
/// `pg_basebackup`): `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`.
pub fn pg_bindir(tool: &str) -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join(tool).exists() {
            return dir;
        }
    }
    let missing =
        || format!("PostgreSQL server binaries ({tool}, pg_ctl) are required for this test");
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap_or_else(|e| panic!("{}: {e}", missing()))
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join(tool).exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| panic!("{}", missing()))
}

/// A command running `exe` as the `postgres` user when the tests run as root, else as is.
pub fn as_postgres(exe: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

/// Runs the PostgreSQL tool `tool` of `bin` (see [`as_postgres`]), its output discarded;
/// whether it succeeded.
pub fn try_run(bin: &Path, tool: &str, args: &[&str]) -> bool {
    as_postgres(&bin.join(tool))
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect(tool)
        .success()
}

/// [`try_run`], failing the test when the tool fails.
pub fn run(bin: &Path, tool: &str, args: &[&str]) {
    assert!(try_run(bin, tool, args), "{tool} {args:?} failed");
}

/// Stops the PostgreSQL cluster of `data` at once (`pg_ctl -m immediate stop`), quietly and
/// whatever its state: for `Drop`.
pub fn pg_stop_now(bin: &Path, data: &Path) {
    let _ = as_postgres(&bin.join("pg_ctl"))
        .args([
            "-D",
            data.to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Gives `dir` (and with `recursive` all below it) to the `postgres` user when the tests
/// run as root.
pub fn chown_postgres(dir: &Path, recursive: bool) {
    if is_root() {
        let mut cmd = Command::new("chown");
        if recursive {
            cmd.arg("-R");
        }
        assert!(cmd
            .args(["postgres", dir.to_str().unwrap()])
            .status()
            .unwrap()
            .success());
    }
}

/// The first of `names` found in `PATH`, `/usr/sbin` or `/usr/bin`; `None` when none is.
pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    for name in names {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .ok()
            .filter(|p| !p.as_os_str().is_empty() && p.exists());
        if let Some(p) = found {
            return Some(p);
        }
        for dir in ["/usr/sbin", "/usr/bin"] {
            let p = Path::new(dir).join(name);
            if p.exists() {
                return Some(p);
            }
        }
    }
    None
}
