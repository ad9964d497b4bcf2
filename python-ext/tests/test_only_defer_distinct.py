"""``only()`` / ``defer()`` (deferred fields raise ``NotLoaded`` naming model and field; the
primary key is always loaded) and ``distinct("field")`` (PostgreSQL's ``DISTINCT ON``; a
named error on SQLite and for an ordering not starting with the fields), on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from chakra import errors
from models import User


async def _seed() -> None:
    await User.objects.bulk_create(
        [
            User(username="ann", email="a@x", balance=10),
            User(username="bob", email="b@x", balance=10),
            User(username="cid", email="c@x", balance=30),
        ]
    )


async def test_only_and_defer(db: object) -> None:
    await _seed()
    users = await User.objects.only("username").order_by("id")
    assert [(u.id, u.username) for u in users] == [(1, "ann"), (2, "bob"), (3, "cid")]
    with pytest.raises(errors.NotLoaded, match=r"User\.email") as e:
        _ = users[0].email
    assert e.value.model == "User" and e.value.field == "email"
    assert "email=None" in repr(users[0])
    # Setting a deferred field makes it readable.
    users[0].email = "new@x"
    assert users[0].email == "new@x"

    u = await User.objects.defer("email", "balance").get(username="bob")
    assert u.username == "bob" and u.is_active is True
    with pytest.raises(errors.NotLoaded, match=r"User\.balance"):
        _ = u.balance
    first = User.objects.defer("email").order_by("-id").first_sync()
    assert first is not None and first.id == 3
    with pytest.raises(errors.NotLoaded):
        _ = first.email
    # The primary key is always loaded; only() replaces, defer() adds.
    u = await User.objects.defer("id", "username").get(id=1)
    assert u.id == 1
    u = await User.objects.defer("email").only("email").get(id=1)
    assert u.email == "a@x"
    with pytest.raises(errors.NotLoaded):
        _ = u.username
    # Streaming honours it too.
    got = [u async for u in User.objects.only("balance").iterator(chunk_size=2)]
    assert [x.balance for x in got] == [10, 10, 30]
    with pytest.raises(errors.NotLoaded):
        _ = got[2].username
    # The deferred columns are selected as NULLs.
    assert "email" in User.objects.only("username").sql()


async def test_only_defer_errors_before_any_sql(db: object) -> None:
    with pytest.raises(errors.UnknownField):
        User.objects.only("nope")
    with pytest.raises(errors.UnknownField):
        User.objects.defer("username", "nope")
    with pytest.raises(errors.InvalidQuery, match="select_related"):
        User.objects.only("username").prefetch_related("posts")


async def test_distinct_on(db: object) -> None:
    await _seed()
    qs = User.objects.distinct("balance").order_by("balance", "-username")
    if db.backend == "sqlite":  # type: ignore[attr-defined]
        with pytest.raises(errors.InvalidQuery, match="PostgreSQL"):
            await qs
        return
    assert [u.username for u in await qs] == ["bob", "cid"]
    assert await qs.count() == 2
    assert [u.username async for u in qs.iterator(chunk_size=1)] == ["bob", "cid"]
    assert len(await User.objects.distinct("balance")) == 2
    with pytest.raises(errors.InvalidQuery, match="must start with"):
        await User.objects.distinct("balance").order_by("username")
    with pytest.raises(errors.UnknownField):
        User.objects.distinct("nope")
