"""Raw SQL on SQLite and PostgreSQL: ``Model.objects.raw(sql, params)`` (instances, columns
matched to fields by name) and ``chakra.execute(sql, params)`` (affected rows). ``%s``
placeholders only, every value bound: hostile strings stay data, counts are checked before
any SQL, quoted ``%s`` is text and ``%%`` a literal ``%``."""

from __future__ import annotations

import chakra
import pytest
from chakra import errors
from models import User

HOSTILE = "x'); DROP TABLE users; -- %s %%"


async def _seed() -> None:
    await User.objects.bulk_create(
        [
            User(username="ann", email="a@x", balance=10),
            User(username=HOSTILE, email="h@x", balance=20),
            User(username="bob", email="b@x", balance=30),
        ]
    )


async def test_raw_returns_instances_with_bound_values(db: object) -> None:
    await _seed()
    users = await User.objects.raw(
        # `users.*`: MySQL takes a bare `*` only as the first item.
        "SELECT 'lit %s' AS extra, users.* FROM users WHERE username = %s OR balance >= %s "
        "ORDER BY id",
        [HOSTILE, 30],
    )
    assert [u.username for u in users] == [HOSTILE, "bob"]
    assert isinstance(users[0], User) and users[0].balance == 20 and users[0].is_active is True
    assert users[0].id is not None
    # Reordered and extra columns, %% as a literal %, a %s inside a comment.
    users = User.objects.raw_sync(
        "SELECT email, id, username, created_at, is_active, balance /* %s */ FROM users "
        "WHERE username LIKE %s AND balance % 7 = %s ORDER BY id",
        ["%n%", 3],
    )
    assert [u.username for u in users] == ["ann"]
    assert await User.objects.count() == 3


async def test_execute_returns_affected_rows(db: object) -> None:
    await _seed()
    n = await chakra.execute("UPDATE users SET balance = balance + %s WHERE balance < %s", [1, 25])
    assert n == 2
    assert chakra.execute_sync("DELETE FROM users WHERE username = %s", [HOSTILE]) == 1
    assert await User.objects.order_by("id").values_list("balance", flat=True) == [11, 30]
    assert await chakra.execute("UPDATE users SET email = 'a%%b' WHERE id = %s", [1]) == 1
    assert (await User.objects.get(id=1)).email == "a%%b"  # quoted text is passed as written
    assert await chakra.execute("UPDATE users SET email = %s || '%%' WHERE id = %s", ["p", 1]) == 1
    assert (await User.objects.get(id=1)).email == "p%%"


async def test_raw_errors_before_any_sql(db: object) -> None:
    await _seed()
    with pytest.raises(errors.InvalidQuery, match=r"expects 2 parameters.*1 was given"):
        await User.objects.raw("SELECT * FROM users WHERE id = %s AND balance = %s", [1])
    with pytest.raises(errors.InvalidQuery, match="expects 0 parameters"):
        await chakra.execute("DELETE FROM users WHERE username = '%s'", ["ann"])
    with pytest.raises(errors.InvalidQuery, match="list or tuple"):
        await chakra.execute("DELETE FROM users WHERE username = %s", "ann")  # type: ignore[arg-type]
    with pytest.raises(errors.BadValue):
        await chakra.execute("DELETE FROM users WHERE username = %s", [object()])
    with pytest.raises(errors.DecodeError, match=r"User\.email"):
        await User.objects.raw("SELECT id, username FROM users")
    assert await User.objects.count() == 3


async def test_raw_through_a_session_joins_it(db: object) -> None:
    await _seed()
    async with chakra.Session() as s, s.begin():
        [u] = await s.query(User).raw("SELECT * FROM users WHERE username = %s", ["ann"])
        assert u is await s.get(User, u.id)


async def test_fetch_returns_plain_rows_with_bound_values(db: object) -> None:
    await _seed()
    sql = (
        "SELECT username, balance, 'lit %s' AS lit FROM users "
        "WHERE username = %s OR balance >= %s ORDER BY id"
    )
    rows = await chakra.fetch(sql, [HOSTILE, 30])
    assert rows == [(HOSTILE, 20, "lit %s"), ("bob", 30, "lit %s")]
    dicts = await chakra.fetch(sql, [HOSTILE, 30], dicts=True)
    assert dicts == [
        {"username": HOSTILE, "balance": 20, "lit": "lit %s"},
        {"username": "bob", "balance": 30, "lit": "lit %s"},
    ]
    assert chakra.fetch_sync("SELECT COUNT(*) AS n FROM users", dicts=True) == [{"n": 3}]
    with pytest.raises(errors.InvalidQuery):
        await chakra.fetch("SELECT * FROM users WHERE id = %s", [])
