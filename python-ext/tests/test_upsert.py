"""Upsert on SQLite and PostgreSQL: ``bulk_create(update_conflicts=True, unique_fields=…,
update_fields=…)`` updates the conflicting rows (their keys written back) and
``ignore_conflicts=True`` skips them, as in Django; bad field names fail before any SQL."""

from __future__ import annotations

import pytest
from chakra import errors
from models import User


async def test_update_and_ignore_conflicts(db: object) -> None:
    await User.objects.bulk_create(
        [User(username="a", email="a@x", balance=1), User(username="b", email="b@x", balance=2)]
    )
    objs = await User.objects.bulk_create(
        [User(username="a", email="new@x", balance=10), User(username="c", email="c@x", balance=3)],
        update_conflicts=True,
        unique_fields=["username"],
        update_fields=["email", "balance"],
    )
    rows = await User.objects.order_by("username").values_list("username", "email", "balance")
    assert rows == [("a", "new@x", 10), ("b", "b@x", 2), ("c", "c@x", 3)]
    a = await User.objects.get(username="a")
    assert [o.id for o in objs] == [a.id, (await User.objects.get(username="c")).id]
    assert a.id == 1

    ignoring = [User(username="a", email="zzz@x"), User(username="d", email="d@x")]
    if db.backend == "mysql":  # type: ignore[attr-defined]
        # Refused by name before any SQL (docs/mysql.md), nothing written.
        with pytest.raises(errors.InvalidQuery, match="do_nothing"):
            await User.objects.bulk_create(ignoring, ignore_conflicts=True)
        assert await User.objects.count() == 3
        await User.objects.create(username="d", email="d@x")
    else:
        skipped = await User.objects.bulk_create(ignoring, ignore_conflicts=True)
        assert len(skipped) == 2
    assert (await User.objects.get(username="a")).email == "new@x"
    assert await User.objects.count() == 4
    User.objects.bulk_create_sync(
        [User(username="d", email="d2@x")],
        update_conflicts=True,
        unique_fields=["username"],
        update_fields=["email"],
    )
    assert (await User.objects.get(username="d")).email == "d2@x"


async def test_bad_upserts_fail_before_any_sql() -> None:
    with pytest.raises(errors.UnknownField):
        await User.objects.bulk_create(
            [User(username="a", email="e")],
            update_conflicts=True,
            unique_fields=["username"],
            update_fields=["nope"],
        )
    with pytest.raises(errors.InvalidQuery):
        await User.objects.bulk_create(
            [User(username="a", email="e")], update_conflicts=True, update_fields=["email"]
        )
    with pytest.raises(errors.InvalidQuery):
        await User.objects.bulk_create([User(username="a", email="e")], update_conflicts=True)
    with pytest.raises(errors.InvalidQuery):
        await User.objects.bulk_create(
            [User(username="a", email="e")], update_conflicts=True, ignore_conflicts=True
        )


async def test_bulk_create_without_returning_ids(db: object) -> None:
    from chakra import errors
    from models import User

    objs = [User(username=f"r{i}", email="e") for i in range(1500)]
    out = await User.objects.bulk_create(objs, return_ids=False)
    assert out is not None and all(o.id is None for o in objs)
    assert await User.objects.count() == 1500
    more = [User(username=f"s{i}", email="e") for i in range(3)]
    User.objects.bulk_create_sync(more, return_ids=False)
    assert await User.objects.count() == 1503
    try:
        await User.objects.bulk_create(more, return_ids=False, ignore_conflicts=True)
    except errors.InvalidQuery as e:
        assert "return_ids" in str(e)
    else:
        raise AssertionError("return_ids=False with ignore_conflicts was accepted")
