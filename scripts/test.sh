#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust tests on SQLite, PostgreSQL and MariaDB, and the
# Python package's checks and tests when present. Installs what it needs itself.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
phase_start=$start
# Prints how long the phase that just ended took (the CI log shows where the time goes).
phase() {
  local now
  now=$(date +%s)
  echo "   ($(( now - phase_start ))s)"
  phase_start=$now
  echo "== $1"
}
# A clean clone gains nothing from incremental compilation; it only costs time and disk.
if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL=0
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "FATAL: cargo not found; install Rust (https://rustup.rs)." >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# shellcheck source=scripts/pg.sh
source scripts/pg.sh
chakra_ensure_pg
# shellcheck source=scripts/pgbouncer.sh
source scripts/pgbouncer.sh
chakra_ensure_pgbouncer
# shellcheck source=scripts/mariadb.sh
source scripts/mariadb.sh
chakra_ensure_mariadb
# shellcheck source=scripts/replica.sh
source scripts/replica.sh
# The Python extension links the system's libsqlite3 (libsqlite3-dev to build).
# shellcheck source=scripts/sqlite_dev.sh
source scripts/sqlite_dev.sh
chakra_ensure_sqlite_dev
# Every server this run started is stopped on exit (each script's trap would replace the
# one before it).
schema_pid=""
schema_log=""
# The background schema_check_make.sh run (below), when this run ends before it: its process
# group is stopped and its log shown.
stop_schema_check() {
  if [ -n "$schema_pid" ] && kill -0 "$schema_pid" 2>/dev/null; then
    kill -- -"$schema_pid" 2>/dev/null || true
    wait "$schema_pid" 2>/dev/null || true
    echo "== scripts/schema_check_make.sh stopped unfinished; its output so far:" >&2
    cat "$schema_log" >&2 || true
  fi
  if [ -n "$schema_log" ]; then rm -f "$schema_log"; fi
}
trap 'stop_schema_check; chakra_stop_replica; chakra_stop_pgbouncer; chakra_stop_throwaway_pg; chakra_stop_throwaway_mariadb' EXIT
chakra_ensure_replica

phase "cargo fmt --check"
cargo fmt --all --check
phase "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
phase "cargo doc (missing docs and broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude chakra-python --no-deps --quiet
phase "cargo test"
# cargo-nextest (on this kind of machine) runs the tests of every binary side by side, so the
# trybuild compile-fail run overlaps the database tests instead of holding them up; the
# doctests run with cargo test. Without nextest, plain cargo test runs everything.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --test-threads 4 \
    --status-level fail --final-status-level slow --hide-progress-bar
  cargo test --workspace --doc --quiet
else
  cargo test --workspace --quiet
fi

phase "make with the compile-time schema check on (scripts/schema_check_make.sh), in the background"
# A new application crate built against this checkout, in the workspace's target folder so
# the dependencies already built are reused. It is CPU and cargo while the Python tests beside
# it mostly wait on the databases, so it runs in the background (its own process group, for
# the exit trap) and its output and status are checked once the Python phase is done. Cargo's
# lock on the target folder keeps its builds and the Python phase's apart.
schema_log="$(mktemp /tmp/chakra_schema_check_make.XXXXXX)"
CARGO_TARGET_DIR="$PWD/target" setsid bash -c \
  's=$(date +%s); rc=0; bash scripts/schema_check_make.sh || rc=$?
   echo "   (scripts/schema_check_make.sh: $(( $(date +%s) - s ))s, exit status $rc)"; exit "$rc"' \
  >"$schema_log" 2>&1 &
schema_pid=$!

if [ -f python-ext/scripts/test.sh ]; then
  phase "Python package"
  bash python-ext/scripts/test.sh
fi

phase "make with the compile-time schema check on: the background run's output"
schema_rc=0
wait "$schema_pid" || schema_rc=$?
schema_pid=""
cat "$schema_log"
if [ "$schema_rc" -ne 0 ]; then
  echo "FAILED: scripts/schema_check_make.sh (exit status $schema_rc)" >&2
  exit "$schema_rc"
fi

phase "distribution (abi3 wheel in a fresh virtualenv without Rust; cargo package)"
bash scripts/wheel_check.sh

phase "docs site (mkdocs build --strict)"
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet

phase "done"
echo "== all tests passed in $(( $(date +%s) - start ))s"
