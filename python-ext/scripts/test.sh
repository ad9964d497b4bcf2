#!/usr/bin/env bash
# The Python front door's checks, from a fresh clone with CPython 3.11 and Rust installed:
# a virtualenv at the repository root (.venv), the dev requirements, the extension built and
# installed in editable mode, then ruff, mypy (package, examples, typed tests, stubs against
# the built module) and pytest on SQLite and PostgreSQL.
#
# PostgreSQL: CHAKRA_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres). When
# nothing answers there and `initdb`/`pg_ctl` are installed, a throwaway cluster is started
# for the run and stopped afterwards. Tests never skip: without PostgreSQL they fail.
#
# Environment: PYTHON (default python3.11), CHAKRA_RELEASE=1 builds the extension with
# optimisations (for benchmarks; the tests do not need it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
python="${PYTHON:-python3.11}"
venv="$root/.venv"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install --quiet --disable-pip-version-check -r "$here/requirements-dev.txt"

cd "$here"
if [ "${CHAKRA_RELEASE:-0}" = "1" ]; then
    maturin develop --release --quiet
else
    maturin develop --quiet
fi

# --- PostgreSQL for the tests ------------------------------------------------------------
pg_url="${CHAKRA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_reachable() {
    python - "$1" <<'PY'
import sys
from chakra import _chakra
try:
    _chakra.batch_job(_chakra.PoolRef(sys.argv[1]), "SELECT 1").run_sync()
except Exception as e:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {e}", file=sys.stderr)
    sys.exit(1)
PY
}
cleanup_pg() { :; }
if ! pg_reachable "$pg_url" 2>/dev/null; then
    if [ -z "${CHAKRA_TEST_PG_URL:-}" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        pgdir="$(mktemp -d /tmp/chakra-pg.XXXXXX)"
        port=54329
        as_pg=()
        if [ "$(id -u)" = "0" ]; then
            id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
            chown postgres "$pgdir"
            as_pg=(runuser -u postgres --)
        fi
        "${as_pg[@]}" initdb -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        "${as_pg[@]}" pg_ctl -D "$pgdir/data" -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1" -l "$pgdir/log" -w start >/dev/null
        cleanup_pg() { "${as_pg[@]}" pg_ctl -D "$pgdir/data" -m fast -w stop >/dev/null || true; rm -rf "$pgdir"; }
        trap cleanup_pg EXIT
        pg_url="postgres://postgres@127.0.0.1:$port/postgres"
        echo "started a throwaway PostgreSQL at $pg_url"
    fi
fi
export CHAKRA_TEST_PG_URL="$pg_url"
pg_reachable "$pg_url"

# --- lint and types ------------------------------------------------------------------------
ruff check python tests examples bench
ruff format --check python tests examples bench
mypy python/chakra
(cd tests && mypy --config-file ../pyproject.toml test_typed.py ../examples)
python -m mypy.stubtest chakra._chakra

# --- tests ---------------------------------------------------------------------------------
pytest -q tests
