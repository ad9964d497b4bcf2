"""Chakra on SQLite against the standard library's ``sqlite3`` with the same pragmas.

Workloads, through the model API (async and ``*_sync``) and through ``sqlite3`` by hand:
  S1 bulk insert 10,000 rows in one transaction (sqlite3: ``executemany`` in a transaction,
     handed tuples; "sqlite3 objects": the same, after building a plain object per row
     as the model contenders build model objects, its tuples taken from the objects,
     each timestamp as ``isoformat()`` text)
  S2 fetch 10,000 rows as objects (sqlite3: ``fetchall`` into a small class, timestamps
     parsed as Chakra does)
  S3 1,000 gets by primary key (sqlite3: one parametrised SELECT each, ``fetchone``)

Both use one database file with ``journal_mode=WAL``, ``synchronous=NORMAL``, foreign keys
on. Contenders alternate within each round; the table gives the median wall time per
operation (S3: per get) and the median process CPU time (user + system, every thread of
this process, Chakra's runtime thread included), and both as ratios to sqlite3.

Usage: python bench/sqlite_bench.py [--rounds 7] [--isolated N]
``--isolated N`` runs each contender alone in a fresh interpreter instead, interleaved
across N repetitions, and reports medians (``isolated.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import chakra
import isolated
from chakra import Boolean, DateTime, Field, Integer, Model, String

N = 10_000
GETS = 1_000
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)


class SqUser(Model):
    __tablename__ = "sq_users"

    id = Field(Integer, primary_key=True)
    username = Field(String(50), unique=True)
    email = Field(String(255))
    created_at = Field(DateTime)
    is_active = Field(Boolean, default=True)
    balance = Field(Integer, default=0)


class RawUser:
    __slots__ = ("balance", "created_at", "email", "id", "is_active", "username")

    def __init__(self, r: tuple[Any, ...]) -> None:
        self.id, self.username, self.email = r[0], r[1], r[2]
        self.created_at = datetime.fromisoformat(r[3])
        self.is_active = bool(r[4])
        self.balance = r[5]


class PlainUser:
    """The plain object a program using ``sqlite3`` would build per new row: the model's
    fields as keyword arguments with its defaults, the key left unset."""

    def __init__(
        self,
        *,
        username: str,
        email: str,
        created_at: datetime,
        is_active: bool = True,
        balance: int = 0,
    ) -> None:
        self.id: int | None = None
        self.username = username
        self.email = email
        self.created_at = created_at
        self.is_active = is_active
        self.balance = balance


def plain_objs() -> list[PlainUser]:
    return [
        PlainUser(username=u, email=e, created_at=c, is_active=a, balance=b)
        for u, e, c, a, b in (row(i) for i in range(N))
    ]


def row(i: int) -> tuple[str, str, datetime, bool, int]:
    return (f"user{i}", f"user{i}@example.com", NOW, i % 3 != 0, i)


def objs() -> list[SqUser]:
    return [
        SqUser(username=u, email=e, created_at=c, is_active=a, balance=b)
        for u, e, c, a, b in (row(i) for i in range(N))
    ]


SELECT = "SELECT id, username, email, created_at, is_active, balance FROM sq_users"


class Raw:
    def __init__(self, path: str) -> None:
        self.c = sqlite3.connect(path, isolation_level=None)
        self.c.executescript(
            "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
        )

    def insert(self) -> None:
        ts = NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        c = self.c
        c.execute("BEGIN IMMEDIATE")
        c.executemany(
            "INSERT INTO sq_users (username, email, created_at, is_active, balance)"
            " VALUES (?, ?, ?, ?, ?)",
            ((u, e, ts, a, b) for u, e, _, a, b in (row(i) for i in range(N))),
        )
        c.execute("COMMIT")

    def insert_objects(self) -> None:
        c = self.c
        c.execute("BEGIN IMMEDIATE")
        c.executemany(
            "INSERT INTO sq_users (username, email, created_at, is_active, balance)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                (
                    o.username,
                    o.email,
                    o.created_at.isoformat(),
                    o.is_active,
                    o.balance,
                )
                for o in plain_objs()
            ),
        )
        c.execute("COMMIT")

    def fetch(self) -> None:
        users = [RawUser(r) for r in self.c.execute(SELECT).fetchall()]
        assert len(users) == N

    def gets(self, ids: list[int]) -> None:
        c = self.c
        q = SELECT + " WHERE id = ?"
        for i in range(GETS):
            RawUser(c.execute(q, (ids[(i * 7) % N],)).fetchone())


def measure(fn: Callable[[], Any]) -> tuple[float, float]:
    gc.collect()  # garbage of the previous contender is not charged to this one
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


S1, S2, S3 = "S1 bulk insert 10,000", "S2 fetch 10,000 objects", "S3 get by pk (per get)"
NAMES = ["chakra async", "chakra sync", "sqlite3", "sqlite3 objects"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument(
        "--isolated",
        type=int,
        metavar="N",
        help="each contender alone in a fresh process, N interleaved repetitions, medians",
    )
    ap.add_argument("--contender", help=argparse.SUPPRESS)  # a child of --isolated
    ap.add_argument("--db-path", help=argparse.SUPPRESS)  # the child's database file
    args = ap.parse_args()
    if args.contender:
        child(args.db_path, args.contender)
        return
    d = tempfile.mkdtemp(prefix="chakra_sqlite_bench_")
    path = os.path.join(d, "bench.db")
    chakra.configure(f"sqlite://{path}")
    chakra.create_tables_sync(SqUser)
    if args.isolated:
        chakra.close()
        isolated.run(__file__, ["--db-path", path], NAMES, "sqlite3", args.isolated, {S3: GETS})
        return
    print(f"start: {isolated.stamp()}")
    raw = Raw(path)
    loop = asyncio.new_event_loop()
    work = contenders(raw, loop)
    res: dict[tuple[str, str], list[tuple[float, float]]] = {}

    def keep(w: str, who: str, wall_cpu: tuple[float, float], per: int = 1) -> None:
        res.setdefault((w, who), []).append((wall_cpu[0] / per, wall_cpu[1] / per))

    for rnd in range(args.rounds + 1):
        warm = rnd == 0
        # S1: bulk insert into an empty table (the clear is not timed).
        for who in NAMES:
            clear()
            m = measure(work[who][0])
            if not warm:
                keep(S1, who, m)
        keys = ids(raw)
        assert len(keys) == N
        for who in NAMES:
            m = measure(work[who][1])
            if not warm:
                keep(S2, who, m)
        for who in NAMES:
            m = measure(work[who][2](keys))
            if not warm:
                keep(S3, who, m, GETS)

    def fmt(s: float) -> str:
        return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"

    print(f"end:   {isolated.stamp()}")
    print(f"SQLite (WAL, synchronous=NORMAL), median of {args.rounds} rounds")
    print("| workload | contender | wall | ÷ sqlite3 | CPU | ÷ sqlite3 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for w in (S1, S2, S3):
        base_w = statistics.median(x[0] for x in res[(w, "sqlite3")])
        base_c = statistics.median(x[1] for x in res[(w, "sqlite3")])
        for who in NAMES:
            mw = statistics.median(x[0] for x in res[(w, who)])
            mc = statistics.median(x[1] for x in res[(w, who)])
            print(
                f"| {w} | {who} | {fmt(mw)} | {mw / base_w:.2f}x | {fmt(mc)} | "
                f"{mc / max(base_c, 1e-9):.2f}x |"
            )
    raw.c.close()
    chakra.close()
    loop.close()


def clear() -> None:
    chakra.execute_script_sync("DELETE FROM sq_users")


def ids(raw: Raw) -> list[int]:
    return [r[0] for r in raw.c.execute("SELECT id FROM sq_users ORDER BY id")]


Work = tuple[Callable[[], Any], Callable[[], Any], Callable[[list[int]], Callable[[], Any]]]


def contenders(raw: Raw, loop: asyncio.AbstractEventLoop) -> dict[str, Work]:
    """Each contender's bulk insert, fetch, and gets (given the keys)."""

    async def a_bulk() -> None:
        await SqUser.objects.bulk_create(objs())

    def s_bulk() -> None:
        SqUser.objects.bulk_create_sync(objs())

    async def a_fetch() -> None:
        assert len(await SqUser.objects.all()) == N

    def s_fetch() -> None:
        assert len(SqUser.objects.all_sync()) == N

    def raw_gets(keys: list[int]) -> Callable[[], None]:
        return lambda: raw.gets(keys)

    def a_gets(keys: list[int]) -> Callable[[], None]:
        async def go() -> None:
            for i in range(GETS):
                await SqUser.objects.get(id=keys[(i * 7) % N])

        return lambda: loop.run_until_complete(go())

    def s_gets(keys: list[int]) -> Callable[[], None]:
        def go() -> None:
            for i in range(GETS):
                SqUser.objects.get_sync(id=keys[(i * 7) % N])

        return go

    return {
        "chakra async": (
            lambda: loop.run_until_complete(a_bulk()),
            lambda: loop.run_until_complete(a_fetch()),
            a_gets,
        ),
        "chakra sync": (s_bulk, s_fetch, s_gets),
        "sqlite3": (raw.insert, raw.fetch, raw_gets),
        # S2 and S3 as "sqlite3" (which builds objects there already).
        "sqlite3 objects": (raw.insert_objects, raw.fetch, raw_gets),
    }


def child(path: str, who: str) -> None:
    """A child of ``--isolated``: one contender, every workload timed twice (cold, warm).
    The sqlite3 children never configure Chakra."""
    raw = Raw(path)
    loop = asyncio.new_event_loop()
    if not who.startswith("sqlite3"):
        chakra.configure(f"sqlite://{path}")
    bulk, fetch, gets = contenders(raw, loop)[who]
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(2):
        raw.c.execute("DELETE FROM sq_users")  # untimed; the same for every contender
        runs.setdefault(S1, []).append(measure(bulk))
        keys = ids(raw)
        assert len(keys) == N
        runs.setdefault(S2, []).append(measure(fetch))
        runs.setdefault(S3, []).append(measure(gets(keys)))
    isolated.emit({w: isolated.timed_twice(r[0], r[1]) for w, r in runs.items()})
    raw.c.close()
    if not who.startswith("sqlite3"):
        chakra.close()
    loop.close()


if __name__ == "__main__":
    main()
