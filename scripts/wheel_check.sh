#!/usr/bin/env bash
# Distribution as users get it: the Python package built by maturin as one abi3 wheel
# (CPython 3.10+), installed into a fresh virtualenv with no Rust toolchain on PATH and
# no package index, and the typed example app (python-ext/examples/typed_library.py) run
# against it on SQLite, from outside the source tree. Then `cargo package` for the crates
# users depend on (chakra, chakra-dsl, chakra-codegen): manifests, versions, licences,
# READMEs.
#
# Cost: the wheel is built in the dev profile from the same target/ as `maturin develop`, so
# only the extension is linked again (seconds when the test command has just built it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
work="$(mktemp -d "${TMPDIR:-/tmp}/chakra-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT

(cd "$root/python-ext" && "$root/.venv/bin/maturin" build --quiet --out "$work/dist" \
    --interpreter "$python" 2>&1 | grep -v "^📦\|^🔗\|^🐍\|^⚠️\|^🍹" || true)
wheel="$(ls "$work"/dist/chakra_orm-*.whl)"
echo "   built $(basename "$wheel")"
case "$(basename "$wheel")" in
    *-cp310-abi3-*) ;;
    *) echo "FATAL: $wheel is not an abi3 wheel for CPython 3.10+" >&2; exit 1 ;;
esac

"$python" -m venv "$work/venv"
# A PATH without the Rust toolchain (rustup installs it under ~/.cargo/bin), and no index:
# the wheel has to install and import as built.
clean_path="$work/venv/bin:/usr/local/bin:/usr/bin:/bin"
if PATH="$clean_path" command -v cargo >/dev/null 2>&1; then
    echo "FATAL: cargo is still on the clean PATH ($clean_path)" >&2
    exit 1
fi
env -i PATH="$clean_path" HOME="$work" "$work/venv/bin/pip" install --quiet \
    --disable-pip-version-check --no-index "$wheel"
cp "$root/python-ext/examples/typed_library.py" "$work/app.py"
# The app's own dependency (not Chakra's: the wheel needs nothing), a single module, put
# next to it as a user would pip-install it.
cp "$root/.venv/lib/python3"*/site-packages/typing_extensions.py "$work/"
out="$(cd "$work" && env -i PATH="$clean_path" HOME="$work" \
    CHAKRA_DATABASE_URL="sqlite://$work/library.db" python - <<'PY'
import pathlib, runpy, sys
import chakra
here = pathlib.Path(chakra.__file__).resolve()
venv = pathlib.Path(sys.prefix).resolve()
assert venv in here.parents, f"chakra imported from {here}, not the fresh virtualenv"
sys.argv = ["app.py"]
runpy.run_path("app.py", run_name="__main__")
PY
)"
echo "$out" | "$python" -c '
import json, sys
out = json.loads(sys.stdin.read().strip().splitlines()[-1])
assert out["async"] and out["sync"], out
print("   the example app ran from the installed wheel:", ", ".join(sorted(out["async"])))
'

cd "$root"
rm -f target/package/chakra-*.crate
if ! log="$(cargo package --offline --no-verify --allow-dirty --quiet \
    -p chakra-dsl -p chakra-codegen -p chakra 2>&1)"; then
    echo "$log" >&2
    echo "FATAL: cargo package failed" >&2
    exit 1
fi
for c in chakra chakra-dsl chakra-codegen; do
    listing="$(tar -tzf "target/package/$c-0.1.0.crate")"
    grep -qx "$c-0.1.0/README.md" <<<"$listing" \
        || { echo "FATAL: $c's package has no README.md" >&2; exit 1; }
done
echo "   cargo package: chakra, chakra-dsl, chakra-codegen"
