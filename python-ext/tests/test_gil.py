"""The GIL is released while a statement runs (sync API), the event loop keeps running while
an awaited one runs, and rows become instances without running ``__init__``."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import chakra
from chakra import Field, Model, String
from models import User


async def test_event_loop_runs_while_a_query_runs(db: Any) -> None:
    sql = "SELECT pg_sleep(0.3)" if db.backend == "postgres" else None
    if sql is None:
        # SQLite: a large insert keeps the runtime busy instead.
        job = User.objects.bulk_create([User(username=f"g{i}", email="e") for i in range(20000)])
    else:
        job = chakra.execute_script(sql)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    t = asyncio.get_running_loop().create_task(ticker())
    started = time.perf_counter()
    await job
    elapsed = time.perf_counter() - started
    t.cancel()
    assert ticks >= 5, (ticks, elapsed)


def test_sync_calls_release_the_gil(new_db: Any) -> None:
    d = new_db("postgres")
    chakra.configure(d.url)
    done = threading.Event()
    count = 0

    def spin() -> None:
        nonlocal count
        while not done.is_set():
            count += 1

    th = threading.Thread(target=spin)
    th.start()
    try:
        time.sleep(0.05)
        before = count
        chakra.execute_script_sync("SELECT pg_sleep(0.3)")
        progressed = count - before
    finally:
        done.set()
        th.join()
        chakra.close(d.url)
    # With the GIL held for 0.3 s the other thread could not count at all.
    assert progressed > 10_000, progressed


class Counted(Model):
    __tablename__ = "counted"
    name = Field(String(20))
    inits = 0

    def __init__(self, **kw: Any) -> None:
        type(self).inits += 1
        super().__init__(**kw)


async def test_rows_become_instances_without_init(db: Any) -> None:
    await chakra.create_tables(Counted)
    await Counted.objects.bulk_create([Counted(name=f"n{i}") for i in range(3)])
    assert Counted.inits == 3
    rows = await Counted.objects.order_by("id").all()
    assert [r.name for r in rows] == ["n0", "n1", "n2"]
    assert Counted.inits == 3
    assert all(type(r) is Counted for r in rows)
    Counted.inits = 0
