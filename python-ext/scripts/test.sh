#!/usr/bin/env bash
# The Python front door's checks, from a fresh clone with CPython 3.11 and Rust installed:
# a virtualenv at the repository root (.venv), the dev requirements, the extension built and
# installed in editable mode, then ruff, mypy (package, examples, typed tests, stubs against
# the built module), pyright (the typed example app) and pytest on SQLite, PostgreSQL and
# MariaDB (the test files of tests/conftest.py's MYSQL_FILES).
#
# PostgreSQL: CHAKRA_TEST_PG_URL, else the server at 127.0.0.1:5432, else a throwaway cluster
# from the installed server binaries (scripts/pg.sh). MySQL/MariaDB: CHAKRA_TEST_MYSQL_URL, else
# the server at 127.0.0.1:3306, else a throwaway one (scripts/mariadb.sh). Tests never skip:
# without a server they fail.
#
# Environment: PYTHON (default python3.11, else python3), CHAKRA_RELEASE=1 builds the extension with
# optimisations (for benchmarks; the tests do not need it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
venv="$root/.venv"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install --quiet --disable-pip-version-check -r "$here/requirements-dev.txt"

# The extension links the system's libsqlite3 (libsqlite3-dev to build; scripts/sqlite_dev.sh).
# shellcheck source=../../scripts/sqlite_dev.sh
source "$root/scripts/sqlite_dev.sh"
chakra_ensure_sqlite_dev

cd "$here"
# The extension is built for the stable ABI (`_chakra.abi3.so`); a version-specific module
# left by an older build would be imported in its place.
rm -f python/chakra/_chakra.cpython-*.so
if [ "${CHAKRA_RELEASE:-0}" = "1" ]; then
    maturin develop --release --quiet
else
    maturin develop --quiet
fi

# --- PostgreSQL for the tests (the repository's scripts/pg.sh: the server at
# 127.0.0.1:5432, else a throwaway cluster, else fail) -----------------------------------------
# shellcheck source=../../scripts/pg.sh
source "$root/scripts/pg.sh"
chakra_ensure_pg
# shellcheck source=../../scripts/pgbouncer.sh
source "$root/scripts/pgbouncer.sh"
chakra_ensure_pgbouncer
python - "$CHAKRA_TEST_PG_URL" <<'PY'
import sys
from chakra import _chakra
try:
    _chakra.batch_job(_chakra.PoolRef(sys.argv[1]), "SELECT 1").run_sync()
except Exception as e:
    sys.exit(f"PostgreSQL not reachable at {sys.argv[1]}: {e}")
PY

# --- MySQL/MariaDB for the tests (scripts/mariadb.sh: the server at 127.0.0.1:3306, else a
# throwaway one from Debian's mariadb-server; exports CHAKRA_TEST_MYSQL_URL) ---------------------
# shellcheck source=../../scripts/mariadb.sh
source "$root/scripts/mariadb.sh"
chakra_ensure_mariadb
python - "$CHAKRA_TEST_MYSQL_URL" <<'PY'
import sys
from chakra import _chakra
try:
    _chakra.batch_job(_chakra.PoolRef(sys.argv[1]), "SELECT 1").run_sync()
except Exception as e:
    sys.exit(f"MySQL/MariaDB not reachable at {sys.argv[1]}: {e}")
PY

# --- a streaming standby for the replica tests (scripts/replica.sh: pg_basebackup -R of the
# test cluster, or of a throwaway primary; exports CHAKRA_TEST_PG_REPLICA_URL and
# CHAKRA_TEST_PG_REPLICA_PRIMARY_URL) -------------------------------------------------------
# shellcheck source=../../scripts/replica.sh
source "$root/scripts/replica.sh"
trap 'chakra_stop_replica; chakra_stop_pgbouncer; chakra_stop_throwaway_pg; chakra_stop_throwaway_mariadb' EXIT
chakra_ensure_replica

# --- lint and types ------------------------------------------------------------------------
ruff check python tests examples bench
ruff format --check python tests examples bench
mypy python/chakra
(cd tests && mypy --config-file ../pyproject.toml test_typed.py ../examples)
# The typed example app (examples/typed_library.py, its assert_type lines included) under
# pyright --strict as well (settings in pyproject.toml's [tool.pyright]; the pyright package
# fetches its Node.js program on first use). tests/test_static_types.py also pins the errors
# both checkers must report on tests/static_types/wrong_types.py.
pyright --pythonpath "$(command -v python)"
python -m mypy.stubtest chakra._chakra

# --- tests ---------------------------------------------------------------------------------
# In parallel (pytest-xdist): the tests wait on the databases far more than on the CPU, and each
# makes its own database. `--dist loadgroup` keeps the files that cannot share the machine on
# one worker each (their `pytestmark = pytest.mark.xdist_group(...)`: the replica tests, the
# polyglot services). CHAKRA_PYTEST_WORKERS=0 runs them all in this process, one by one.
pytest -q -n "${CHAKRA_PYTEST_WORKERS:-4}" --dist loadgroup tests
