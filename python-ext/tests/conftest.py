"""Fixtures: every test runs on SQLite and on PostgreSQL, each in a database of its own, and
the test files named in ``MYSQL_FILES`` on MySQL/MariaDB too.

PostgreSQL is found at ``CHAKRA_TEST_PG_URL`` (default
``postgres://postgres@127.0.0.1:5432/postgres``), MySQL/MariaDB at ``CHAKRA_TEST_MYSQL_URL``
(default ``mysql://root@127.0.0.1:3306/mysql``); a test database ``chakra_py_<random>`` is
created for each test and dropped after it. When a server is unreachable the tests fail:
they never skip.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import chakra
import pytest
from chakra import _chakra

sys.path.insert(0, str(Path(__file__).parent))

from models import ALL

PG_ADMIN = os.environ.get("CHAKRA_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# PgBouncer in transaction mode in front of the same server (the test command starts one).
PGBOUNCER = os.environ.get(
    "CHAKRA_TEST_PGBOUNCER_URL", "postgres://postgres@127.0.0.1:6432/postgres"
)
MYSQL_ADMIN = os.environ.get("CHAKRA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")
BACKENDS = ["sqlite", "postgres", "mysql"]

#: The test files that run on MySQL/MariaDB as well (the ``mysql`` parameter of the ``db``
#: fixture is deselected in every other file until it passes there).
MYSQL_FILES = {
    "test_aggregates.py",
    "test_all_chains.py",
    "test_ambient_transactions.py",
    "test_annotate.py",
    "test_batch_size.py",
    "test_bulk_update.py",
    "test_cancel.py",
    "test_cancel_outcomes.py",
    "test_case_fold.py",
    "test_composite_pk.py",
    "test_concurrency.py",
    "test_conveniences.py",
    "test_cross_language.py",
    "test_django_aggregates.py",
    "test_django_filters_property.py",
    "test_django_paths.py",
    "test_django_relations.py",
    "test_docs.py",
    "test_enums.py",
    "test_errors.py",
    "test_expressions.py",
    "test_filter_values.py",
    "test_flush_order.py",
    "test_front_doors.py",
    "test_get_by_pk.py",
    "test_gil.py",
    "test_hooks.py",
    "test_inspect.py",
    "test_insert_if_none.py",
    "test_interrupts.py",
    "test_json_lookups.py",
    "test_limits.py",
    "test_lookups.py",
    "test_model_init.py",
    "test_model_options.py",
    "test_queryset.py",
    "test_raw_sql.py",
    "test_relationships.py",
    "test_seed_examples.py",
    "test_session.py",
    "test_streaming.py",
    "test_subqueries.py",
    "test_sync.py",
    "test_sync_twins.py",
    "test_tx_dialect.py",
    "test_type_contract.py",
    "test_typed.py",
    "test_upsert.py",
    "test_values_terminals.py",
}
#: Tests of those files that stay off MySQL ("file.py::test_name"), each with why; none today.
MYSQL_NOT_YET: set[str] = set()
# More files to try on MySQL while opting them in (comma-separated names).
MYSQL_FILES |= set(filter(None, os.environ.get("CHAKRA_TEST_MYSQL_TRY", "").split(",")))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselects the MySQL runs of the test files not (yet) in ``MYSQL_FILES``."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_mysql = callspec is not None and "mysql" in callspec.params.values()
        test = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
        if on_mysql and (item.path.name not in MYSQL_FILES or test in MYSQL_NOT_YET):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@dataclass
class Db:
    """A test database (``pooled``: PostgreSQL reached through PgBouncer)."""

    backend: str
    url: str
    pooled: bool = False


def with_params(url: str, params: str) -> str:
    """``url`` with query parameters (``"?a=1&b=2"``) added to any it has."""
    if not params:
        return url
    return url + ("&" + params.lstrip("?") if "?" in url else "?" + params.lstrip("?"))


def pg_url(name: str) -> str:
    """The admin URL pointing at database ``name``."""
    parts = urlsplit(PG_ADMIN)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def mysql_url(name: str) -> str:
    """The MySQL admin URL pointing at database ``name`` (its query parameters kept)."""
    parts = urlsplit(MYSQL_ADMIN)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def admin(sql: str, url: str = PG_ADMIN) -> None:
    """Runs an admin statement on the PostgreSQL (or, with ``url``, MySQL) server, failing
    loudly when it is unreachable."""
    try:
        _chakra.batch_job(_chakra.PoolRef(url), sql).run_sync()
    except chakra.errors.ConnectionError as e:
        pytest.fail(
            f"The server is required and not reachable at {url} ({e}); "
            "run python-ext/scripts/test.sh, which starts one when none is running",
            pytrace=False,
        )


@pytest.fixture
def new_db(tmp_path: Path) -> Iterator[object]:
    """A factory of empty databases for one backend; all dropped after the test."""
    made: list[str] = []
    made_mysql: list[str] = []
    closed: list[str] = []

    def make(backend: str) -> Db:
        """``sqlite``, ``postgres``, ``mysql`` (MySQL/MariaDB), or ``pgbouncer`` (PostgreSQL
        through PgBouncer in transaction mode, the pool told with ``pooler=transaction``)."""
        if backend == "sqlite":
            return Db("sqlite", f"sqlite://{tmp_path / f'{uuid.uuid4().hex}.db'}")
        name = f"chakra_py_{uuid.uuid4().hex[:16]}"
        if backend == "mysql":
            # The server's default collation is left alone: the tables Chakra creates say
            # their own (utf8mb4_bin).
            admin(f'CREATE DATABASE "{name}" CHARACTER SET utf8mb4', MYSQL_ADMIN)
            made_mysql.append(name)
            return Db("mysql", mysql_url(name))
        try:
            # UTF-8 with Unicode case mapping, whatever the cluster's defaults.
            admin(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        except chakra.errors.DatabaseError:
            admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        if backend == "pgbouncer":
            parts = urlsplit(PGBOUNCER)
            url = urlunsplit((parts.scheme, parts.netloc, "/" + name, "pooler=transaction", ""))
            closed.append(url)
            return Db("postgres", url, pooled=True)
        return Db("postgres", pg_url(name))

    yield make
    for url in closed:
        chakra.close(url)
    for name in made:
        chakra.close(pg_url(name))
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for name in made_mysql:
        chakra.close(mysql_url(name))
        admin(f'DROP DATABASE IF EXISTS "{name}"', MYSQL_ADMIN)


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, new_db: object) -> AsyncIterator[Db]:
    """The test's database, configured as the default, with the test models' tables."""
    d: Db = new_db(request.param)  # type: ignore[operator]
    chakra.configure(d.url)
    await chakra.create_tables(*ALL)
    yield d
    chakra.close(d.url)


@pytest.fixture(params=["sqlite", "postgres", "pgbouncer", "mysql"])
async def db_with_pooler(request: pytest.FixtureRequest, new_db: object) -> AsyncIterator[Db]:
    """As ``db`` (MySQL included), plus PostgreSQL through PgBouncer in transaction mode (a
    module that wants it defines ``db`` as this fixture)."""
    d: Db = new_db(request.param)  # type: ignore[operator]
    chakra.configure(d.url)
    await chakra.create_tables(*ALL)
    yield d
    chakra.close(d.url)
