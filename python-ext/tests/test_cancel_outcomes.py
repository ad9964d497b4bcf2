"""Cancellation tells the truth (issue 19, item 3): 200 transactions cut short by
``asyncio.wait_for`` at random points (mid-query, mid-transaction, during COMMIT), interleaved
with 2,000 innocent statements: no innocent statement fails, and every transaction reported
as done is stored while every one reported cancelled or failed is not."""

from __future__ import annotations

import asyncio
import random

import chakra
from chakra import errors
from models import Tag, User


async def test_cancelled_transactions_report_their_outcome_truly(db: object) -> None:
    pg = db.backend == "postgres"  # type: ignore[attr-defined]
    chakra.close()
    chakra.configure(db.url + "?max_size=5")  # type: ignore[attr-defined]
    rng = random.Random(19)
    innocent_failures: list[str] = []
    reported: dict[str, bool] = {}

    async def innocent() -> None:
        try:
            await User.objects.filter(id__gte=0).count()
        except Exception as e:
            innocent_failures.append(repr(e))

    async def pause(seconds: float) -> None:
        if pg:
            await chakra.execute("SELECT pg_sleep(%s)", [seconds])
        else:
            await asyncio.sleep(seconds)

    async def transfer(name: str, timeout: float) -> None:
        async def body() -> None:
            async with chakra.Session() as s, s.begin():
                await pause(rng.random() * 0.02)
                await Tag.objects.create(name=name)
                await pause(rng.random() * 0.02)

        try:
            await asyncio.wait_for(body(), timeout=timeout)
            reported[name] = True
        except (asyncio.TimeoutError, errors.ChakraError):
            reported[name] = False

    work = []
    for i in range(200):
        work.append(transfer(f"t{i}", rng.random() * 3))
        work.extend(innocent() for _ in range(10))
    rng.shuffle(work)
    await asyncio.gather(*work)
    stored = {t.name for t in await Tag.objects.all()}
    untrue = [n for n, done in reported.items() if done != (n in stored)]
    assert innocent_failures == [], innocent_failures[:5]
    assert untrue == [], untrue
    assert sum(reported.values()) < 200, "cancellation was exercised"
