#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust tests on SQLite and PostgreSQL, and the
# Python package's checks and tests when present. Installs what it needs itself.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

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

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo doc (missing docs and broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude chakra-python --no-deps --quiet
echo "== cargo test"
cargo test --workspace --quiet

if [ -f python-ext/scripts/test.sh ]; then
  echo "== Python package"
  bash python-ext/scripts/test.sh
fi

echo "== docs site (mkdocs build --strict)"
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet

echo "== all tests passed in $(( $(date +%s) - start ))s"
