"""``bulk_update(objs, fields)`` on SQLite and PostgreSQL: one statement whatever the number
of rows, every canonical type written back exactly, the count returned; bad fields fail
before any SQL."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from chakra import errors
from models import Thing, User


async def test_bulk_update_writes_each_rows_values(db: object) -> None:
    things = await Thing.objects.bulk_create([Thing(name=f"t{i}", n=i) for i in range(5)])
    at = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    for i, t in enumerate(things):
        t.n = None if i == 2 else i * 10
        t.price = Decimal(f"{i}.05")
        t.flag = i % 2 == 0
        t.score = i / 4
        t.at = at
        t.day = date(2024, 1, i + 1)
        t.data = {"i": i, "s": "x"}
    fields = ["n", "price", "flag", "score", "at", "day", "data"]
    assert await Thing.objects.bulk_update(things[1:], fields) == 4
    rows = await Thing.objects.order_by("id")
    assert [t.n for t in rows] == [0, 10, None, 30, 40]
    assert [t.price for t in rows] == [None, *(Decimal(f"{i}.05") for i in range(1, 5))]
    assert [t.flag for t in rows] == [False, False, True, False, True]
    assert [t.score for t in rows][1:] == [0.25, 0.5, 0.75, 1.0]
    assert all(t.at == at for t in rows[1:])
    assert [t.day for t in rows][1:] == [date(2024, 1, i + 1) for i in range(1, 5)]
    assert [t.data for t in rows][1:] == [{"i": i, "s": "x"} for i in range(1, 5)]
    assert await Thing.objects.bulk_update([], ["n"]) == 0
    users = [User(username=f"u{i}", email="e") for i in range(3)]
    User.objects.bulk_create_sync(users)
    for u in users:
        u.balance = u.id * 7
    assert User.objects.bulk_update_sync(users, ["balance"]) == 3
    assert await User.objects.order_by("id").values_list("balance", flat=True) == [7, 14, 21]


async def test_bad_bulk_updates_fail_before_any_sql() -> None:
    t = Thing(name="x")
    t.id = 1
    with pytest.raises(errors.UnknownField):
        await Thing.objects.bulk_update([t], ["nope"])
    with pytest.raises(errors.InvalidQuery):
        await Thing.objects.bulk_update([t], ["id"])
    with pytest.raises(errors.InvalidQuery):
        await Thing.objects.bulk_update([Thing(name="no key")], ["name"])
    with pytest.raises(errors.InvalidQuery):
        await Thing.objects.bulk_update([t], [])
    with pytest.raises(errors.InvalidQuery):
        await Thing.objects.bulk_update([t], ["tags"])
