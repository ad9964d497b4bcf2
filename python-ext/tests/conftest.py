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
BACKENDS = ["sqlite", "postgres"]


@dataclass
class Db:
    """A test database."""

    backend: str
    url: str


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

    def make(backend: str) -> Db:
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
        return Db("postgres", pg_url(name))

    yield make
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
