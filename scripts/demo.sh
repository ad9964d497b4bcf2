#!/usr/bin/env bash
# Sets everything up and runs the demo on the embedded default database (a SQLite file, no
# server needed): the seed's Rust examples write users, then Python reads and changes the
# same rows through the same core, then the seed's Python examples run on their own file.
# Then the example app's shared migrations (migrations/) are applied with the `chakra` CLI,
# the Rust service writes through them, the Python service reads and writes, and Rust reads
# what Python wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "FATAL: cargo not found; install Rust (https://rustup.rs)." >&2
  exit 1
fi
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
mkdir -p target
db="$PWD/target/demo.db"
rm -f "$db" "$db-wal" "$db-shm" target/demo_py.db* target/demo_app.db*
export CHAKRA_DATABASE_URL="sqlite://$db"

echo "== Rust (chakra/examples/demo.rs)"
cargo run --quiet -p chakra --example demo

echo "== Python setup (.venv with the chakra package)"
# The extension links the system's libsqlite3 (libsqlite3-dev to build).
# shellcheck source=scripts/sqlite_dev.sh
source scripts/sqlite_dev.sh
chakra_ensure_sqlite_dev
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "maturin>=1.9.4,<2"
(cd python-ext && VIRTUAL_ENV="$PWD/../.venv" PATH="$PWD/../.venv/bin:$PATH" maturin develop --quiet)

echo "== Python reads what Rust wrote (python-ext/examples/read_rust_demo.py)"
.venv/bin/python python-ext/examples/read_rust_demo.py

echo "== The seed's Python examples (python-ext/examples/seed_examples.py)"
CHAKRA_DATABASE_URL="sqlite://$PWD/target/demo_py.db" .venv/bin/python python-ext/examples/seed_examples.py

app_db="sqlite://$PWD/target/demo_app.db"
echo "== Shared migrations: chakra migrate apply (migrations/ → target/demo_app.db)"
cargo build --quiet -p chakra --bin chakra --example blog_app
target/debug/chakra migrate apply --database-url "$app_db"
target/debug/chakra migrate status --database-url "$app_db"

echo "== The Rust service writes (chakra/examples/blog_app.rs, models checked against schema.rs)"
CHAKRA_DATABASE_URL="$app_db" target/debug/examples/blog_app demo

echo "== The Python service reads what Rust wrote, and writes (python-ext/examples/blog_app.py)"
(cd python-ext/examples && ../../.venv/bin/python blog_app.py read "$app_db" && \
  ../../.venv/bin/python blog_app.py write "$app_db" python)

echo "== The Rust service reads what Python wrote"
CHAKRA_DATABASE_URL="$app_db" target/debug/examples/blog_app show

echo "== The Python models agree with the migrations (chakra migrate make --check, from Python)"
(cd python-ext/examples && ../../.venv/bin/chakra migrate make --models blog_models --dir ../../migrations --check)
