"""Every async terminal method of ``QuerySet`` has a ``_sync`` twin that takes the same
arguments and gives the same answer, and a ``SyncSession``'s querysets attach their rows to
the session as the async ones do (the twins used to return untracked objects).

The comparison runs the same operations, in the same order, on two databases filled alike:
the async methods on one, the twins on the other; each result and the final rows must match.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import chakra
from chakra import Count, Q, Sum
from chakra.query import BaseQuerySet, QuerySet
from models import ALL, User


def _public_coroutines(cls: type) -> dict[str, Any]:
    return {
        name: fn
        for name, fn in vars(cls).items()
        if not name.startswith("_") and inspect.iscoroutinefunction(fn)
    }


def test_every_async_terminal_method_has_a_sync_twin_with_the_same_signature() -> None:
    # The methods live on BaseQuerySet, shared by QuerySet and ValuesQuerySet.
    coroutines = _public_coroutines(BaseQuerySet)
    assert {"get", "count", "delete", "bulk_create", "aggregate"} <= set(coroutines)
    for name, fn in coroutines.items():
        twin = getattr(QuerySet, f"{name}_sync", None)
        assert twin is not None, f"QuerySet.{name} has no {name}_sync"
        assert inspect.signature(twin) == inspect.signature(fn), name


def _plain(value: Any) -> Any:
    """A result with model instances replaced by their field values (comparable across
    databases)."""
    if isinstance(value, chakra.Model):
        return (type(value).__name__, {f: getattr(value, f) for f in type(value)._fields})
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _users(n: int) -> list[User]:
    return [User(username=f"u{i:02}", email=f"e{i % 3}", balance=i * 10) for i in range(n)]


# Each step: (method name, a function building the queryset, args, kwargs). The same list is
# run through the async methods on one database and through the twins on the other.
Step = tuple[str, Callable[[], QuerySet[User]], tuple[Any, ...], dict[str, Any]]


def _steps() -> list[Step]:
    objs = User.objects
    return [
        ("bulk_create", lambda: objs.all(), (_users(12),), {}),
        ("create", lambda: objs.all(), (), {"username": "made", "email": "m", "balance": 5}),
        ("count", lambda: objs.filter(email="e1"), (), {}),
        ("exists", lambda: objs.filter(balance__gt=1000), (), {}),
        ("get", lambda: objs.all(), (), {"username": "u03"}),
        ("get", lambda: objs.all(), (Q(username="u04") | Q(username="u99"),), {}),
        ("first", lambda: objs.order_by("-balance"), (), {}),
        ("last", lambda: objs.order_by("email", "id"), (), {}),
        ("aggregate", lambda: objs.filter(id__lte=6), (), {"n": Count("id"), "s": Sum("balance")}),
        ("get_or_create", lambda: objs.all(), (), {"username": "u05"}),
        ("get_or_create", lambda: objs.all(), (), {"username": "new", "defaults": {"email": "n"}}),
        (
            "update_or_create",
            lambda: objs.all(),
            (),
            {"username": "u06", "defaults": {"balance": 7}},
        ),
        ("update", lambda: objs.filter(email="e2"), (), {"balance": 1}),
        ("bulk_update", lambda: objs.all(), ([],), {"fields": ["balance"]}),
        ("delete", lambda: objs.filter(balance__lt=20), (), {}),
        ("count", lambda: objs.values("email").distinct(), (), {}),
        ("all", lambda: objs.order_by("id"), (), {}),
    ]


async def _run_async(steps: list[Step]) -> list[Any]:
    out = []
    for name, qs, args, kwargs in steps:
        if name == "all":
            out.append(_plain(await qs().all()))
            out.append(_plain(await qs().values_list("username", "balance").all()))
        else:
            out.append(_plain(await getattr(qs(), name)(*args, **kwargs)))
    return out


def _run_sync(steps: list[Step]) -> list[Any]:
    out = []
    for name, qs, args, kwargs in steps:
        if name == "all":
            out.append(_plain(qs().all_sync()))
            out.append(_plain(qs().values_list("username", "balance").all_sync()))
        else:
            out.append(_plain(getattr(qs(), f"{name}_sync")(*args, **kwargs)))
    return out


def _without_times(results: list[Any]) -> list[Any]:
    """Drops ``created_at`` (a clock reading, different in each database)."""

    def strip(v: Any) -> Any:
        if isinstance(v, tuple) and len(v) == 2 and v[0] == "User":
            return (v[0], {k: x for k, x in v[1].items() if k != "created_at"})
        if isinstance(v, (list, tuple)):
            return type(v)(strip(x) for x in v)
        return v

    return [strip(r) for r in results]


def test_the_twins_give_the_async_methods_answers(new_db: Any) -> None:
    for backend in ("sqlite", "postgres"):
        a, s = new_db(backend), new_db(backend)
        chakra.configure(a.url)
        chakra.create_tables_sync(*ALL)
        async_results = asyncio.run(_run_async(_steps()))
        chakra.close(a.url)
        chakra.configure(s.url)
        chakra.create_tables_sync(*ALL)
        sync_results = _run_sync(_steps())
        chakra.close(s.url)
        assert _without_times(sync_results) == _without_times(async_results), backend
        # The steps did something: of the 15 rows made, the update moved u02/u05/u08/u11
        # to balance 1, update_or_create gave u06 7, "made" has 5 and "new" 0: the delete of
        # balance < 20 leaves these.
        assert [u for u, _ in async_results[-1]] == ["u03", "u04", "u07", "u09", "u10"]


def test_a_sync_session_tracks_what_its_querysets_load(new_db: Any) -> None:
    for backend in ("sqlite", "postgres"):
        d = new_db(backend)
        chakra.configure(d.url)
        chakra.create_tables_sync(*ALL)
        User.objects.bulk_create_sync(_users(4))
        with chakra.SyncSession() as session:
            rows = session.query(User).order_by("id").all_sync()
            one = session.query(User).get_sync(username="u01")
            first = session.query(User).order_by("id").first_sync()
            last = session.query(User).order_by("id").last_sync()
            assert one is rows[1] and first is rows[0] and last is rows[3]
            assert session.get_sync(User, rows[2].id) is rows[2]
            rows[2].balance = 999
            one.email = "changed"
            session.commit_sync()
        assert User.objects.get_sync(username="u02").balance == 999
        assert User.objects.get_sync(username="u01").email == "changed"
        chakra.close(d.url)


async def test_an_async_session_tracks_first_and_last(db: Any) -> None:
    await User.objects.bulk_create(_users(3))
    async with chakra.Session() as session:
        rows = await session.query(User).order_by("id").all()
        first = await session.query(User).order_by("id").first()
        last = await session.query(User).order_by("id").last()
        assert first is rows[0] and last is rows[2]
        assert (await session.query(User).get_or_create(username="u01"))[0] is rows[1]
        first.balance = 4242
        await session.commit()
    assert (await User.objects.get(username="u00")).balance == 4242
