"""Chakra on MySQL/MariaDB against the raw driver ``asyncmy`` (a bench dependency only:
``pip install asyncmy``), on one server.

Workloads, through the model API (async and ``*_sync``) and through ``asyncmy`` by hand,
each contender building the same Python objects:
  M1 bulk insert 10,000 objects in one transaction (asyncmy: ``executemany``, which sends
     multi-row ``INSERT``s, in a transaction)
  M2 fetch 10,000 rows as objects (asyncmy: ``fetchall`` into a small class with the same
     attributes, the naive ``DATETIME`` made a UTC instant as Chakra reads it)
  M3 5,000 gets by primary key (asyncmy: one parametrised SELECT each, ``fetchone``, into
     the same class)

Contenders alternate within each round; the table gives the median wall time per
operation (M3: per get) and the median process CPU time (user + system, every thread of
this process, Chakra's runtime thread included), and both as ratios to asyncmy.

Usage: python bench/mysql_bench.py [--url mysql://root@127.0.0.1:3306/mysql] [--rounds 7]
       [--isolated N]
``--isolated N`` runs each contender alone in a fresh interpreter instead, interleaved
across N repetitions, and reports medians (``isolated.py``).
The URL defaults to CHAKRA_TEST_MYSQL_URL, else mysql://root@127.0.0.1:3306/mysql; a
database chakra_bench_<random> is created there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncmy  # type: ignore[import-untyped]
import chakra
import isolated
from chakra import Boolean, DateTime, Field, Integer, Model, String, _chakra

N = 10_000
GETS = 5_000
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)
COLS = "id, username, email, created_at, is_active, balance"


class MyUser(Model):
    __tablename__ = "my_users"

    id = Field(Integer, primary_key=True)
    username = Field(String(50), unique=True)
    email = Field(String(255))
    created_at = Field(DateTime)
    is_active = Field(Boolean, default=True)
    balance = Field(Integer, default=0)


class RawUser:
    """The raw driver's object: the same attributes and values as a ``MyUser``."""

    __slots__ = ("balance", "created_at", "email", "id", "is_active", "username")

    def __init__(self, r: tuple[Any, ...]) -> None:
        self.id, self.username, self.email = r[0], r[1], r[2]
        self.created_at = r[3].replace(tzinfo=timezone.utc)
        self.is_active = bool(r[4])
        self.balance = r[5]


def row(i: int) -> tuple[str, str, datetime, bool, int]:
    return (f"user{i}", f"user{i}@example.com", NOW, i % 3 != 0, i)


def objs() -> list[MyUser]:
    return [
        MyUser(username=u, email=e, created_at=c, is_active=a, balance=b)
        for u, e, c, a, b in (row(i) for i in range(N))
    ]


class Raw:
    """asyncmy on its own connection, the work written by hand."""

    def __init__(self, conn: Any, version: str) -> None:
        self.conn = conn
        self.version = version

    async def insert(self) -> None:
        rows = [(u, e, c.replace(tzinfo=None), a, b) for u, e, c, a, b in map(row, range(N))]
        async with self.conn.cursor() as cur:
            await cur.execute("START TRANSACTION")
            await cur.executemany(
                "INSERT INTO my_users (username, email, created_at, is_active, balance) "
                "VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
        await self.conn.commit()

    async def fetch(self) -> None:
        async with self.conn.cursor() as cur:
            await cur.execute(f"SELECT {COLS} FROM my_users")
            users = [RawUser(r) for r in await cur.fetchall()]
        assert len(users) == N

    async def gets(self, ids: list[int]) -> None:
        q = f"SELECT {COLS} FROM my_users WHERE id = %s"
        async with self.conn.cursor() as cur:
            for i in range(GETS):
                await cur.execute(q, (ids[(i * 7) % N],))
                RawUser(await cur.fetchone())


def measure(fn: Callable[[], Any]) -> tuple[float, float]:
    gc.collect()  # garbage of the previous contender is not charged to this one
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def with_db(url: str, name: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


M1, M2, M3 = "M1 bulk insert 10,000", "M2 fetch 10,000 objects", "M3 get by pk (per get)"
NAMES = ["chakra async", "chakra sync", "asyncmy"]


def raw_connect(loop: asyncio.AbstractEventLoop, url: str) -> Raw:
    """asyncmy on its own connection to the database of ``url``."""
    p = urlsplit(url)
    conn = loop.run_until_complete(
        asyncmy.connect(
            host=p.hostname or "127.0.0.1",
            port=p.port or 3306,
            user=unquote(p.username or "root"),
            password=unquote(p.password or ""),
            db=p.path.lstrip("/"),
            autocommit=True,
        )
    )

    async def version() -> str:
        async with conn.cursor() as cur:
            await cur.execute("SELECT VERSION()")
            return str((await cur.fetchone())[0])

    return Raw(conn, loop.run_until_complete(version()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--url",
        default=os.environ.get("CHAKRA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql"),
    )
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument(
        "--isolated",
        type=int,
        metavar="N",
        help="each contender alone in a fresh process, N interleaved repetitions, medians",
    )
    ap.add_argument("--contender", help=argparse.SUPPRESS)  # a child of --isolated
    ap.add_argument("--bench-db-url", help=argparse.SUPPRESS)  # the child's database
    args = ap.parse_args()
    if args.contender:
        child(args.bench_db_url, args.contender)
        return
    name = f"chakra_bench_{uuid.uuid4().hex[:12]}"
    admin = _chakra.PoolRef(args.url)
    _chakra.batch_job(admin, f'CREATE DATABASE "{name}" CHARACTER SET utf8mb4').run_sync()
    url = with_db(args.url, name)
    loop = asyncio.new_event_loop()
    try:
        chakra.configure(url)
        chakra.create_tables_sync(MyUser)
        if args.isolated:
            chakra.close(url)
            isolated.run(
                __file__, ["--bench-db-url", url], NAMES, "asyncmy", args.isolated, {M3: GETS}
            )
            return
        raw = raw_connect(loop, url)
        print(f"start: {isolated.stamp()}")
        run(loop, raw, args.rounds)
        print(f"end:   {isolated.stamp()}")
        raw.conn.close()
    finally:
        chakra.close(url)
        _chakra.batch_job(admin, f'DROP DATABASE IF EXISTS "{name}"').run_sync()
        chakra.close(args.url)
        loop.close()


Work = tuple[Callable[[], Any], Callable[[], Any], Callable[[list[int]], Callable[[], Any]]]


def contenders(loop: asyncio.AbstractEventLoop, raw: Raw | None) -> dict[str, Work]:
    """Each contender's bulk insert, fetch, and gets (given the keys); asyncmy's with
    ``raw``."""

    async def a_bulk() -> None:
        await MyUser.objects.bulk_create(objs())

    def s_bulk() -> None:
        MyUser.objects.bulk_create_sync(objs())

    async def a_fetch() -> None:
        assert len(await MyUser.objects.all()) == N

    def s_fetch() -> None:
        assert len(MyUser.objects.all_sync()) == N

    def a_gets(keys: list[int]) -> Callable[[], None]:
        async def go() -> None:
            for i in range(GETS):
                await MyUser.objects.get(id=keys[(i * 7) % N])

        return lambda: loop.run_until_complete(go())

    def s_gets(keys: list[int]) -> Callable[[], None]:
        def go() -> None:
            for i in range(GETS):
                MyUser.objects.get_sync(id=keys[(i * 7) % N])

        return go

    out: dict[str, Work] = {
        "chakra async": (
            lambda: loop.run_until_complete(a_bulk()),
            lambda: loop.run_until_complete(a_fetch()),
            a_gets,
        ),
        "chakra sync": (s_bulk, s_fetch, s_gets),
    }
    if raw is not None:
        r = raw

        def raw_gets(keys: list[int]) -> Callable[[], None]:
            return lambda: loop.run_until_complete(r.gets(keys))

        out["asyncmy"] = (
            lambda: loop.run_until_complete(r.insert()),
            lambda: loop.run_until_complete(r.fetch()),
            raw_gets,
        )
    return out


def child(url: str, who: str) -> None:
    """A child of ``--isolated``: one contender, every workload timed twice (cold, warm).
    The asyncmy child never configures Chakra."""
    loop = asyncio.new_event_loop()
    raw = raw_connect(loop, url) if who == "asyncmy" else None
    if raw is None:
        chakra.configure(url)
    bulk, fetch, gets = contenders(loop, raw)[who]

    async def raw_sql(sql: str) -> list[Any]:
        assert raw is not None
        async with raw.conn.cursor() as cur:
            await cur.execute(sql)
            return list(await cur.fetchall())

    def clear() -> None:
        if raw is None:
            chakra.execute_script_sync("DELETE FROM my_users")
        else:
            loop.run_until_complete(raw_sql("DELETE FROM my_users"))

    def ids() -> list[int]:
        if raw is None:
            return [u.id for u in MyUser.objects.order_by("id").all_sync()]
        return [r[0] for r in loop.run_until_complete(raw_sql("SELECT id FROM my_users"))]

    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(2):
        clear()
        runs.setdefault(M1, []).append(measure(bulk))
        keys = sorted(ids())
        assert len(keys) == N
        runs.setdefault(M2, []).append(measure(fetch))
        runs.setdefault(M3, []).append(measure(gets(keys)))
    isolated.emit({w: isolated.timed_twice(r[0], r[1]) for w, r in runs.items()})
    if raw is not None:
        raw.conn.close()
    else:
        chakra.close(url)
    loop.close()


def run(loop: asyncio.AbstractEventLoop, raw: Raw, rounds: int) -> None:
    def clear() -> None:
        chakra.execute_script_sync("DELETE FROM my_users")

    def ids() -> list[int]:
        return [u.id for u in MyUser.objects.order_by("id").all_sync()]

    work = contenders(loop, raw)
    res: dict[tuple[str, str], list[tuple[float, float]]] = {}

    def keep(w: str, who: str, wall_cpu: tuple[float, float], per: int = 1) -> None:
        res.setdefault((w, who), []).append((wall_cpu[0] / per, wall_cpu[1] / per))

    for rnd in range(rounds + 1):
        warm = rnd == 0
        for who in NAMES:
            clear()
            m = measure(work[who][0])
            if not warm:
                keep(M1, who, m)
        keys = ids()
        assert len(keys) == N
        for who in NAMES:
            m = measure(work[who][1])
            if not warm:
                keep(M2, who, m)
        for who in NAMES:
            m = measure(work[who][2](keys))
            if not warm:
                keep(M3, who, m, GETS)

    def fmt(s: float) -> str:
        return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"

    print(f"{raw.version}, median of {rounds} rounds")
    print("| workload | contender | wall | ÷ asyncmy | CPU | ÷ asyncmy |")
    print("| --- | --- | --- | --- | --- | --- |")
    for w in (M1, M2, M3):
        base_w = statistics.median(x[0] for x in res[(w, "asyncmy")])
        base_c = statistics.median(x[1] for x in res[(w, "asyncmy")])
        for who in NAMES:
            mw = statistics.median(x[0] for x in res[(w, who)])
            mc = statistics.median(x[1] for x in res[(w, who)])
            print(
                f"| {w} | {who} | {fmt(mw)} | {mw / base_w:.2f}x | {fmt(mc)} | "
                f"{mc / max(base_c, 1e-9):.2f}x |"
            )


if __name__ == "__main__":
    main()
