"""Session: identity map, dirty tracking, commit/rollback, begin() blocks and savepoints."""

from __future__ import annotations

import pytest
from chakra import Session, errors
from models import Post, User


async def two_users() -> None:
    await User.objects.bulk_create(
        [User(username="a", email="a", balance=500), User(username="b", email="b", balance=100)]
    )


async def balances() -> list[int]:
    return await User.objects.order_by("id").values_list("balance", flat=True).all()


async def test_identity_map_gives_one_object_per_row(db: object) -> None:
    await two_users()
    async with Session() as s:
        a1 = await s.get(User, 1)
        a2 = await s.get(User, 1)
        assert a1 is a2
        assert await s.get(User, 99) is None
        u = User(username="c", email="c")
        s.add(u)
        await s.commit()
        assert await s.get(User, u.id) is u


async def test_dirty_tracking_writes_only_changed_objects(db: object) -> None:
    await two_users()
    async with Session() as s:
        a = await s.get(User, 1)
        b = await s.get(User, 2)
        assert a is not None and b is not None
        a.email = "changed"
        await s.commit()
    rows = await User.objects.order_by("id").values_list("email", flat=True)
    assert rows == ["changed", "b"]


async def test_uncommitted_work_is_rolled_back_on_close(db: object) -> None:
    await two_users()
    async with Session() as s:
        a = await s.get(User, 1)
        assert a is not None
        a.balance = 0
        s.add(User(username="c", email="c"))
        await s.flush()
    assert await balances() == [500, 100]
    assert await User.objects.count() == 2


async def test_explicit_rollback_makes_inserted_objects_new_again(db: object) -> None:
    async with Session() as s:
        u = User(username="c", email="c")
        s.add(u)
        await s.flush()
        assert u.id is not None
        await s.rollback()
        assert u.id is None
        s.add(u)
        await s.commit()
        assert u.id is not None
    assert await User.objects.count() == 1


async def test_delete_and_add_all(db: object) -> None:
    await two_users()
    async with Session() as s:
        s.add_all([User(username="c", email="c"), Post(title="t", author_id=1)])
        b = await s.get(User, 2)
        assert b is not None
        s.delete(b)
        await s.commit()
    assert await User.objects.order_by("id").values_list("username", flat=True) == ["a", "c"]
    assert await Post.objects.count() == 1


async def test_begin_commits_on_exit_and_rolls_back_on_exception(db: object) -> None:
    await two_users()
    async with Session() as s:
        async with s.begin():
            a = await s.get(User, 1)
            assert a is not None
            a.balance -= 100
    assert await balances() == [400, 100]
    with pytest.raises(ZeroDivisionError):
        async with Session() as s:
            async with s.begin():
                a = await s.get(User, 1)
                assert a is not None
                a.balance -= 100
                await s.flush()
                _ = 1 / 0
    assert await balances() == [400, 100]


async def test_nested_begin_is_a_savepoint(db: object) -> None:
    await two_users()
    async with Session() as s:
        async with s.begin():
            a = await s.get(User, 1)
            assert a is not None
            a.balance = 1
            with pytest.raises(RuntimeError):
                async with s.begin():
                    b = await s.get(User, 2)
                    assert b is not None
                    b.balance = 2
                    s.add(User(username="gone", email="x"))
                    await s.flush()
                    raise RuntimeError("inner only")
            async with s.begin():
                s.add(User(username="kept", email="x"))
    assert await balances() == [1, 100, 0]
    names = await User.objects.order_by("id").values_list("username", flat=True)
    assert "gone" not in names and "kept" in names


async def test_unique_violation_inside_begin_rolls_back_everything(db: object) -> None:
    await two_users()
    with pytest.raises(errors.UniqueViolation):
        async with Session() as s:
            async with s.begin():
                a = await s.get(User, 1)
                assert a is not None
                a.balance = 0
                s.add(User(username="a", email="dup"))
    assert await balances() == [500, 100]
    assert await User.objects.count() == 2
