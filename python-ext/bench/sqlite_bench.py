"""Chakra on SQLite against the standard library's ``sqlite3`` with the same pragmas.

Workloads, through the model API (async and ``*_sync``) and through ``sqlite3`` by hand:
  S1 bulk insert 10,000 rows in one transaction (sqlite3: ``executemany`` in a transaction)
  S2 fetch 10,000 rows as objects (sqlite3: ``fetchall`` into a small class, timestamps
     parsed as Chakra does)
  S3 1,000 gets by primary key (sqlite3: one parametrised SELECT each, ``fetchone``)

Both use one database file with ``journal_mode=WAL``, ``synchronous=NORMAL``, foreign keys
on. Contenders alternate within each round; the table gives the median wall time per
operation (S3: per get) and the median process CPU time (user + system, every thread of
this process, Chakra's runtime thread included), and both as ratios to sqlite3.

Usage: python bench/sqlite_bench.py [--rounds 7]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="chakra_sqlite_bench_")
    path = os.path.join(d, "bench.db")
    url = f"sqlite://{path}"
    chakra.configure(url)
    chakra.create_tables_sync(SqUser)
    raw = Raw(path)
    loop = asyncio.new_event_loop()

    def clear() -> None:
        chakra.execute_script_sync("DELETE FROM sq_users")

    def ids() -> list[int]:
        return [r[0] for r in raw.c.execute("SELECT id FROM sq_users ORDER BY id")]

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

    names = ["chakra async", "chakra sync", "sqlite3"]
    res: dict[tuple[str, str], list[tuple[float, float]]] = {}

    def keep(w: str, who: str, wall_cpu: tuple[float, float], per: int = 1) -> None:
        res.setdefault((w, who), []).append((wall_cpu[0] / per, wall_cpu[1] / per))

    for rnd in range(args.rounds + 1):
        warm = rnd == 0
        # S1: bulk insert into an empty table (the clear is not timed).
        for who, fn in (
            ("chakra async", lambda: loop.run_until_complete(a_bulk())),
            ("chakra sync", s_bulk),
            ("sqlite3", raw.insert),
        ):
            clear()
            m = measure(fn)
            if not warm:
                keep("S1 bulk insert 10,000", who, m)
        keys = ids()
        assert len(keys) == N
        for who, fn in (
            ("chakra async", lambda: loop.run_until_complete(a_fetch())),
            ("chakra sync", s_fetch),
            ("sqlite3", raw.fetch),
        ):
            m = measure(fn)
            if not warm:
                keep("S2 fetch 10,000 objects", who, m)
        for who, fn in (
            ("chakra async", a_gets(keys)),
            ("chakra sync", s_gets(keys)),
            ("sqlite3", raw_gets(keys)),
        ):
            m = measure(fn)
            if not warm:
                keep("S3 get by pk (per get)", who, m, GETS)

    def fmt(s: float) -> str:
        return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"

    print(f"SQLite (WAL, synchronous=NORMAL), median of {args.rounds} rounds")
    print("| workload | contender | wall | ÷ sqlite3 | CPU | ÷ sqlite3 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for w in ("S1 bulk insert 10,000", "S2 fetch 10,000 objects", "S3 get by pk (per get)"):
        base_w = statistics.median(x[0] for x in res[(w, "sqlite3")])
        base_c = statistics.median(x[1] for x in res[(w, "sqlite3")])
        for who in names:
            mw = statistics.median(x[0] for x in res[(w, who)])
            mc = statistics.median(x[1] for x in res[(w, who)])
            print(
                f"| {w} | {who} | {fmt(mw)} | {mw / base_w:.2f}x | {fmt(mc)} | "
                f"{mc / max(base_c, 1e-9):.2f}x |"
            )
    raw.c.close()
    chakra.close()
    loop.close()


if __name__ == "__main__":
    main()
