"""Read replicas from the Python door, on a real streaming standby (``scripts/replica.sh``
exports ``CHAKRA_TEST_PG_REPLICA_URL`` and ``CHAKRA_TEST_PG_REPLICA_PRIMARY_URL``; these
tests never skip): inside ``chakra.read_scope()`` a replica read after a write sees it 1,000
times in a row while a background writer keeps the replica busy, and without
read-your-writes staleness is observed; transactions, ``select_for_update`` and writes never
reach the replica (its ``pg_stat_activity``), while a plain replica read does."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import chakra
import pytest
from chakra import BigInteger, Field, Model, _chakra


class RepItem(Model):
    __tablename__ = "rep_items"

    id = Field(BigInteger, primary_key=True)
    n = Field(BigInteger)


def env(name: str) -> str:
    url = os.environ.get(name)
    if not url:
        pytest.fail(
            f"{name} is not set: these tests need a streaming standby; run "
            "python-ext/scripts/test.sh, which makes one (scripts/replica.sh)",
            pytrace=False,
        )
    return url


def on(url: str, db: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + db, p.query, p.fragment))


def run(url: str, sql: str) -> list[tuple[object, ...]]:
    """``sql`` on a pool of its own, closed afterwards (no connection stays open)."""
    pool = _chakra.PoolRef(url)
    try:
        return _chakra.fetch_job(pool, sql, [], False).run_sync()  # type: ignore[no-any-return]
    finally:
        pool.close()


@pytest.fixture
def pair() -> Iterator[tuple[str, str, str]]:
    """A database of the test's own on the primary with ``rep_items`` and a ballast table,
    waited for on the standby: ``(name, primary URL, replica URL)``."""
    primary, replica = env("CHAKRA_TEST_PG_REPLICA_PRIMARY_URL"), env("CHAKRA_TEST_PG_REPLICA_URL")
    name = f"chakra_pyrep_{uuid.uuid4().hex[:12]}"
    _chakra.batch_job(_chakra.PoolRef(primary), f'CREATE DATABASE "{name}"').run_sync()
    _chakra.batch_job(
        _chakra.PoolRef(on(primary, name)),
        "CREATE TABLE rep_items (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL);"
        "CREATE TABLE rep_ballast (id BIGSERIAL PRIMARY KEY, pad TEXT NOT NULL);",
    ).run_sync()
    started = time.monotonic()
    while True:
        try:
            run(on(replica, name), "SELECT 1 FROM rep_ballast")
            break
        except chakra.errors.ChakraError:
            assert time.monotonic() - started < 60, "the standby did not replay the database"
            time.sleep(0.05)
    yield name, on(primary, name), on(replica, name)
    chakra.close()
    chakra.configure()
    _chakra.batch_job(
        _chakra.PoolRef(primary), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    ).run_sync()


async def ballast(url: str, stop: asyncio.Event) -> int:
    """Large inserts on the primary until ``stop``: the standby has WAL to replay."""
    rounds = 0
    while not stop.is_set():
        await chakra.execute(
            "INSERT INTO rep_ballast (pad) SELECT repeat(md5(random()::text), 64) "
            "FROM generate_series(1, 400)",
            url=url,
        )
        rounds += 1
        if rounds % 20 == 0:
            await chakra.execute("DELETE FROM rep_ballast", url=url)
    return rounds


async def test_read_your_writes_in_a_scope_and_staleness_without_it(
    pair: tuple[str, str, str],
) -> None:
    _, primary, replica = pair
    chakra.configure({"default": {"url": primary, "replicas": [replica], "replica_wait": "5s"}})
    stop = asyncio.Event()
    writer = asyncio.create_task(ballast(primary, stop))
    try:
        with chakra.read_scope():
            item = await RepItem.objects.create(n=0)
            for i in range(1, 1001):
                item.n = i
                await item.save()
                seen = await RepItem.objects.using(replica=True).get(id=item.id)
                assert seen.n == i, f"read {i} after its write did not see it"
        counts = chakra.config.pool().read_counts()
        assert counts is not None and counts[0] >= 900, counts

        # Without read-your-writes the same read may run before the replica replayed the
        # write: observed at least once (bounded tries).
        chakra.configure(
            {"default": {"url": primary, "replicas": [replica], "read_your_writes": "none"}}
        )
        stale = 0
        for i in range(2000, 7000):
            item.n = i
            await item.save()
            if (await RepItem.objects.using(replica=True).get(id=item.id)).n != i:
                stale += 1
                if stale >= 3:
                    break
        assert stale > 0, "no stale read observed without read-your-writes"
    finally:
        stop.set()
        assert await writer > 0


async def test_transactions_and_locks_never_reach_the_replica(pair: tuple[str, str, str]) -> None:
    name, primary, replica = pair
    admin = env("CHAKRA_TEST_PG_REPLICA_URL")
    chakra.configure({"default": {"url": primary, "replicas": [replica], "replica_reads": True}})

    def on_replica() -> int:
        rows = run(admin, f"SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '{name}'")
        return int(rows[0][0])  # type: ignore[call-overload]

    # The fixture's own probe has gone (a closed connection leaves pg_stat_activity soon).
    started = time.monotonic()
    while on_replica() != 0:
        assert time.monotonic() - started < 10, "a connection to the replica stayed open"
        time.sleep(0.05)
    with chakra.read_scope():
        item = await RepItem.objects.create(n=1)
        async with chakra.Session() as s, s.begin():
            rows = await s.query(RepItem).all()
            assert len(rows) == 1
            locked = await s.query(RepItem).select_for_update().get(id=item.id)
            locked.n = 2
        async with chakra.Session() as s, s.begin():
            assert (await RepItem.objects.select_for_update().get(id=item.id)).n == 2
            await RepItem.objects.filter(id=item.id).update(n=3)
        await chakra.execute("UPDATE rep_items SET n = n + 1")
        await chakra.fetch("SELECT n FROM rep_items")  # raw SQL: the primary
        # The replica's server saw no connection to this database.
        assert on_replica() == 0
        # A plain read does go there (the check above can fail), and sees the writes.
        assert (await RepItem.objects.get(id=item.id)).n == 4
        assert (await chakra.fetch("SELECT n FROM rep_items", read_only=True))[0][0] == 4
    assert on_replica() >= 1
    counts = chakra.config.pool().read_counts()
    assert counts is not None and counts[0] == 2, counts
