"""The everyday helpers a Django user reaches for, each async and ``_sync``, on SQLite and
PostgreSQL: ``none()``, ``in_bulk``, ``latest``/``earliest``, ``save(update_fields=…)``,
``refresh_from_db``, ``session.refresh``, ``exists()`` on related managers and the
``Paginator`` (two statements at most per page; keyset reads for the next page). Expected
rows are computed in Python from the rows inserted."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import chakra
import pytest
from chakra import Count, Paginator, Sum, errors
from models import Post, User

# (username, email, balance, is_active)
ROWS = [
    ("ann", "a@x", 30, True),
    ("bob", "b@x", 10, False),
    ("cat", "a@x", 20, True),
    ("dan", "d@x", 10, True),
    ("eve", "e@x", 50, False),
    ("fay", "a@x", 20, True),
    ("gus", "g@x", 40, True),
]


async def _fill() -> list[User]:
    return await User.objects.bulk_create(
        [User(username=u, email=e, balance=b, is_active=a) for u, e, b, a in ROWS]
    )


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements the ``chakra.sql`` logger reports inside the block."""
    seen: list[str] = []

    class H(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.sql)  # type: ignore[attr-defined]

    logger = logging.getLogger("chakra.sql")
    h, old = H(logging.DEBUG), logger.level
    logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(h)
        logger.setLevel(old)


async def test_none_answers_as_an_empty_table(db: Any) -> None:
    await _fill()
    empty = User.objects.filter(balance__gt=0).none()
    assert await empty == [] and empty.all_sync() == []
    assert await empty.count() == 0 and not await empty.exists()
    assert await empty.first() is None and await empty.filter(username="ann").last() is None
    assert await empty.aggregate(n=Count("id"), s=Sum("balance")) == {"n": 0, "s": None}
    assert await empty.update(balance=0) == 0 and await empty.delete() == 0
    assert await empty.values("email").annotate(n=Count("id")) == []
    with pytest.raises(User.DoesNotExist):
        await empty.get(username="ann")
    assert await User.objects.count() == len(ROWS)  # nothing was touched


async def test_in_bulk(db: Any) -> None:
    users = await _fill()
    ids = [users[0].id, users[3].id, 10**9]
    got = await User.objects.in_bulk(ids)
    assert sorted(got) == sorted(ids[:2]) and got[users[3].id].username == "dan"
    assert set(User.objects.in_bulk_sync()) == {u.id for u in users}
    by_name = await User.objects.filter(is_active=True).in_bulk(
        ["ann", "bob", "cat"], field_name="username"
    )
    assert sorted(by_name) == ["ann", "cat"]  # bob is inactive
    with statements() as seen:
        assert await User.objects.in_bulk([]) == {}
    assert seen == []
    with pytest.raises(errors.InvalidQuery, match="unique field"):
        await User.objects.in_bulk(["a@x"], field_name="email")


async def test_latest_and_earliest(db: Any) -> None:
    await _fill()
    by_balance_then_name = sorted(ROWS, key=lambda r: (r[2], r[0]))
    assert (await User.objects.latest("balance", "username")).username == by_balance_then_name[-1][
        0
    ]
    assert (await User.objects.earliest("balance", "username")).username == by_balance_then_name[0][
        0
    ]
    assert User.objects.filter(email="a@x").latest_sync("-username").username == "ann"
    with pytest.raises(User.DoesNotExist):
        await User.objects.filter(balance__gt=1000).latest("balance")
    with pytest.raises(errors.InvalidQuery, match="field"):
        await User.objects.latest()


async def test_save_update_fields_writes_only_those(db: Any) -> None:
    await _fill()
    a = await User.objects.get(username="ann")
    b = await User.objects.get(username="ann")
    a.balance = 99
    b.email = "new@x"
    await b.save(update_fields=["email"])
    a.email = "ignored@x"
    await a.save(update_fields=["balance"])
    fresh = await User.objects.get(username="ann")
    assert (fresh.balance, fresh.email) == (99, "new@x")
    with statements() as seen:
        a.save_sync(update_fields=[])
    assert seen == []
    with pytest.raises(errors.UnknownField, match="nope"):
        await a.save(update_fields=["nope"])
    with pytest.raises(errors.InvalidQuery, match="new User"):
        await User(username="zed", email="z").save(update_fields=["email"])


async def test_refresh_from_db(db: Any) -> None:
    await _fill()
    u = await User.objects.get(username="bob")
    await User.objects.filter(id=u.id).update(balance=77, email="b2@x")
    u.email = "local"
    await u.refresh_from_db(fields=["balance"])
    assert (u.balance, u.email) == (77, "local")
    u.refresh_from_db_sync()
    assert u.email == "b2@x"
    partial = await User.objects.only("username").get(id=u.id)
    with pytest.raises(errors.NotLoaded):
        _ = partial.balance
    await partial.refresh_from_db(fields=["balance"])
    assert partial.balance == 77
    with pytest.raises(errors.NotLoaded):
        _ = partial.email
    await User.objects.filter(id=u.id).delete()
    with pytest.raises(User.DoesNotExist):
        await u.refresh_from_db()


async def test_refresh_drops_a_stale_related_object(db: Any) -> None:
    ann, bob = await User.objects.bulk_create([User(username=n, email="e") for n in ("a", "b")])
    post = await Post.objects.create(title="t", author_id=ann.id)
    post = await Post.objects.select_related("author").get(id=post.id)
    assert post.author.username == "a"
    await Post.objects.filter(id=post.id).update(author_id=bob.id)
    await post.refresh_from_db()
    assert post.author_id == bob.id
    with pytest.raises(errors.NotLoaded):
        _ = post.author


async def test_session_refresh_forgets_unsaved_changes(db: Any) -> None:
    await _fill()
    async with chakra.Session() as session:
        u = await session.query(User).get(username="cat")
        u.balance = 1
        await User.objects.filter(id=u.id).update(email="elsewhere@x")
        await session.refresh(u)
        assert (u.balance, u.email) == (20, "elsewhere@x")
        with statements() as seen:
            await session.commit()  # nothing changed since the refresh: nothing written
        assert not any(s.startswith("UPDATE") for s in seen), seen
        with pytest.raises(errors.InvalidQuery, match="not one of the session"):
            await session.refresh(User(username="x", email="x"))


async def test_related_manager_exists(db: Any) -> None:
    ann, bob = await User.objects.bulk_create([User(username=n, email="e") for n in ("a", "b")])
    await Post.objects.create(title="t", author_id=ann.id)
    assert await ann.posts.exists() and not await bob.posts.exists()
    assert ann.posts.exists_sync() and not bob.posts.exists_sync()


def _expected_pages(rows: list[tuple[Any, ...]], per_page: int, orphans: int) -> list[list[str]]:
    names = [r[0] for r in rows]
    n_pages = max(1, math.ceil(max(1, len(names) - orphans) / per_page))
    pages = []
    for p in range(n_pages):
        bottom, top = p * per_page, p * per_page + per_page
        if top + orphans >= len(names):
            top = len(names)
        pages.append(names[bottom:top])
    return pages


@pytest.mark.parametrize("orphans", [0, 1])
async def test_paginator_pages_match_django(db: Any, orphans: int) -> None:
    await _fill()
    order = sorted(ROWS, key=lambda r: (-r[2], r[0]))  # -balance, then username
    expected = _expected_pages(order, 3, orphans)
    paginator = Paginator(User.objects.order_by("-balance", "username"), 3, orphans=orphans)
    with statements() as seen:
        first = await paginator.page(1)
    assert len(seen) == 2  # the count, then the rows
    assert paginator.count == len(ROWS) and paginator.num_pages == len(expected)
    assert [u.username for u in first] == expected[0] and not first.has_previous()
    # Every page by number, and the same pages walked by keyset.
    for n, names in enumerate(expected, start=1):
        assert [u.username for u in paginator.page_sync(n)] == names
    page = first
    while page.has_next():
        with statements() as seen:
            page = await paginator.next_page(page)
        assert len(seen) == 1 and "OFFSET" not in seen[0].upper(), seen
        assert [u.username for u in page] == expected[page.number - 1]
    assert page.end_index() == len(ROWS) and page.start_index() == 3 * (page.number - 1) + 1
    with pytest.raises(chakra.EmptyPage):
        await paginator.next_page(page)
    with pytest.raises(chakra.EmptyPage):
        await paginator.page(len(expected) + 1)
    with pytest.raises(chakra.PageNotAnInteger):
        await paginator.page("two")


async def test_paginator_on_a_nullable_ordering_pages_by_offset(db: Any) -> None:
    users = await _fill()
    await Post.objects.bulk_create(
        [
            Post(title=f"p{i}", author_id=users[0].id, editor_id=users[i % 3].id if i % 2 else None)
            for i in range(5)
        ]
    )
    paginator = Paginator(Post.objects.order_by("editor_id"), 2)
    pages = [await paginator.page(1)]
    while pages[-1].has_next():
        pages.append(await paginator.next_page(pages[-1]))
    got = [p.title for page in pages for p in page]
    assert sorted(got) == [f"p{i}" for i in range(5)] and len(set(got)) == 5


async def test_paginator_of_nothing(db: Any) -> None:
    p = Paginator(User.objects.filter(username="none"), 10)
    page = await p.page(1)
    assert list(page) == [] and p.num_pages == 1 and page.start_index() == 0
    strict = Paginator(User.objects.all(), 10, allow_empty_first_page=False)
    assert strict.count_sync() == 0
    with pytest.raises(chakra.EmptyPage):
        await strict.page(1)
    with pytest.raises(errors.InvalidQuery, match="unsliced"):
        Paginator(User.objects.all()[2:], 10)
