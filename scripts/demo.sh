#!/usr/bin/env bash
# Sets everything up and runs the demo on the embedded default database (a SQLite file,
# no server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "FATAL: cargo not found; install Rust (https://rustup.rs)." >&2
  exit 1
fi
export CHAKRA_DATABASE_URL="${CHAKRA_DATABASE_URL:-sqlite://target/demo.db}"
mkdir -p target
rm -f target/demo.db target/demo.db-wal target/demo.db-shm
cargo run --quiet -p chakra --example demo
