"""``bulk_create(batch_size=…)`` and ``bulk_update(batch_size=…)``, as in Django: at most
``batch_size`` objects per statement, every statement in one transaction (the surrounding
one, or one of its own), so a batch that fails leaves none of the others; a batch size that
is not a positive integer is a ``ValueError`` before any SQL."""

from __future__ import annotations

import math
from typing import Any

import chakra
import pytest
from chakra import errors
from models import User


def inserts(records: list[Any]) -> int:
    """How many INSERT statements the ``chakra.sql`` logger recorded."""
    return sum(
        1
        for r in records
        if r.name == "chakra.sql" and r.sql.lstrip().upper().startswith("INSERT")  # type: ignore[attr-defined]
    )


def updates(records: list[Any]) -> int:
    """How many UPDATE statements the ``chakra.sql`` logger recorded."""
    return sum(
        1
        for r in records
        if r.name == "chakra.sql" and r.sql.lstrip().upper().startswith("UPDATE")  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("n,size", [(50, 7), (21, 7), (3, 10), (1, 1)])
async def test_bulk_create_in_batches(
    db: object, caplog: pytest.LogCaptureFixture, n: int, size: int
) -> None:
    made = [User(username=f"u{i}", email=f"u{i}@x", balance=i * 3 - 5) for i in range(n)]
    with caplog.at_level("DEBUG", logger="chakra.sql"):
        objs = await User.objects.bulk_create(made, batch_size=size)
    assert objs == made
    # One statement per batch (the transaction's BEGIN/COMMIT are not INSERTs).
    assert inserts(caplog.records) == math.ceil(n / size)
    keys = [o.id for o in made]
    assert None not in keys and len(set(keys)) == n
    rows = await User.objects.values_list("id", "username", "email", "balance")
    assert sorted(rows) == sorted((o.id, o.username, o.email, o.balance) for o in made)


async def test_a_failing_batch_leaves_none_of_them(db: object) -> None:
    await User.objects.create(username="taken", email="t@x")
    # The third batch of 5 holds a username already in the table.
    made = [User(username=f"u{i}", email="e@x") for i in range(12)]
    made.append(User(username="taken", email="dup@x"))
    with pytest.raises(errors.UniqueViolation):
        await User.objects.bulk_create(made, batch_size=5)
    assert await User.objects.values_list("username", flat=True) == ["taken"]
    # The synchronous twin, the same.
    with pytest.raises(errors.UniqueViolation):
        User.objects.bulk_create_sync(made, batch_size=5)
    assert await User.objects.count() == 1


async def test_batches_inside_a_session_roll_back_with_it(db: object) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with chakra.Session() as s:
            async with s.begin():
                await User.objects.bulk_create(
                    [User(username=f"s{i}", email="s@x") for i in range(9)], batch_size=2
                )
                assert await User.objects.count() == 9
                raise Boom
    assert await User.objects.count() == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
async def test_batch_size_must_be_a_positive_integer(
    db: object, caplog: pytest.LogCaptureFixture, bad: Any
) -> None:
    u = await User.objects.create(username="a", email="a@x")
    with caplog.at_level("DEBUG", logger="chakra.sql"):
        with pytest.raises(ValueError, match="positive integer"):
            await User.objects.bulk_create([User(username="b", email="b@x")], batch_size=bad)
        with pytest.raises(ValueError, match="positive integer"):
            User.objects.bulk_create_sync([User(username="b", email="b@x")], batch_size=bad)
        with pytest.raises(ValueError, match="positive integer"):
            await User.objects.bulk_update([u], ["email"], batch_size=bad)
        with pytest.raises(ValueError, match="positive integer"):
            User.objects.bulk_update_sync([u], ["email"], batch_size=bad)
    assert [r for r in caplog.records if r.name == "chakra.sql"] == []
    assert await User.objects.count() == 1


async def test_bulk_update_in_batches(db: object, caplog: pytest.LogCaptureFixture) -> None:
    made = await User.objects.bulk_create(
        [User(username=f"u{i}", email="old@x", balance=i) for i in range(10)]
    )
    for o in made:
        o.email = f"new{o.balance}@x"
        o.balance = o.balance * 10
    with caplog.at_level("DEBUG", logger="chakra.sql"):
        n = await User.objects.bulk_update(made, ["email", "balance"], batch_size=4)
    assert n == 10
    assert updates(caplog.records) == 3
    rows = await User.objects.values_list("username", "email", "balance")
    assert sorted(rows) == sorted((f"u{i}", f"new{i}@x", i * 10) for i in range(10))
    # The synchronous twin; a batch size larger than the list is one statement.
    for o in made:
        o.balance += 1
    assert User.objects.bulk_update_sync(made, ["balance"], batch_size=100) == 10
    assert sorted(await User.objects.values_list("balance", flat=True)) == [
        i * 10 + 1 for i in range(10)
    ]
