"""Memory of Chakra against asyncpg on PostgreSQL, each contender alone in a fresh process.

Contenders:
  chakra all           ``await MemUser.objects.order_by("id").limit(100_000).all()``
  chakra all_sync      the same through ``all_sync()`` (no hand-over in chunks to the loop)
  asyncpg fetch        ``conn.fetch`` of the same rows, each made a ``RawUser`` (a plain class
                       with the same six attributes in its ``__dict__``, as a model instance)
  chakra iterator      ``async for u in MemUser.objects.iterator(chunk_size=2000)`` over
                       1,000,000 rows, each object dropped as the next one comes
  asyncpg cursor       ``conn.cursor`` (prefetch 2,000) in a transaction over the same rows,
                       each made a ``RawUser`` and dropped

For each, the child reports the peak RSS above the RSS before the operation (the kernel's
``VmHWM``, reset through ``/proc/self/clear_refs`` just before it; Rust's allocations
included), then runs the operation a second time under ``tracemalloc`` for the peak of
Python's own allocations, and the number of memory blocks the result holds when it is kept
(``sys.getallocatedblocks``, after minus before; 0 for the streams, which keep nothing).
Memory does not depend on the machine's load; the wall time is printed for orientation only.

Usage: python bench/memory_bench.py [--url postgres://...]
A database ``chakra_bench_mem_py`` with the 1,000,000-row table is created on first use and
kept (``--drop`` removes it after the run).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import chakra
import isolated
from chakra import Boolean, DateTime, Field, Integer, Model, String

FETCH = 100_000
STREAM = 1_000_000
DB = "chakra_bench_mem_py"
COLS = "id, username, email, created_at, is_active, balance"
CONTENDERS = ("chakra all", "chakra all_sync", "asyncpg fetch", "chakra iterator", "asyncpg cursor")


class MemUser(Model):
    __tablename__ = "mem_users"

    id = Field(Integer, primary_key=True)
    username = Field(String(50))
    email = Field(String(255))
    created_at = Field(DateTime)
    is_active = Field(Boolean, default=True)
    balance = Field(Integer, default=0)


class RawUser:
    """asyncpg's object: the same attributes as a ``MemUser``, in its ``__dict__``."""

    def __init__(self, r: Any) -> None:
        self.id: int = r[0]
        self.username: str = r[1]
        self.email: str = r[2]
        self.created_at: datetime = r[3]
        self.is_active: bool = r[4]
        self.balance: int = r[5]


def with_db(url: str, name: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


def status_kb(key: str) -> int:
    """A line of ``/proc/self/status`` in kB (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


async def setup(url: str) -> str:
    """The bench database with its 1,000,000 rows, created unless it is there already."""
    admin = await asyncpg.connect(url)
    db_url = with_db(url, DB)
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB):
            c = await asyncpg.connect(db_url)
            try:
                n = await c.fetchval("SELECT count(*) FROM mem_users")
            except asyncpg.PostgresError:
                n = None
            await c.close()
            if n == STREAM:
                return db_url
            await admin.execute(f'DROP DATABASE "{DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DB}"')
    finally:
        await admin.close()
    chakra.configure(db_url)
    await chakra.create_tables(MemUser)
    chakra.close()
    c = await asyncpg.connect(db_url)
    await c.execute(
        "INSERT INTO mem_users (username, email, created_at, is_active, balance) "
        "SELECT 'user' || g, 'user' || g || '@example.com', now(), g % 3 <> 0, g "
        f"FROM generate_series(1, {STREAM}) g"
    )
    await c.execute("VACUUM ANALYZE mem_users")
    await c.close()
    return db_url


async def child(url: str, who: str) -> None:
    """One contender: the operation once for RSS (keeping a fetched result until measured),
    once more under tracemalloc."""
    conn: Any = None
    if who.startswith("chakra"):
        chakra.configure(url)
        await MemUser.objects.limit(10).all()  # warm: the pool, the shape, the bridge
    else:
        conn = await asyncpg.connect(url)
        await conn.fetch(f"SELECT {COLS} FROM mem_users ORDER BY id LIMIT 10")

    async def chakra_all() -> list[Any]:
        users = await MemUser.objects.order_by("id").limit(FETCH).all()
        assert len(users) == FETCH
        return users

    async def chakra_all_sync() -> list[Any]:
        users = MemUser.objects.order_by("id").limit(FETCH).all_sync()
        assert len(users) == FETCH
        return users

    async def asyncpg_fetch() -> list[Any]:
        rows = await conn.fetch(f"SELECT {COLS} FROM mem_users ORDER BY id LIMIT $1", FETCH)
        users = [RawUser(r) for r in rows]
        del rows
        assert len(users) == FETCH
        return users

    async def chakra_iterator() -> list[Any]:
        n = 0
        async for u in MemUser.objects.iterator(chunk_size=2000):
            n += u.id > 0
        assert n == STREAM, n
        return []

    async def asyncpg_cursor() -> list[Any]:
        n = 0
        async with conn.transaction():
            async for r in conn.cursor(f"SELECT {COLS} FROM mem_users", prefetch=2000):
                n += RawUser(r).id > 0
        assert n == STREAM, n
        return []

    ops: dict[str, Callable[[], Awaitable[list[Any]]]] = {
        "chakra all": chakra_all,
        "chakra all_sync": chakra_all_sync,
        "asyncpg fetch": asyncpg_fetch,
        "chakra iterator": chakra_iterator,
        "asyncpg cursor": asyncpg_cursor,
    }
    op = ops[who]
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak RSS starts again from the current RSS
    rss0 = status_kb("VmRSS")
    blocks0 = sys.getallocatedblocks()
    t = time.perf_counter()
    result = await op()
    wall = time.perf_counter() - t
    peak = status_kb("VmHWM")
    blocks = sys.getallocatedblocks() - blocks0
    del result
    gc.collect()
    tracemalloc.start()
    result = await op()
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    n = FETCH if who.endswith(("all", "all_sync", "fetch")) else STREAM
    print(
        f"| {who} | {n:,} | {(peak - rss0) / 1024:.1f} MB | {rss0 / 1024:.1f} MB "
        f"| {py_peak / 2**20:.1f} MB | {blocks:,} | {wall:.2f} s |",
        flush=True,
    )
    if conn is not None:
        await conn.close()
    else:
        chakra.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", default=isolated.default_pg_url())
    ap.add_argument("--drop", action="store_true", help="drop the bench database afterwards")
    ap.add_argument("--contender", help=argparse.SUPPRESS)  # a child
    args = ap.parse_args()
    if args.contender:
        await child(args.url, args.contender)
        return
    url = await setup(args.url)
    print(f"start: {isolated.stamp()}")
    print(
        "| contender | rows | peak RSS above before | RSS before | Python peak (tracemalloc) "
        "| blocks held by the result | wall |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for who in CONTENDERS:
        out = subprocess.run(
            [sys.executable, __file__, "--url", url, "--contender", who],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise SystemExit(f"{who} failed:\n{out.stderr}")
        print(out.stdout, end="", flush=True)
    print(f"end:   {isolated.stamp()}")
    if args.drop:
        admin = await asyncpg.connect(args.url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
