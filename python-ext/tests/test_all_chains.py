"""``QuerySet.all()`` returns the queryset itself, as in Django and Tortoise: awaitable
(``await qs.all()``), chainable (``qs.all().delete()``, ``qs.all().count()``,
``qs.all().filter(...)``), and still accepted by ``asyncio.run`` like a coroutine."""

from __future__ import annotations

import asyncio

import chakra
from chakra import QuerySet
from models import ALL, User


async def test_all_is_the_queryset(db: object) -> None:
    await User.objects.bulk_create([User(username=f"u{i}", email="e") for i in range(4)])
    qs = User.objects.all()
    assert isinstance(qs, QuerySet)
    assert [u.username for u in await qs.order_by("id")] == ["u0", "u1", "u2", "u3"]
    assert len(await User.objects.all()) == 4
    assert len(await User.objects.filter(username__gt="u1").all()) == 2
    assert await User.objects.all().count() == 4
    assert await User.objects.all().filter(username="u0").exists()
    assert [u.username for u in await User.objects.all().order_by("-id")[:1]] == ["u3"]
    assert await User.objects.filter(username="u3").all().delete() == 1
    assert len(User.objects.all().all_sync()) == 3
    assert await User.objects.all().all().count() == 3
    assert len(await asyncio.gather(User.objects.all(), User.objects.all().all())) == 2
    task = asyncio.ensure_future(User.objects.all())
    assert len(await task) == 3
    assert await User.objects.all().delete() == 3
    assert await User.objects.all() == []


def test_asyncio_run_takes_all(new_db: object) -> None:
    for backend in ("sqlite", "postgres"):
        d = new_db(backend)  # type: ignore[operator]
        chakra.configure(d.url)
        chakra.create_tables_sync(*ALL)
        User.objects.create_sync(username="a", email="e")
        assert [u.username for u in asyncio.run(User.objects.all())] == ["a"]
        assert asyncio.run(User.objects.all().count()) == 1
        chakra.close(d.url)
