"""Annotations with expressions on SQLite and PostgreSQL: ``F`` arithmetic, ``Coalesce``,
``Lower``/``Upper``/``Length``, ``Cast``, ``Case``/``When``, ``Now()``; the values land on
the instances (or in ``values()`` dicts) with the same values and types on both backends,
and bad input is a named error before any SQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from chakra import (
    Case,
    Cast,
    Coalesce,
    Count,
    F,
    Float,
    Integer,
    Length,
    Lower,
    Now,
    Q,
    Sum,
    Text,
    Upper,
    Value,
    When,
    errors,
)
from models import Thing


async def seed() -> None:
    await Thing.objects.bulk_create(
        [
            Thing(name="Élan", nick="é", n=3, score=2.75, price=Decimal("1.50")),
            Thing(name="bob", nick=None, n=None, score=-1.5, price=Decimal("10.00")),
            Thing(name="Cy", nick="cy", n=12, score=0.0, price=None),
        ]
    )


async def test_expressions_land_on_instances(db: object) -> None:
    await seed()
    qs = Thing.objects.annotate(
        double=F("n") * 2,
        plus=F("n") + F("big") + 1,
        nick_or_name=Coalesce("nick", "name"),
        n_or_zero=Coalesce("n", 0),
        label=Coalesce("nick", Value("-")),
        low=Lower("name"),
        up=Upper("name"),
        size=Length("name"),
        whole=Cast("score", Integer),
        as_float=Cast("n", Float),
        as_text=Cast("n", Text),
        size_kind=Case(When(n__gte=10, then=Value("big")), When(n__lt=10, then=Value("small"))),
        bucket=Case(When(Q(score__gt=0), then=1), default=0),
        ts=Now(),
    ).order_by("id")
    rows = await qs
    got = [
        (t.double, t.plus, t.nick_or_name, t.n_or_zero, t.label, t.low, t.up, t.size) for t in rows
    ]
    assert got == [
        (6, 4, "é", 3, "é", "élan", "ÉLAN", 4),
        (None, None, "bob", 0, "-", "bob", "BOB", 3),
        (24, 13, "cy", 12, "cy", "cy", "CY", 2),
    ]
    assert [t.whole for t in rows] == [2, -1, 0]
    assert [t.as_float for t in rows] == [3.0, None, 12.0]
    assert [t.as_text for t in rows] == ["3", None, "12"]
    assert [t.size_kind for t in rows] == ["small", None, "big"]
    assert [t.bucket for t in rows] == [1, 0, 0]
    now = datetime.now(timezone.utc)
    assert all(abs(t.ts - now) < timedelta(minutes=5) for t in rows)
    assert all(
        isinstance(t.whole, int) and isinstance(t.as_float, (float, type(None))) for t in rows
    )
    # Annotations filter (WHERE, not aggregates), order and show in values().
    assert [t.name for t in await qs.filter(size__gte=3).order_by("-size")] == ["Élan", "bob"]
    assert await qs.values("name", "double").filter(double__gt=10) == [{"name": "Cy", "double": 24}]
    # Decimal arithmetic keeps the Decimal type.
    prices = (
        await Thing.objects.annotate(p=F("price") * 2).order_by("id").values_list("p", flat=True)
    )
    assert [type(p) for p in prices if p is not None] == [Decimal, Decimal]


async def test_decimal_division_has_postgresql_scale_on_both_backends(db: object) -> None:
    """Decimal division is exact on SQLite too, with the digits PostgreSQL's numeric division
    gives (at least 16 significant digits, rounded half away from zero); dividing by zero is
    an error on every backend. MySQL/MariaDB's quotient keeps the dividend's places plus 20
    (docs/mysql.md: the server picks a decimal quotient's scale, with no per-row rule like
    PostgreSQL's), rounded half away from zero: PostgreSQL's digits, and more."""
    await seed()
    qs = Thing.objects.annotate(q=F("price") / 3).order_by("id")
    got = [None if q is None else str(q) for q in await qs.values_list("q", flat=True)]
    # 1.50 / 3 and 10.00 / 3, written out by hand; no price, no quotient.
    if db.backend == "mysql":  # type: ignore[attr-defined]
        assert got == ["0.5000000000000000000000", "3.3333333333333333333333", None]
        # Exact decimals, not a float's 3.3333333333333335.
        mixed = await Thing.objects.annotate(q=F("price") * Decimal("0.1") / 7).order_by("id")
        assert [str(t.q) for t in mixed][:2] == [
            "0.02142857142857142857143",  # 0.150 / 7 to 3 + 20 places, by hand
            "0.14285714285714285714286",  # 1.000 / 7
        ]
    else:
        assert got == ["0.50000000000000000000", "3.3333333333333333", None]
    with pytest.raises(Exception, match="division by zero"):
        await Thing.objects.annotate(q=F("price") / 0).values_list("q", flat=True)


async def test_expressions_mix_with_aggregates(db: object) -> None:
    await seed()
    rows = await Thing.objects.annotate(m=Coalesce("n", 0) + 1).order_by("id")
    assert [t.m for t in rows] == [4, 1, 13]
    groups = Thing.objects.values("nick").annotate(n_rows=Count("id"), total=Coalesce(Sum("n"), 0))
    assert await groups.filter(nick__isnull=True) == [{"nick": None, "n_rows": 1, "total": 0}]
    assert await groups.filter(total__gt=5).values_list("nick", flat=True) == ["cy"]


def test_bad_expressions_are_named_errors_before_any_sql() -> None:
    with pytest.raises(errors.InvalidQuery):
        Thing.objects.annotate(x=Lower("n"))
    with pytest.raises(errors.InvalidQuery):
        Thing.objects.annotate(x=Length("score"))
    with pytest.raises(errors.InvalidQuery):
        Thing.objects.annotate(x=Coalesce("n", "name"))
    with pytest.raises(errors.InvalidQuery):
        Thing.objects.annotate(x=Cast("data", Integer))
    with pytest.raises(errors.InvalidQuery):
        Thing.objects.annotate(x=F("name") * 2)
    with pytest.raises(errors.InvalidQuery):
        Thing.objects.annotate(x=Case(When(n=1, then=1), default=Value("a")))
    with pytest.raises(errors.UnknownField):
        Thing.objects.annotate(x=Upper("nope"))
    with pytest.raises(errors.AnnotationConflict):
        Thing.objects.annotate(name=Upper("name"))
