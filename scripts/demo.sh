#!/usr/bin/env bash
# Sets everything up and runs the demo on the embedded default database (a SQLite file, no
# server needed): the seed's Rust examples write users, then Python reads and changes the
# same rows through the same core, then the seed's Python examples run on their own file.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "FATAL: cargo not found; install Rust (https://rustup.rs)." >&2
  exit 1
fi
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
mkdir -p target
db="$PWD/target/demo.db"
rm -f "$db" "$db-wal" "$db-shm" target/demo_py.db*
export CHAKRA_DATABASE_URL="sqlite://$db"

echo "== Rust (chakra/examples/demo.rs)"
cargo run --quiet -p chakra --example demo

echo "== Python setup (.venv with the chakra package)"
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "maturin>=1.9.4,<2"
(cd python-ext && VIRTUAL_ENV="$PWD/../.venv" PATH="$PWD/../.venv/bin:$PATH" maturin develop --quiet)

echo "== Python reads what Rust wrote (python-ext/examples/read_rust_demo.py)"
.venv/bin/python python-ext/examples/read_rust_demo.py

echo "== The seed's Python examples (python-ext/examples/seed_examples.py)"
CHAKRA_DATABASE_URL="sqlite://$PWD/target/demo_py.db" .venv/bin/python python-ext/examples/seed_examples.py
