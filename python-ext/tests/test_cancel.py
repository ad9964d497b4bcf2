"""Cancellation: a statement cancelled by asyncio.wait_for (alone or mid-transaction)
leaves the pool and the data consistent."""

from __future__ import annotations

import asyncio

import chakra
import pytest
from chakra import Session
from conftest import Db
from models import User


@pytest.fixture
def db(db_with_pooler: Db) -> Db:
    """SQLite, PostgreSQL, and PostgreSQL through PgBouncer in transaction mode."""
    return db_with_pooler


def many(n: int, prefix: str) -> list[User]:
    return [User(username=f"{prefix}{i}", email="e") for i in range(n)]


async def pool_settles() -> tuple[int, int, int] | None:
    status = chakra.config.pool().status()
    for _ in range(200):
        status = chakra.config.pool().status()
        if status is not None and status[0] == status[1]:
            break
        await asyncio.sleep(0.01)
    return status


async def test_cancelled_flush_inside_begin_rolls_back(db: object) -> None:
    await User.objects.create(username="keep", email="e", balance=10)
    with pytest.raises(TimeoutError):
        async with Session() as s:
            async with s.begin():
                k = await s.get(User, 1)
                assert k is not None
                k.balance = 0
                s.add_all(many(20000, "x"))
                await asyncio.wait_for(s.flush(), timeout=0.005)
    assert await User.objects.count() == 1
    assert (await User.objects.get(id=1)).balance == 10
    status = await pool_settles()
    assert status is not None and status[0] == status[1], status
    # The pool still works for reads and writes.
    await User.objects.create(username="after", email="e")
    assert await User.objects.count() == 2


async def test_cancelled_task_mid_transaction(db: object) -> None:
    await User.objects.bulk_create(
        [User(username="a", email="e", balance=500), User(username="b", email="e", balance=100)]
    )

    async def transfer() -> None:
        async with Session() as s:
            async with s.begin():
                a = await s.get(User, 1)
                b = await s.get(User, 2)
                assert a is not None and b is not None
                a.balance -= 100
                b.balance += 100
                await s.flush()
                s.add_all(many(20000, "y"))
                await s.flush()
                await asyncio.sleep(10)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(transfer(), timeout=0.05)
    assert await User.objects.order_by("id").values_list("balance", flat=True) == [500, 100]
    assert await User.objects.count() == 2
    status = await pool_settles()
    assert status is not None and status[0] == status[1], status


async def test_cancelled_plain_queries_leave_the_pool_usable(db: object) -> None:
    await User.objects.bulk_create(many(3000, "z"))
    timeouts = 0
    for i in range(5):
        # Whether each one is cut short depends on timing; consistency must hold either way.
        try:
            await asyncio.wait_for(User.objects.all(), timeout=0.0005)
        except TimeoutError:
            timeouts += 1
        try:
            await asyncio.wait_for(User.objects.bulk_create(many(2000, f"w{i}_")), timeout=0.001)
        except TimeoutError:
            timeouts += 1
    assert timeouts > 0
    status = await pool_settles()
    assert status is not None and status[0] == status[1], status
    n = await User.objects.count()
    # A cancelled bulk insert either committed whole or not at all.
    assert (n - 3000) % 2000 == 0
    assert len(await User.objects.all()) == n
