"""``get(pk=…)`` run in one call on SQLite (``Query.pk_get_run``): the sync twin runs the
statement at once; the awaited get polls it once on the loop thread and, when it completes
there, returns without an asyncio future, else awaits the rest on the runtime. Checked
against what Python's own ``sqlite3`` reads from the same file: the row, the missing row,
a wrong key type, a transaction's own connection, and a locked database (the awaited get
waits for the lock without blocking the loop)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import chakra
import pytest
from chakra import errors
from models import ALL, User


@pytest.fixture
async def path(tmp_path: Path) -> object:
    """A SQLite file with the test tables and three users, configured as the default
    (rollback journal: a writer's `BEGIN EXCLUSIVE` then keeps readers out)."""
    p = tmp_path / "fast.db"
    url = f"sqlite://{p}?journal_mode=delete&statement_timeout=20s"
    chakra.configure(url)
    await chakra.create_tables(*ALL)
    await User.objects.bulk_create(
        [User(username=f"u{i}", email=f"u{i}@example.com") for i in range(3)]
    )
    yield p
    chakra.close(url)


def rows_of(p: object) -> dict[int, tuple[str, str]]:
    """Every user as ``sqlite3`` reads it: ``id -> (username, email)``."""
    c = sqlite3.connect(str(p))
    try:
        return {i: (u, e) for i, u, e in c.execute("SELECT id, username, email FROM users")}
    finally:
        c.close()


def rows_of_uncommitted(p: object) -> set[int]:
    """The user keys another connection sees (a transaction's writes are not among them);
    empty when the writer's lock keeps it out."""
    c = sqlite3.connect(str(p), timeout=0)
    try:
        return {i for (i,) in c.execute("SELECT id FROM users")}
    except sqlite3.OperationalError:
        return set()
    finally:
        c.close()


async def test_sync_and_async_gets_read_the_row_sqlite3_reads(path: object) -> None:
    expected = rows_of(path)
    assert len(expected) == 3
    for key, (username, email) in expected.items():
        got = await User.objects.get(id=key)
        same = User.objects.get_sync(pk=key)
        assert (got.id, got.username, got.email) == (key, username, email)
        assert (same.id, same.username, same.email) == (key, username, email)
        assert got is not same  # each get builds its own instance


async def test_a_missing_row_and_a_wrong_key_type_are_named_errors(path: object) -> None:
    missing = max(rows_of(path)) + 100
    with pytest.raises(User.DoesNotExist, match=f"id={missing}"):
        await User.objects.get(id=missing)
    with pytest.raises(User.DoesNotExist, match=f"pk={missing}"):
        User.objects.get_sync(pk=missing)
    for bad in ("x", object(), [1], 1.5j):
        with pytest.raises(errors.BadValue, match=r"User\.id"):
            await User.objects.get(id=bad)
        with pytest.raises(errors.BadValue, match=r"User\.id"):
            User.objects.get_sync(id=bad)
    # ``None`` is a key no row has, as in Django.
    with pytest.raises(User.DoesNotExist, match="id=None"):
        await User.objects.get(id=None)


async def test_gets_are_logged_once_each(path: object, caplog: pytest.LogCaptureFixture) -> None:
    key = min(rows_of(path))
    with caplog.at_level("DEBUG", logger="chakra.sql"):
        await User.objects.get(id=key)
        User.objects.get_sync(id=key)
    sql = [r for r in caplog.records if r.name == "chakra.sql"]
    assert len(sql) == 2, sql
    assert all(r.sql.startswith("SELECT") for r in sql)  # type: ignore[attr-defined]


async def test_an_awaited_get_in_a_transaction_sees_its_own_writes(path: object) -> None:
    async with chakra.Session() as s:
        async with s.begin():
            made = await User.objects.create(username="inside", email="i@x")
            got = await User.objects.get(id=made.id)
            assert got.username == "inside"
            assert made.id not in rows_of_uncommitted(path)
    assert rows_of(path)[made.id] == ("inside", "i@x")
    assert (await User.objects.get(pk=made.id)).email == "i@x"


def test_a_sync_get_in_a_transaction_sees_its_own_writes(path: object) -> None:
    with chakra.SyncSession() as s:
        with s.begin_sync():
            made = User.objects.create_sync(username="inside", email="i@x")
            assert User.objects.get_sync(id=made.id).username == "inside"
            assert made.id not in rows_of_uncommitted(path)
    assert rows_of(path)[made.id] == ("inside", "i@x")


async def test_an_awaited_get_waits_for_a_lock_without_blocking_the_loop(
    path: object,
) -> None:
    key = min(rows_of(path))
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # readers are kept out until it ends
    ran: list[str] = []

    async def release() -> None:
        ran.append("other task ran")
        await asyncio.sleep(0.05)
        ran.append("released")
        holder.execute("COMMIT")

    other = asyncio.ensure_future(release())
    try:
        got = await User.objects.get(id=key)
    finally:
        await other
        holder.close()
    # The get could only finish once the other task, on this loop, released the lock.
    assert ran == ["other task ran", "released"]
    assert got.id == key
    # A sync get on a locked database waits on this thread (it is a blocking call).
    assert User.objects.get_sync(id=key).id == key


async def test_gets_on_another_database_or_narrowed_take_the_general_path(
    path: object,
) -> None:
    key = min(rows_of(path))
    narrowed = User.objects.filter(username="nobody")
    with pytest.raises(User.DoesNotExist):
        await narrowed.get(id=key)
    with pytest.raises(User.DoesNotExist):
        narrowed.get_sync(id=key)
    assert (await User.objects.all().get(id=key)).id == key
    assert User.objects.only("username").get_sync(id=key).username == rows_of(path)[key][0]
