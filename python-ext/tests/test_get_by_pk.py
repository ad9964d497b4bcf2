"""``get(pk=…)`` / ``get(id=…)`` on a plain queryset runs the core's cached get-by-key
statement; anything else takes the general path. Same objects, same errors, on SQLite and
PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from chakra import errors
from models import User


class Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.sql.append(record.sql)  # type: ignore[attr-defined]


@contextmanager
def statements() -> Iterator[Statements]:
    logger = logging.getLogger("chakra.sql")
    h = Statements()
    old = logger.level
    logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    try:
        yield h
    finally:
        logger.removeHandler(h)
        logger.setLevel(old)


async def test_get_by_key_returns_the_row_and_names_a_missing_one(db: object) -> None:
    users = [User(username=f"u{i}", email=f"u{i}@example.com") for i in range(3)]
    await User.objects.bulk_create(users)
    with statements() as log:
        got = await User.objects.get(id=users[1].id)
        same = User.objects.get_sync(pk=users[2].id)
    assert (got.id, got.username, got.email) == (users[1].id, "u1", "u1@example.com")
    assert got.created_at == users[1].created_at
    assert (same.id, same.username) == (users[2].id, "u2")
    assert len(log.sql) == 2, log.sql
    assert all(s.startswith("SELECT") and "LIMIT" not in s for s in log.sql), log.sql

    with pytest.raises(User.DoesNotExist, match="id=12345"):
        await User.objects.get(id=12345)
    with pytest.raises(errors.DoesNotExist, match="pk=12345"):
        User.objects.get_sync(pk=12345)


async def test_other_gets_take_the_general_path(db: object) -> None:
    users = [User(username=f"v{i}", email=f"v{i}@example.com") for i in range(3)]
    await User.objects.bulk_create(users)
    # A filtered queryset: the key must also match the filter.
    with pytest.raises(User.DoesNotExist):
        await User.objects.filter(username="v0").get(id=users[1].id)
    got = await User.objects.filter(username="v1").get(id=users[1].id)
    assert got.username == "v1"
    # Not the key, or a value of another type: the general path and its errors.
    assert (await User.objects.get(username="v2")).id == users[2].id
    with pytest.raises(errors.ChakraError):
        await User.objects.get(id="not a number")
    # only(): deferred fields stay unloaded as before.
    partial = await User.objects.only("username").get(id=users[0].id)
    assert partial.username == "v0"
