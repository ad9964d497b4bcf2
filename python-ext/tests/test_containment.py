"""Containment and key lookups on JSON and array fields, on SQLite and PostgreSQL with the
same results: ``data__contains``, ``data__contained_by``, ``data__has_keys``,
``data__has_any_keys``, ``tags__contains``, ``tags__contained_by``, ``tags__overlap``,
``tags__len``, ``tags__0``; NULL documents and arrays never match (and ``exclude`` keeps
them, as Django does); bad arguments are named errors before any SQL."""

from __future__ import annotations

import pytest
from chakra import errors
from models import Thing

DATA = [
    {"plan": "pro", "n": 3, "a": {"b": 5, "c": [1, 2]}, "tags": ["x", "y"]},
    {"plan": "free", "n": 10.0, "a": {"b": 1}},
    {"n": "3", "list": [1, [2, 3]]},
    None,
    ["p", "q"],
]
TAGS = [["a", "b"], ["b", "c", "d"], [], None, ["a"]]

CASES = [
    ({"data__contains": {"plan": "pro"}}, [1]),
    ({"data__contains": {"a": {"c": [2]}}}, [1]),
    ({"data__contains": {"n": 10}}, [2]),
    ({"data__contains": {"n": 3}}, [1]),
    ({"data__contains": {}}, [1, 2, 3]),
    ({"data__contains": {"list": [[3]]}}, [3]),
    ({"data__contains": {"list": [3]}}, []),
    ({"data__contains": ["p"]}, [5]),
    ({"data__contained_by": {"plan": "free", "n": 10, "a": {"b": 1}, "x": 1}}, [2]),
    ({"data__has_keys": ["plan", "n"]}, [1, 2]),
    ({"data__has_keys": ["plan", "a", "tags"]}, [1]),
    ({"data__has_any_keys": ["list", "tags"]}, [1, 3]),
    ({"data__has_any_keys": ["zzz"]}, []),
    ({"tags__contains": ["b"]}, [1, 2]),
    ({"tags__contains": ["a", "b"]}, [1]),
    ({"tags__contains": []}, [1, 2, 3, 5]),
    ({"tags__contained_by": ["a", "b", "z"]}, [1, 3, 5]),
    ({"tags__overlap": ["d", "a"]}, [1, 2, 5]),
    ({"tags__overlap": []}, []),
    ({"tags__len": 1}, [5]),
    ({"tags__len__gte": 2}, [1, 2]),
    ({"tags__len": 0}, [3]),
    ({"tags__0": "a"}, [1, 5]),
    ({"tags__1": "c"}, [2]),
    ({"tags__2__isnull": False}, [2]),
]


async def test_containment_on_both_backends(db: object) -> None:
    await Thing.objects.bulk_create(
        [
            Thing(name=f"t{i}", data=d, tags=t)
            for i, (d, t) in enumerate(zip(DATA, TAGS, strict=True))
        ]
    )
    for kwargs, ids in CASES:
        got = await Thing.objects.filter(**kwargs).order_by("id").values_list("id", flat=True)
        assert got == ids, (kwargs, got)
    kept = Thing.objects.exclude(tags__contains=["b"]).order_by("id").values_list("id", flat=True)
    assert await kept == [3, 4, 5]
    # A hostile key is refused, never spliced into SQL.
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(data__has_keys=["a'); DROP TABLE things; --"])


def test_bad_containment_arguments_are_named_errors() -> None:
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(tags__contains="a")
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(tags__overlap=[1, 2])
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(data__has_keys="plan")
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(tags__contains=None)
    # As in Django, a name that is no JSON lookup is a key: `overlap` compared with a list.
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(data__overlap=["a"])
    with pytest.raises(errors.UnknownLookup):
        Thing.objects.filter(name__has_keys=["a"])
    with pytest.raises(errors.UnknownLookup):
        Thing.objects.filter(n__len=1)
