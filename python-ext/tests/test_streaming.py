"""Streaming on SQLite and PostgreSQL: ``async for obj in qs.iterator(chunk_size=…)``,
``async for obj in qs`` and ``qs.iterator_sync()`` read a chunk per statement (keyset by
primary key, or LIMIT/OFFSET under another ordering) with the queryset's filters and
slices; streaming 200,000 rows keeps the process's peak memory within 50 MB of streaming
2,000 (each measured in a subprocess of its own, from ``/proc/self/status`` ``VmHWM``).
A large ``.all()`` on PostgreSQL is one statement whose rows reach the loop in chunks while
later rows are read; an error after some chunks fails the whole read."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import chakra
import pytest
from chakra import errors
from models import User


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        sql = getattr(record, "sql", "")
        if record.levelno == logging.DEBUG and sql.startswith("SELECT"):
            self.sql.append(sql)


@contextmanager
def statements() -> Iterator[_Statements]:
    logger = logging.getLogger("chakra.sql")
    h = _Statements()
    old = logger.level
    logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    try:
        yield h
    finally:
        logger.removeHandler(h)
        logger.setLevel(old)


async def _seed(db: object, n: int) -> None:
    if db.backend == "sqlite":  # type: ignore[attr-defined]
        sql = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %s) "
            "INSERT INTO users (username, email, created_at, is_active, balance) "
            "SELECT 'u' || x, 'e' || x || '@x', '2020-01-01T00:00:00.000000Z', 1, x % 7 FROM c"
        )
    elif db.backend == "mysql":  # type: ignore[attr-defined]
        # `||` concatenates in the session's PIPES_AS_CONCAT mode (docs/mysql.md); the
        # numbers 1..n from six digits (a recursive CTE stops at 1,000 rows on MariaDB).
        digits = " UNION ALL ".join(f"SELECT {i}" for i in range(10))
        sql = (
            "INSERT INTO users (username, email, created_at, is_active, balance) "
            f"WITH d(d) AS ({digits}), c(x) AS (SELECT a.d + 10 * b.d + 100 * e.d "
            "+ 1000 * f.d + 10000 * g.d + 100000 * h.d + 1 FROM d a, d b, d e, d f, d g, d h) "
            "SELECT 'u' || x, 'e' || x || '@x', NOW(6), TRUE, x % 7 FROM c WHERE x <= %s"
        )
    else:
        sql = (
            "INSERT INTO users (username, email, created_at, is_active, balance) "
            "SELECT 'u' || x, 'e' || x || '@x', now(), true, x % 7 "
            "FROM generate_series(1, %s) AS x"
        )
    assert await chakra.execute(sql, [n]) == n


async def test_iterator_reads_chunks_in_order(db: object) -> None:
    await _seed(db, 25)
    with statements() as st:
        ids = [u.id async for u in User.objects.iterator(chunk_size=10)]
    assert ids == list(range(1, 26))
    assert len(st.sql) == 3 and "OFFSET" not in st.sql[1]
    # Filters, descending key order, a slice.
    qs = User.objects.filter(balance=0).order_by("-id")[1:4]
    with statements() as st:
        got = [u.id async for u in qs.iterator(chunk_size=2)]
    assert got == [14, 7]
    assert got == [u.id for u in await qs]
    # Another ordering: LIMIT/OFFSET pages with the key as tie-breaker.
    qs = User.objects.order_by("-balance", "username")
    assert [u.id async for u in qs.iterator(chunk_size=4)] == [u.id for u in await qs]
    assert [u.id for u in qs.iterator_sync(chunk_size=3)] == [u.id for u in await qs]
    # `async for` over a queryset streams too; values() still reads one query.
    assert [u.username async for u in User.objects.filter(id__lte=3)] == ["u1", "u2", "u3"]
    names = [r["username"] async for r in User.objects.filter(id__lte=2).values("username")]
    assert names == ["u1", "u2"]


async def test_iterator_errors_before_any_sql(db: object) -> None:
    with pytest.raises(errors.InvalidQuery, match="chunk_size"):
        [u async for u in User.objects.iterator(chunk_size=0)]
    with pytest.raises(errors.InvalidQuery, match="values"):
        [u async for u in User.objects.values("id").iterator()]
    with pytest.raises(errors.InvalidQuery, match="select_related"):
        list(User.objects.prefetch_related("posts").iterator_sync())


_PEAK = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[3])
import chakra
from models import User

def hwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

async def main(url, n):
    chakra.configure(url)
    count = 0
    async for u in User.objects.limit(n).iterator(chunk_size=2000):
        count += 1
    return count

n = asyncio.run(main(sys.argv[1], int(sys.argv[2])))
print(n, hwm_kb())
"""


def _peak(url: str, n: int) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, url, str(n), str(Path(__file__).parent)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout.split()
    return int(out[0]), int(out[1])


async def test_streaming_keeps_memory_bounded(db: object) -> None:
    await _seed(db, 200_000)
    url = db.url  # type: ignore[attr-defined]
    small, small_kb = _peak(url, 2_000)
    big, big_kb = _peak(url, 200_000)
    assert (small, big) == (2_000, 200_000)
    print(f"peak VmHWM: {small_kb} kB streaming 2,000 rows, {big_kb} kB streaming 200,000")
    assert big_kb - small_kb < 50 * 1024, (small_kb, big_kb)


async def test_a_large_all_is_converted_while_it_is_read(db: object) -> None:
    """``.all()`` of many rows on PostgreSQL hands the loop chunks of rows while later rows
    are still arriving (one statement; the loop converts as they come): the result is the
    same list, in order, as the rows' values; concurrent reads get their own rows."""
    await _seed(db, 5000)
    with statements() as log:
        users = await User.objects.order_by("id").all()
    assert len(log.sql) == 1, log.sql
    assert [u.id for u in users] == list(range(1, 5001))
    assert [u.username for u in users] == [f"u{i}" for i in range(1, 5001)]
    assert all(u.pk == u.id and not u._is_new() for u in users)
    lists = await asyncio.gather(
        *(User.objects.filter(balance=b).order_by("id").all() for b in range(7))
    )
    for b, got in enumerate(lists):
        assert [u.id for u in got] == [i for i in range(1, 5001) if i % 7 == b]


async def test_an_error_after_rows_were_handed_over_fails_the_read(db: object) -> None:
    """A statement that fails after thousands of rows reached the loop (a division by zero
    at row 3,000) raises its error; nothing of the partial result is returned, and the pool
    goes on working."""
    await _seed(db, 4000)
    from chakra import F

    # No ORDER BY: a sequential scan sends rows as it filters them, so the first 2,999 reach
    # the loop (in chunks) before the row that fails.
    qs = User.objects.filter(balance__lt=F("id") / (F("id") - 3000) + 100)
    if db.backend == "sqlite":  # type: ignore[attr-defined]
        # SQLite's division by zero is NULL, not an error: that row does not match. (MySQL
        # gives NULL with a warning in a SELECT; Chakra reads the warning and fails the read
        # as PostgreSQL does, docs/mysql.md.)
        assert 3000 not in [u.id for u in await qs.all()]
    else:
        with pytest.raises(errors.ChakraError) as caught:
            await qs.all()
        assert "division by zero" in str(caught.value).lower()
    assert await User.objects.count() == 4000
    assert len(await User.objects.filter(id__lte=2000).all()) == 2000


async def test_a_large_all_reads_on_while_the_loop_is_blocked(db: object) -> None:
    """The runtime reads a streamed ``.all()`` only a few chunks ahead of the loop's
    conversion (so the decoded rows and the built objects of a large result do not coexist);
    when the loop converts nothing for a while (here it blocks in a synchronous call that
    needs the pool's only connection, which the paused read holds), the read goes on
    without the bound: no deadlock, and every row arrives, in order."""
    await _seed(db, 20_000)
    url = db.url + "?max_size=1"  # type: ignore[attr-defined]
    chakra.configure(url)
    try:
        read = asyncio.ensure_future(User.objects.order_by("id").all())
        await asyncio.sleep(0)  # the read is submitted
        assert User.objects.count_sync() == 20_000  # blocks the loop meanwhile
        users = await read
        assert [u.id for u in users] == list(range(1, 20_001))
        # Two large reads at once on the one connection, the loop converting as they come.
        a, b = await asyncio.gather(
            User.objects.order_by("id").all(), User.objects.order_by("-id").all()
        )
        assert [u.id for u in a] == list(range(1, 20_001))
        assert [u.id for u in b] == list(range(20_000, 0, -1))
    finally:
        chakra.close(url)
