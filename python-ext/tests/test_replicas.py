"""Read replicas from the Python door, on a real streaming standby (``scripts/replica.sh``
exports ``CHAKRA_TEST_PG_REPLICA_URL`` and ``CHAKRA_TEST_PG_REPLICA_PRIMARY_URL``; these
tests never skip): inside ``chakra.read_scope()`` a replica read after a write sees it 1,000
times in a row while a background writer keeps the replica busy, and without
read-your-writes staleness is observed; transactions, ``select_for_update`` and writes never
reach the replica (its ``pg_stat_activity``), while a plain replica read does; a standby
of the test's own stopped mid-run is skipped with no failed read, and used again once
restarted, both decisions logged to the ``logging`` logger ``chakra.replicas``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import chakra
import pytest
from chakra import BigInteger, Field, Model, _chakra


class RepItem(Model):
    __tablename__ = "rep_items"

    id = Field(BigInteger, primary_key=True)
    n = Field(BigInteger)


# One xdist worker runs this file's tests, one after another (scripts/test.sh runs pytest with
# `--dist loadgroup`): they share the one streaming standby, start standbys of their own on
# ports they probe for, and measure the replica's lag.
pytestmark = pytest.mark.xdist_group("replicas")


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


# --- a standby of the test's own, to stop and start -----------------------------------------


def _bindir() -> Path:
    try:
        found = Path(
            subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        if (found / "pg_basebackup").exists():
            return found
    except (OSError, subprocess.CalledProcessError):
        pass
    dirs = sorted(p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "pg_ctl").exists())
    assert dirs, "PostgreSQL server binaries (pg_basebackup, pg_ctl) are required"
    return dirs[-1]


def _pg(tool: str, *args: str) -> None:
    cmd = [str(_bindir() / tool), *args]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


class Standby:
    """A streaming standby of the replica tests' primary, on a port of its own."""

    def __init__(self) -> None:
        for port in range(32000 + os.getpid() % 500, 33000):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) != 0:
                    self.port = port
                    break
        self.dir = Path(tempfile.mkdtemp(prefix="chakra_pystandby_"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        p = urlsplit(env("CHAKRA_TEST_PG_REPLICA_PRIMARY_URL"))
        _pg(
            "pg_basebackup",
            *("-h", p.hostname or "127.0.0.1", "-p", str(p.port or 5432), "-U", "postgres"),
            *("-D", str(self.dir / "data"), "-R", "-X", "stream", "-c", "fast"),
        )
        self.start()

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c hot_standby=on "
            "-c max_connections=500"
        )
        _pg(
            "pg_ctl",
            "-D",
            str(self.dir / "data"),
            "-o",
            opts,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        _pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            _pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def replica_records(
    caplog: pytest.LogCaptureFixture, since: int, level: int, text: str
) -> list[logging.LogRecord]:
    """The ``chakra.replicas`` records at ``level`` saying ``text``, from record ``since``."""
    return [
        r
        for r in caplog.records[since:]
        if r.name == "chakra.replicas" and r.levelno == level and text in r.getMessage()
    ]


async def test_a_stopped_replica_is_skipped_and_used_again_after_restart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The core's replica decisions reach `logging` (logger `chakra.replicas`).
    caplog.set_level(logging.DEBUG, logger="chakra.replicas")
    primary = env("CHAKRA_TEST_PG_REPLICA_PRIMARY_URL")
    standby = Standby()
    name = f"chakra_pystop_{uuid.uuid4().hex[:12]}"
    try:
        _chakra.batch_job(_chakra.PoolRef(primary), f'CREATE DATABASE "{name}"').run_sync()
        _chakra.batch_job(
            _chakra.PoolRef(on(primary, name)),
            "CREATE TABLE rep_items (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL)",
        ).run_sync()
        chakra.configure(
            {
                "default": {
                    "url": on(primary, name),
                    "replicas": [standby.url(name)],
                    "replica_retry": "300ms",
                }
            }
        )
        item = await RepItem.objects.create(n=7)  # the process-wide scope: reads wait for it
        stop = asyncio.Event()

        async def reader() -> int:
            n = 0
            while not stop.is_set():
                got = await RepItem.objects.using(replica=True).get(id=item.id)
                assert got.n == 7
                n += 1
                await asyncio.sleep(0.002)
            return n

        task = asyncio.create_task(reader())

        def counts() -> tuple[int, int]:
            c = chakra.config.pool().read_counts()
            return c if c is not None else (0, 0)

        async def until(what: str, ok: Callable[[], bool]) -> None:
            started = time.monotonic()
            while not ok():
                assert not task.done(), f"the reader stopped: {task.exception()!r}"
                assert time.monotonic() - started < 60, f"timed out: {what}"
                await asyncio.sleep(0.02)

        await until("reads reach the replica", lambda: counts()[0] > 20)
        mark = len(caplog.records)
        await asyncio.to_thread(standby.stop)
        before = counts()[1]
        await until("reads go on on the primary", lambda: counts()[1] > before + 20)
        # Skipped, logged at WARNING with the replica's address and the error as attributes;
        # the reads that fell back to the primary at DEBUG.
        down = replica_records(caplog, mark, logging.WARNING, "replica down")
        assert down, [r.getMessage() for r in caplog.records]
        assert f":{standby.port}/" in down[0].replica  # type: ignore[attr-defined]
        assert down[0].error  # type: ignore[attr-defined]
        assert replica_records(caplog, mark, logging.DEBUG, "reading on the primary")
        assert not replica_records(caplog, mark, logging.INFO, "usable again")
        mark = len(caplog.records)
        await asyncio.to_thread(standby.start)
        back = counts()[0]
        await until("reads return to the restarted replica", lambda: counts()[0] > back + 20)
        back_again = replica_records(caplog, mark, logging.INFO, "replica usable again")
        assert back_again and f":{standby.port}/" in back_again[0].replica  # type: ignore[attr-defined]
        stop.set()
        assert await task > 60  # no read failed (a failure ends the task with its error)
    finally:
        chakra.close()
        chakra.configure()
        standby.remove()
        _chakra.batch_job(
            _chakra.PoolRef(primary), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        ).run_sync()
