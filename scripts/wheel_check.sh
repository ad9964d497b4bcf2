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
# The extension links the system's libsqlite3 (libsqlite3-dev to build).
# shellcheck source=scripts/sqlite_dev.sh
source "$root/scripts/sqlite_dev.sh"
chakra_ensure_sqlite_dev

(cd "$root/python-ext" && "$root/.venv/bin/maturin" build --quiet --out "$work/dist" \
    --interpreter "$python" 2>&1 | grep -v "^📦\|^🔗\|^🐍\|^⚠️\|^🍹\|^📡" || true)
wheel="$(ls "$work"/dist/chakra_orm-*.whl)"
echo "   built $(basename "$wheel")"
case "$(basename "$wheel")" in
    *-cp310-abi3-*) ;;
    *) echo "FATAL: $wheel is not an abi3 wheel for CPython 3.10+" >&2; exit 1 ;;
esac

# One fresh virtualenv per interpreter: the one the test command uses, and the oldest and
# newest CPython found on PATH (the one abi3 wheel serves them all).
check_with() {
    local py="$1" venv
    venv="$work/venv-$(basename "$py")"
    "$py" -m venv "$venv"
    # A PATH without the Rust toolchain (rustup installs it under ~/.cargo/bin), and no
    # index: the wheel has to install and import as built.
    local clean_path="$venv/bin:/usr/local/bin:/usr/bin:/bin"
    if PATH="$clean_path" command -v cargo >/dev/null 2>&1; then
        echo "FATAL: cargo is still on the clean PATH ($clean_path)" >&2
        exit 1
    fi
    env -i PATH="$clean_path" HOME="$work" "$venv/bin/pip" install --quiet \
        --disable-pip-version-check --no-index "$wheel"
    rm -f "$work/library.db"
    local out
    out="$(cd "$work" && env -i PATH="$clean_path" HOME="$work" \
        CHAKRA_DATABASE_URL="sqlite://$work/library.db" python - <<'PY'
import pathlib, runpy, sys
import chakra
here = pathlib.Path(chakra.__file__).resolve()
venv = pathlib.Path(sys.prefix).resolve()
assert venv in here.parents, f"chakra imported from {here}, not the fresh virtualenv"
# One SQLite in the process: the wheel links the system's libsqlite3, as sqlite3 does (a
# copy vendored into the wheel would be a second one; docs/sqlite.md).
info = chakra.sqlite_info()
assert info["shared_with_sqlite3"] is True and not info["built_in"], info
sys.argv = ["app.py"]
runpy.run_path("app.py", run_name="__main__")
PY
)"
    echo "$out" | "$python" -c '
import json, sys
out = json.loads(sys.stdin.read().strip().splitlines()[-1])
assert out["async"] and out["sync"], out
' || { echo "FATAL: the example app printed no result with $py" >&2; exit 1; }
    echo "   the example app ran from the installed wheel on $("$venv/bin/python" -V)"
}

cp "$root/python-ext/examples/typed_library.py" "$work/app.py"
# The app's own dependency (not Chakra's: the wheel needs nothing), a single module, put
# next to it as a user would pip-install it.
cp "$root/.venv/lib/python3"*/site-packages/typing_extensions.py "$work/"
check_with "$python"
# (pyenv's shims answer `command -v` for versions not selected, so its installs are
# looked up directly as well.)
pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
for extra in python3.10 python3.13; do
    for cand in "$(command -v "$extra" || true)" "$pyenv_root"/versions/"${extra#python}".*/bin/"$extra"; do
        if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -V >/dev/null 2>&1; then
            check_with "$cand"
            break
        fi
    done
done

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
