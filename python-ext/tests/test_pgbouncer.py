"""PostgreSQL through PgBouncer in transaction mode (``pooler=transaction``): many statement
shapes from many tasks, the sync API, sessions and transactions run right; migrations are
refused with a message naming the pooler. (``test_concurrency.py`` and ``test_cancel.py`` run
their tests through PgBouncer too.)"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import chakra
import pytest
from chakra import Session, migrate
from conftest import Db
from models import ALL, User

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def bouncer(new_db: Any) -> Any:
    """A database reached through PgBouncer, with the test models' tables."""
    d: Db = new_db("pgbouncer")
    assert d.pooled and "pooler=transaction" in d.url
    chakra.configure(d.url)
    await chakra.create_tables(*ALL)
    yield d
    chakra.close(d.url)


async def test_many_shapes_from_many_tasks(bouncer: Db) -> None:
    await User.objects.bulk_create(
        [User(username=f"u{i:03}", email=f"u{i}@x", balance=i % 7) for i in range(100)]
    )

    async def one(i: int) -> None:
        k = i % 100
        shape = i % 5
        if shape == 0:
            u = await User.objects.get(username=f"u{k:03}")
            assert u.balance == k % 7
        elif shape == 1:
            assert await User.objects.filter(balance=k % 7).count() == len(
                [j for j in range(100) if j % 7 == k % 7]
            )
        elif shape == 2:
            rows = await User.objects.filter(username__in=[f"u{k:03}", "nobody"]).all()
            assert len(rows) == 1
        elif shape == 3:
            rows = await User.objects.filter(username__startswith="u00").order_by("id").all()
            assert len(rows) == 10
        else:
            await User.objects.filter(username=f"u{k:03}").update(email=f"v{k}@x")

    await asyncio.gather(*(one(i) for i in range(400)))
    # Shape 4 ran for the 20 keys k ≡ 4 (mod 5).
    assert await User.objects.filter(email__startswith="v").count() == 20


async def test_sessions_and_transactions(bouncer: Db) -> None:
    async with Session() as s, s.begin():
        s.add_all([User(username=f"s{i}", email="e", balance=100) for i in range(20)])
    assert await User.objects.count() == 20

    async def move(tx: Session) -> None:
        a = await tx.get(User, 1)
        b = await tx.get(User, 2)
        assert a is not None and b is not None
        a.balance -= 30
        b.balance += 30

    await Session().transaction(move)
    assert [u.balance for u in await User.objects.filter(id__in=[1, 2]).order_by("id").all()] == [
        70,
        130,
    ]
    with pytest.raises(RuntimeError):
        async with Session() as s, s.begin():
            u = await s.get(User, 3)
            assert u is not None
            u.balance = 0
            raise RuntimeError("boom")
    assert (await User.objects.get(id=3)).balance == 100


def test_the_sync_api(new_db: Any) -> None:
    d: Db = new_db("pgbouncer")
    chakra.configure(d.url)
    chakra.create_tables_sync(*ALL)
    User.objects.create_sync(username="sync", email="e")
    assert User.objects.filter(username="sync").count_sync() == 1
    chakra.close(d.url)


def test_migrations_are_refused_behind_the_pooler(
    new_db: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    d: Db = new_db("pgbouncer")
    code = migrate.run("apply", database_url=d.url, dir=ROOT / "migrations", models=[])
    assert code != 0
    err = capfd.readouterr().err
    assert "pooler" in err and "directly" in err, err
