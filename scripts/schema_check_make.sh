#!/usr/bin/env bash
# The `make` workflow with the compile-time schema check on (issue 23), from a clean crate:
# an application whose model is checked against its schema.rs gets a field the migrations do
# not have yet; the build fails naming `chakra migrate make`; the application's own binary,
# built without the check (`--features chakra/skip-schema-check`), writes the migration and
# regenerates schema.rs; the checked build then passes and the migration applies on SQLite.
# Usage: scripts/schema_check_make.sh   (CARGO_TARGET_DIR is honoured; the default builds in a
# temporary folder, i.e. from scratch).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/chakra_schema_make.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$work/target}"
app="$work/shop"
mkdir -p "$app/src" "$app/migrations/shop"
cp "$repo/Cargo.lock" "$app/Cargo.lock"
cat > "$app/Cargo.toml" <<TOML
[package]
name = "shop"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
chakra = { path = "$repo/chakra" }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }

[workspace]
TOML
cat > "$app/migrations/shop/0001_initial.toml" <<'TOML'
[migration]
id = "0001_initial"
app = "shop"

[[operations]]
type = "CreateModel"
name = "Product"
table = "products"

[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
auto_increment = true

[[operations.fields]]
name = "name"
type = "String"
max_length = 40
TOML
write_main() { # $1: extra field line
  cat > "$app/src/main.rs" <<RS
use chakra::prelude::*;

mod schema;

#[derive(Debug, Clone, Model)]
#[chakra(table = "products", app = "shop", schema = crate::schema::products)]
pub struct Product {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
    $1
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("migrate") => chakra::cli::run_async().await,
        _ => {
            let _ = Product::query();
            std::process::ExitCode::SUCCESS
        }
    }
}
RS
}
cd "$app"
say() { echo "== $*"; }

say "schema.rs from the first migration (the plain chakra binary)"
cargo run --quiet --manifest-path "$repo/Cargo.toml" -p chakra --bin chakra -- \
  migrate schema --dir "$app/migrations" --out "$app/src/schema.rs"
write_main ""
say "the checked build passes"
cargo build --quiet --offline

say "a new field: the checked build fails, pointing at make and schema --out"
write_main "pub stock: i32,"
if cargo build --quiet --offline 2> "$work/err.txt"; then
  echo "FAIL: the build passed with a field schema.rs does not have" >&2
  exit 1
fi
grep -q "column \`stock\` is not in crate::schema::products" "$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
grep -q "chakra migrate make" "$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
grep -q "schema --out" "$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }

say "make and schema --out from the application's binary, built without the check"
cargo run --quiet --offline --features chakra/skip-schema-check -- migrate make --no-input --default products.stock=0
ls migrations/shop/0002_*.toml
grep -q 'name = "stock"' migrations/shop/0002_*.toml
cargo run --quiet --offline --features chakra/skip-schema-check -- migrate schema --out src/schema.rs
grep -q "pub type stock = i32;" src/schema.rs

say "the checked build passes again, and the migrations apply"
cargo build --quiet --offline
cargo run --quiet --offline -- migrate apply --database-url "sqlite://$work/shop.db"
cargo run --quiet --offline -- migrate make --check
say "ok"
