"""Fixtures: every test runs on SQLite and on PostgreSQL, each in a database of its own.

PostgreSQL is found at ``CHAKRA_TEST_PG_URL`` (default
``postgres://postgres@127.0.0.1:5432/postgres``); a test database ``chakra_py_<random>`` is
created for each test and dropped after it. When PostgreSQL is unreachable the tests fail:
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
BACKENDS = ["sqlite", "postgres"]


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


def admin(sql: str) -> None:
    """Runs an admin statement on the PostgreSQL server (fails loudly when unreachable)."""
    try:
        _chakra.batch_job(_chakra.PoolRef(PG_ADMIN), sql).run_sync()
    except chakra.errors.ConnectionError as e:
        pytest.fail(
            f"PostgreSQL is required and not reachable at {PG_ADMIN} ({e}); "
            "run python-ext/scripts/test.sh, which starts one when none is running",
            pytrace=False,
        )


@pytest.fixture
def new_db(tmp_path: Path) -> Iterator[object]:
    """A factory of empty databases for one backend; all dropped after the test."""
    made: list[str] = []
    closed: list[str] = []

    def make(backend: str) -> Db:
        """``sqlite``, ``postgres``, or ``pgbouncer`` (PostgreSQL through PgBouncer in
        transaction mode, the pool told with ``pooler=transaction``)."""
        if backend == "sqlite":
            return Db("sqlite", f"sqlite://{tmp_path / f'{uuid.uuid4().hex}.db'}")
        name = f"chakra_py_{uuid.uuid4().hex[:16]}"
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


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, new_db: object) -> AsyncIterator[Db]:
    """The test's database, configured as the default, with the test models' tables."""
    d: Db = new_db(request.param)  # type: ignore[operator]
    chakra.configure(d.url)
    await chakra.create_tables(*ALL)
    yield d
    chakra.close(d.url)


@pytest.fixture(params=["sqlite", "postgres", "pgbouncer"])
async def db_with_pooler(request: pytest.FixtureRequest, new_db: object) -> AsyncIterator[Db]:
    """As ``db``, plus PostgreSQL through PgBouncer in transaction mode (a module that
    wants it defines ``db`` as this fixture)."""
    d: Db = new_db(request.param)  # type: ignore[operator]
    chakra.configure(d.url)
    await chakra.create_tables(*ALL)
    yield d
    chakra.close(d.url)
