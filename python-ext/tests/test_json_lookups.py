"""JSON key and path lookups on SQLite and PostgreSQL: ``data__plan="pro"``,
``data__a__b__gte=3``, ``data__tags__0="x"``, ``has_key``, ``isnull`` on a key, JSON null;
the compared value's JSON type decides the comparison (``"3"`` never equals ``3``), and a
JSON lookup on a field that is not JSON is a named error before any SQL."""

from __future__ import annotations

import pytest
from chakra import Q, errors
from models import Thing

ROWS = [
    {"plan": "pro", "n": 3, "ok": True, "a": {"b": 5}, "tags": ["x", "y"], "nul": None},
    {"plan": "free", "n": 10, "ok": False, "a": {"b": 1}, "my-key": "v"},
    {"n": "3"},
    None,
]

CASES = [
    ({"data__plan": "pro"}, [1]),
    ({"data__plan__ne": "pro"}, [2]),
    ({"data__n__gte": 3}, [1, 2]),
    ({"data__n__lt": 10}, [1]),
    ({"data__n": 3}, [1]),
    ({"data__n": 3.0}, [1]),
    ({"data__n": "3"}, [3]),
    ({"data__ok": True}, [1]),
    ({"data__ok": False}, [2]),
    ({"data__a__b__gt": 2}, [1]),
    ({"data__tags__0": "x"}, [1]),
    ({"data__has_key": "plan"}, [1, 2]),
    ({"data__a__has_key": "b"}, [1, 2]),
    ({"data__nul": None}, [1]),
    ({"data__nul__isnull": False}, [1]),
    ({"data__plan__isnull": True}, [3, 4]),
    ({"data__my-key": "v"}, [2]),
]


async def test_json_paths_on_both_backends(db: object) -> None:
    await Thing.objects.bulk_create([Thing(name=f"t{i}", data=d) for i, d in enumerate(ROWS)])
    for kwargs, ids in CASES:
        got = await Thing.objects.filter(**kwargs).order_by("id").values_list("id", flat=True)
        assert got == ids, kwargs
    excluded = Thing.objects.exclude(data__plan="pro").order_by("id").values_list("id", flat=True)
    assert await excluded == [2, 3, 4]
    either = Thing.objects.filter(Q(data__plan="free") | Q(data__n="3")).order_by("id")
    assert await either.values_list("id", flat=True) == [2, 3]


def test_bad_json_lookups_are_named_errors() -> None:
    with pytest.raises(errors.UnknownLookup):
        Thing.objects.filter(name__plan="x")
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(data__ok__gt=True)
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(data__a={"b": 1}, data__a__b=[1])
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(data__has_key=1)
