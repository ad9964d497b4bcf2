"""The SQLite get's hot path keeps the pool's promises and reads every datetime as before:
the checkout first takes a free connection without a wait timer, else waits as deadpool
does (a pool of one under 50 awaited gets and a writer; an in-memory database's one
connection; a closed pool reconnecting); a read ``datetime`` is made from its pickled
state (the edges of the year range, microseconds across the byte boundaries, text other
programs wrote), checked against ``sqlite3``'s own reading of the same file and against
values computed in plain Python. ``Model.objects`` stays a new queryset per access."""

from __future__ import annotations

import asyncio
import pickle
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import chakra
import pytest
from chakra import DateTime, Field, Integer, Model, String
from chakra.query import QuerySet

UTC = timezone.utc


class HotRow(Model):
    __tablename__ = "hot_rows"

    id = Field(Integer, primary_key=True)
    name = Field(String(50))
    at = Field(DateTime, nullable=True)


def sqlite3_rows(path: Path) -> dict[int, tuple[str, str | None]]:
    """Every row as ``sqlite3`` reads it: ``id -> (name, at text)``."""
    c = sqlite3.connect(str(path))
    try:
        return {i: (n, a) for i, n, a in c.execute("SELECT id, name, at FROM hot_rows")}
    finally:
        c.close()


@pytest.fixture
async def one_conn(tmp_path: Path) -> Any:
    """A SQLite file with a pool of one connection, ten rows, configured as the default."""
    p = tmp_path / "hot.db"
    url = f"sqlite://{p}?max_size=1&wait_timeout=30s"
    chakra.configure(url)
    await chakra.create_tables(HotRow)
    await HotRow.objects.bulk_create([HotRow(name=f"n{i}") for i in range(10)])
    yield p, url
    chakra.close(url)


async def test_fifty_awaited_gets_and_a_writer_share_a_pool_of_one(one_conn: Any) -> None:
    path, url = one_conn
    keys = sorted(sqlite3_rows(path))
    assert len(keys) == 10

    async def reader(i: int) -> tuple[int, str]:
        key = keys[i % len(keys)]
        await asyncio.sleep(0)
        got = await HotRow.objects.get(id=key)
        return key, got.name

    async def writer() -> None:
        for j in range(20):
            await HotRow.objects.filter(id=keys[0]).update(name=f"w{j}")
            await asyncio.sleep(0)

    results = await asyncio.gather(writer(), *(reader(i) for i in range(50)))
    names = {k: n for k, (n, _) in sqlite3_rows(path).items()}
    assert names[keys[0]] == "w19"
    for key, name in results[1:]:
        if key == keys[0]:
            assert name == "n0" or name.startswith("w")
        else:
            assert name == names[key]
    status = chakra.config.pool(url).status()
    assert status is not None
    size, available, max_size = status
    assert max_size == 1 and size <= 1 and available == size  # every connection back


async def test_gets_wait_for_the_one_connection_a_transaction_holds(one_conn: Any) -> None:
    path, _url = one_conn
    key = min(sqlite3_rows(path))

    async def outside_get() -> HotRow:
        with chakra.outside_transaction():
            return await HotRow.objects.get(id=key)

    async with chakra.Session() as s:
        async with s.begin():
            await HotRow.objects.filter(id=key).update(name="held")
            # The one connection is the transaction's: a get outside it waits for it.
            waiting = asyncio.ensure_future(outside_get())
            await asyncio.sleep(0.05)
            assert not waiting.done()
    got = await asyncio.wait_for(waiting, 20)
    assert got.name == "held" == sqlite3_rows(path)[key][0]


async def test_a_closed_pool_reconnects_and_reads_the_same_rows(one_conn: Any) -> None:
    path, url = one_conn
    expected = sqlite3_rows(path)
    for _ in range(3):
        chakra.close(url)
        chakra.configure(url)
        for key, (name, _) in expected.items():
            assert HotRow.objects.get_sync(id=key).name == name
            assert (await HotRow.objects.get(id=key)).name == name


async def test_an_in_memory_database_keeps_its_one_connection() -> None:
    url = "sqlite://:memory:"
    chakra.configure(url)
    try:
        await chakra.create_tables(HotRow)
        await HotRow.objects.bulk_create([HotRow(name=f"m{i}") for i in range(5)])
        rows = await HotRow.objects.order_by("id").all()
        got = await asyncio.gather(*(HotRow.objects.get(id=r.id) for r in rows * 10))
        assert [g.name for g in got] == [r.name for r in rows] * 10
        assert HotRow.objects.get_sync(id=rows[0].id).name == "m0"
        status = chakra.config.pool(url).status()
        assert status is not None and status[0] == 1 and status[2] == 1
    finally:
        chakra.close(url)


# Text as Chakra writes it and as other programs do, with the datetime each names,
# computed here by hand.
EDGES = [
    ("0001-01-01T00:00:00.000000Z", datetime(1, 1, 1, tzinfo=UTC)),
    ("0999-12-31T23:59:59.999999Z", datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("1000-01-01T00:00:00.000001Z", datetime(1000, 1, 1, 0, 0, 0, 1, tzinfo=UTC)),
    ("2024-02-29T13:45:58.065535Z", datetime(2024, 2, 29, 13, 45, 58, 65535, tzinfo=UTC)),
    ("2024-02-29T13:45:58.065536Z", datetime(2024, 2, 29, 13, 45, 58, 65536, tzinfo=UTC)),
    ("2024-12-31T23:59:59.000255Z", datetime(2024, 12, 31, 23, 59, 59, 255, tzinfo=UTC)),
    ("2024-12-31T23:59:59.000256Z", datetime(2024, 12, 31, 23, 59, 59, 256, tzinfo=UTC)),
    ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2001-05-21 21:25:26", datetime(2001, 5, 21, 21, 25, 26, tzinfo=UTC)),
    ("2001-05-21 23:25:27.5+02:00", datetime(2001, 5, 21, 21, 25, 27, 500000, tzinfo=UTC)),
    ("2001-05-21T16:55:30-04:30", datetime(2001, 5, 21, 21, 25, 30, tzinfo=UTC)),
    ("1969-12-31T23:59:59.999999Z", datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
]


async def test_datetimes_at_the_edges_read_as_written(tmp_path: Path) -> None:
    p = tmp_path / "edges.db"
    url = f"sqlite://{p}"
    chakra.configure(url)
    try:
        await chakra.create_tables(HotRow)
        c = sqlite3.connect(str(p))
        with c:
            for i, (text, _) in enumerate(EDGES, start=1):
                c.execute("INSERT INTO hot_rows (id, name, at) VALUES (?, ?, ?)", (i, "e", text))
        c.close()
        assert {k: a for k, (_, a) in sqlite3_rows(p).items()} == {
            i: t for i, (t, _) in enumerate(EDGES, start=1)
        }
        for i, (text, want) in enumerate(EDGES, start=1):
            for got in (HotRow.objects.get_sync(id=i).at, (await HotRow.objects.get(id=i)).at):
                assert type(got) is datetime, text
                assert got.tzinfo is UTC, text
                assert got == want, text
                assert (got.year, got.month, got.day, got.hour, got.minute, got.second) == (
                    want.year,
                    want.month,
                    want.day,
                    want.hour,
                    want.minute,
                    want.second,
                ), text
                assert got.microsecond == want.microsecond and got.fold == 0, text
                assert repr(got) == repr(want), text
                assert pickle.loads(pickle.dumps(got)) == want, text
                assert hash(got) == hash(want), text
        # Written through Chakra, naive (taken as UTC) and aware, read back the same.
        naive = datetime(1234, 5, 6, 7, 8, 9, 101112)
        aware = datetime(8765, 4, 3, 2, 1, 0, 999999, tzinfo=UTC)
        a = await HotRow.objects.create(name="naive", at=naive)
        b = await HotRow.objects.create(name="aware", at=aware)
        assert HotRow.objects.get_sync(id=a.id).at == naive.replace(tzinfo=UTC)
        assert (await HotRow.objects.get(id=b.id)).at == aware
    finally:
        chakra.close(url)


def test_objects_is_a_new_queryset_each_time() -> None:
    a, b = HotRow.objects, HotRow.objects
    assert a is not b
    assert type(a) is QuerySet and a.model is HotRow
    # Every slot as the constructor sets it (the manager sets them without ``__init__``).
    made = QuerySet(HotRow)
    slots = [n for c in type(made).__mro__ for n in getattr(c, "__slots__", ())]
    assert set(slots) >= {"model", "_q", "_mode", "_session", "_using"}
    for name in slots:
        assert getattr(a, name) == getattr(made, name), name
    narrowed = a.filter(name="x")
    assert narrowed is not a and HotRow.objects is not narrowed
    with pytest.raises(AttributeError, match="model class"):
        HotRow().objects  # noqa: B018
