"""The QuerySet API end to end on both backends."""

from __future__ import annotations

import asyncio

import pytest
from chakra import F, Q
from models import Thing, User


async def users(n: int = 5) -> list[User]:
    return await User.objects.bulk_create(
        [User(username=f"user{i}", email=f"u{i % 2}@x", balance=i * 10) for i in range(n)]
    )


async def test_bulk_create_sets_keys_and_defaults(db: object) -> None:
    made = await users(3)
    assert [u.id for u in made] == [1, 2, 3]
    assert all(u.is_active is True and u.created_at is not None for u in made)
    assert await User.objects.count() == 3
    assert await User.objects.bulk_create([]) == []


class _Name(str):
    """A ``str`` subclass: stored as text, read back as a plain ``str``."""


async def test_bulk_create_leaves_objects_holding_what_was_stored(db: object) -> None:
    """After ``bulk_create`` every field of every object equals, with the same type, what
    a fresh read returns: values the field converts (a naive datetime made UTC, a decimal
    given the column's scale, a ``str`` subclass) are written back from the inserted row;
    plain ``str``/``int``/``bool``/``float``/``None`` values already are what was stored."""
    from datetime import datetime
    from decimal import Decimal

    objs = [
        Thing(
            name=_Name(f"thing{i}"),
            nick=None if i % 2 else f"n{i}",
            n=i,
            big=2**40 + i,
            flag=bool(i % 2),
            score=i / 3,
            price=Decimal("1.5") + i,
            at=datetime(2024, 5, 1, 12, 30, i),
        )
        for i in range(5)
    ]
    await Thing.objects.bulk_create(objs)
    stored = await Thing.objects.order_by("id").all()
    assert [o.id for o in objs] == [s.id for s in stored]
    for mine, theirs in zip(objs, stored, strict=True):
        for name in Thing._fields:
            a, b = getattr(mine, name), getattr(theirs, name)
            assert (a, type(a)) == (b, type(b)), (name, a, b)
    assert objs[0].price == Decimal("1.50")
    assert objs[0].at is not None and objs[0].at.tzinfo is not None

    # Datetimes already in UTC (with microseconds) are what is stored: they stay in place.
    from datetime import timezone

    aware = [
        Thing(name=f"aware{i}", at=datetime(2024, 5, 2, 1, 2, 3, 456789 + i, tzinfo=timezone.utc))
        for i in range(3)
    ]
    await Thing.objects.bulk_create(aware)
    again = await Thing.objects.filter(name__startswith="aware").order_by("id").all()
    assert [(a.id, a.at) for a in aware] == [(b.id, b.at) for b in again]
    assert all(a.at is not None and a.at.tzinfo is timezone.utc for a in aware)


async def test_bulk_create_large_batches_are_chunked(db: object) -> None:
    objs = [User(username=f"u{i}", email="e") for i in range(6000)]
    await User.objects.bulk_create(objs)
    assert objs[-1].id == 6000
    assert await User.objects.count() == 6000


async def test_order_limit_offset_slicing(db: object) -> None:
    await users(6)
    ids = await User.objects.order_by("-balance").values_list("id", flat=True)
    assert ids == [6, 5, 4, 3, 2, 1]
    assert await User.objects.order_by("id").limit(2).offset(1).values_list("id", flat=True) == [
        2,
        3,
    ]
    qs = User.objects.order_by("id")
    assert [u.id for u in await qs[2:4].all()] == [3, 4]
    assert [u.id for u in await qs[1:][1:3].all()] == [3, 4]
    assert [u.id for u in await qs[:3][1:].all()] == [2, 3]
    assert [u.id for u in await qs[4:].all()] == [5, 6]
    assert (await qs[3]).id == 4
    with pytest.raises(IndexError):
        await qs[10]
    assert await User.objects.order_by("email", "-id").values_list("id", flat=True) == [
        5,
        3,
        1,
        6,
        4,
        2,
    ]


async def test_first_last_exists_count(db: object) -> None:
    assert await User.objects.first() is None
    assert await User.objects.exists() is False
    await users(3)
    first = await User.objects.first()
    last = await User.objects.last()
    assert first is not None and first.id == 1
    assert last is not None and last.id == 3
    assert (await User.objects.order_by("-id").first()).id == 3  # type: ignore[union-attr]
    assert await User.objects.filter(balance__gt=5).exists() is True
    assert await User.objects.filter(balance__gt=500).exists() is False
    assert await User.objects.filter(email="u0@x").count() == 2
    assert await User.objects.order_by("id").limit(2).count() == 2


async def test_values_and_values_list(db: object) -> None:
    await users(3)
    rows = await User.objects.order_by("id").values("id", "username")
    assert rows == [
        {"id": 1, "username": "user0"},
        {"id": 2, "username": "user1"},
        {"id": 3, "username": "user2"},
    ]
    full = await User.objects.filter(id=1).values()
    assert set(full[0]) == {"id", "username", "email", "created_at", "is_active", "balance"}
    tuples = await User.objects.order_by("id").values_list("id", "balance")
    assert tuples == [(1, 0), (2, 10), (3, 20)]
    assert await User.objects.order_by("id").values_list("pk", flat=True).all() == [1, 2, 3]


async def test_distinct(db: object) -> None:
    await users(4)
    emails = await User.objects.order_by("email").values_list("email", flat=True).distinct()
    assert emails == ["u0@x", "u1@x"]
    assert await User.objects.values_list("email", flat=True).distinct().count() == 2


async def test_get_or_create_and_update_or_create(db: object) -> None:
    u, created = await User.objects.get_or_create(username="x", defaults={"email": "x@x"})
    assert created and u.id == 1 and u.email == "x@x"
    u2, created = await User.objects.get_or_create(username="x", defaults={"email": "other"})
    assert not created and u2.id == 1 and u2.email == "x@x"
    u3, created = await User.objects.update_or_create(username="x", defaults={"balance": 7})
    assert not created and u3.balance == 7
    assert (await User.objects.get(username="x")).balance == 7
    u4, created = await User.objects.update_or_create(
        username="y", defaults={"email": "y@y", "balance": 1}
    )
    assert created and u4.id == 2
    assert await User.objects.count() == 2


async def test_update_with_f_and_delete(db: object) -> None:
    await users(4)
    n = await User.objects.filter(balance__gte=10).update(balance=F("balance") - 100)
    assert n == 3
    assert await User.objects.order_by("id").values_list("balance", flat=True) == [
        0,
        -90,
        -80,
        -70,
    ]
    assert await User.objects.update(is_active=False) == 4
    assert await User.objects.filter(is_active=True).count() == 0
    assert await User.objects.filter(Q(id=1) | Q(id=4)).delete() == 2
    assert await User.objects.order_by("id").values_list("id", flat=True) == [2, 3]
    # Sliced writes touch exactly the sliced rows.
    assert await User.objects.order_by("-id")[:1].update(balance=5) == 1
    assert (await User.objects.get(id=3)).balance == 5
    assert await User.objects.order_by("id")[:1].delete() == 1
    assert await User.objects.values_list("id", flat=True) == [3]


async def test_async_for_and_await_queryset(db: object) -> None:
    await users(3)
    seen = [u.username async for u in User.objects.filter(id__lte=2).order_by("id")]
    assert seen == ["user0", "user1"]
    assert len(await User.objects.filter(id__gt=1)) == 2


async def test_model_save_and_delete(db: object) -> None:
    u = User(username="s", email="e")
    await u.save()
    assert u.id == 1
    u.balance = 42
    await u.save()
    assert (await User.objects.get(id=1)).balance == 42
    await u.delete()
    assert await User.objects.count() == 0


async def test_hydrated_instances_are_plain_objects(db: object) -> None:
    await users(2)
    u = await User.objects.get(id=1)
    assert type(u) is User
    assert set(vars(u)) == {"id", "username", "email", "created_at", "is_active", "balance"}
    assert u == await User.objects.get(username="user0")
    assert "User(id=1" in repr(u)
    t = Thing(name="x")
    assert t.n is None and t.big == 0 and t.flag is False


async def test_concurrent_queries_share_the_bridge(db: object) -> None:
    await users(5)
    results = await asyncio.gather(*(User.objects.filter(id=i).count() for i in range(1, 21)))
    assert results == [1] * 5 + [0] * 15


def test_asyncio_run_of_a_queryset_method(new_db: object) -> None:
    import chakra
    from models import ALL

    d = new_db("sqlite")  # type: ignore[operator]
    chakra.configure(d.url)
    chakra.create_tables_sync(*ALL)
    asyncio.run(User.objects.create(username="a", email="e"))
    got = asyncio.run(User.objects.all())
    assert [u.username for u in got] == ["a"]
    assert asyncio.run(User.objects.count()) == 1
    chakra.close()


async def test_database_now_default(db: object) -> None:
    from datetime import datetime, timedelta, timezone

    import chakra
    from chakra import NOW, DateTime, Field, Model, String

    class Stamped(Model):
        __tablename__ = "stamped"
        name = Field(String(10))
        at = Field(DateTime, default=NOW)

    assert "DEFAULT now()" in chakra.create_table_sql(Stamped, "postgres")[0]
    await chakra.create_tables(Stamped)
    s = Stamped(name="x")
    assert s.at is None
    await s.save()
    assert isinstance(s.at, datetime)
    assert abs(s.at - datetime.now(timezone.utc)) < timedelta(minutes=5)
    got = await Stamped.objects.get(name="x")
    assert got.at == s.at


async def test_large_results_leave_the_garbage_collector_as_it_was(db: object) -> None:
    """The collector is paused while a large result is converted, then restored."""
    import gc

    from models import User

    await User.objects.bulk_create(
        [User(username=f"gc{i}", email="e") for i in range(300)], return_ids=False
    )
    assert gc.isenabled()
    assert len(await User.objects.all()) == 300
    assert gc.isenabled()
    gc.disable()
    try:
        assert len(await User.objects.all()) == 300
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_mysql_sql_and_ddl_by_any_spelling() -> None:
    import chakra

    qs = User.objects.filter(balance__gte=3).order_by("id").values_list("id", flat=True)
    # Hand-written: `?` placeholders, double-quoted identifiers (ANSI_QUOTES, docs/mysql.md)
    # and NULLs sorted last by `(x IS NULL)`.
    expected = (
        'SELECT "users"."id" FROM "users" WHERE "users"."balance" >= ? '
        'ORDER BY ("users"."id" IS NULL), "users"."id"'
    )
    assert qs.sql("mysql") == qs.sql("mariadb") == qs.sql("MySQL") == expected
    (ddl,) = chakra.create_table_sql(User, "mariadb")
    assert ddl.startswith('CREATE TABLE "users" ("id" INTEGER AUTO_INCREMENT PRIMARY KEY, ')
    assert '"created_at" DATETIME(6) NOT NULL' in ddl
    assert 'CONSTRAINT "users_username_key" UNIQUE ("username")' in ddl
    assert ddl.endswith(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")


async def test_raw_sql_placeholders_are_checked_for_mysql(new_db: object) -> None:
    import chakra

    d = new_db("mysql")  # type: ignore[operator]
    chakra.configure(d.url)
    try:
        # `%s` becomes `?`; a `%s` inside a literal stays text; counts are checked first.
        rows = await chakra.fetch("SELECT %s + 1 AS n, '50%s' AS t", [41])
        assert rows == [(42, "50%s")]
        with pytest.raises(chakra.errors.InvalidQuery):
            await chakra.fetch("SELECT %s, %s", [1])
    finally:
        chakra.close()
