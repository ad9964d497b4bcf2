"""Aggregates (``Count``, ``Sum``, ``Avg``, ``Min``, ``Max``) on SQLite and PostgreSQL: the
same values and types on both (a ``Decimal`` sum stays an exact ``Decimal`` although SQLite
stores decimals as text), ``None`` over no rows and 0 for counts, ``distinct=`` and
``filter=``, and named errors before any SQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from chakra import Avg, Count, Max, Min, Q, Sum, errors
from models import Thing, User


async def seed() -> None:
    d1, d3 = date(2024, 1, 1), date(2024, 1, 3)
    await Thing.objects.bulk_create(
        [
            Thing(name="a", nick="x", n=10, score=0.5, price=Decimal("0.10"), day=d3),
            Thing(name="b", nick="x", n=20, score=0.25, price=Decimal("0.20"), day=d1),
            Thing(name="c", nick=None, n=None, score=0.25, price=Decimal("9.50"), flag=True),
            Thing(name="d", nick="y", n=40, score=1.0, price=Decimal("10.00"), flag=True),
            Thing(name="e", nick=None, n=40, score=2.0, price=None),
        ]
    )  # fmt: skip


async def test_aggregates_over_no_rows(db: object) -> None:
    got = await Thing.objects.aggregate(
        n=Count("id"), total=Sum("price"), avg=Avg("n"), low=Min("day"), high=Max("name")
    )
    assert got == {"n": 0, "total": None, "avg": None, "low": None, "high": None}


async def test_values_have_the_fields_types(db: object) -> None:
    await seed()
    got = await Thing.objects.aggregate(
        n=Count("id"),
        total=Sum("price"),
        mean=Avg("price"),
        low=Min("price"),
        high=Max("price"),
        n_sum=Sum("n"),
        n_avg=Avg("n"),
        s=Sum("score"),
        first_day=Min("day"),
    )
    assert got == {
        "n": 5,
        "total": Decimal("19.80"),
        "mean": Decimal("4.95"),
        "low": Decimal("0.10"),
        "high": Decimal("10.00"),
        "n_sum": 110,
        "n_avg": 27.5,
        "s": 4.0,
        "first_day": date(2024, 1, 1),
    }
    assert isinstance(got["total"], Decimal) and isinstance(got["mean"], Decimal)
    assert isinstance(got["n_sum"], int) and isinstance(got["n_avg"], float)
    assert str(got["mean"]) == "4.9500000000000000"
    third = await Thing.objects.filter(price__lt=10).aggregate(Avg("price"))
    assert third == {"price__avg": Decimal("3.2666666666666667")}


async def test_distinct_filter_and_positional_names(db: object) -> None:
    await seed()
    got = await Thing.objects.aggregate(
        Count("nick", distinct=True),
        Count("*"),
        flagged=Count("id", filter=Q(flag=True)),
        flagged_total=Sum("price", filter=Q(flag=True) | Q(name="a")),
        none=Sum("price", filter=Q(n__gt=1000)),
    )
    assert got == {
        "nick__count": 2,
        "count": 5,
        "flagged": 2,
        "flagged_total": Decimal("19.60"),
        "none": None,
    }
    # A filtered, sliced queryset is aggregated as it is.
    assert await Thing.objects.filter(n__isnull=False).aggregate(m=Max("n")) == {"m": 40}
    top = Thing.objects.order_by("-id")[:2]
    assert await top.aggregate(n=Count("id"), s=Sum("n")) == {"n": 2, "s": 80}


async def test_aggregate_sync(db: object) -> None:
    User.objects.bulk_create_sync([User(username=f"u{i}", email="e", balance=i) for i in range(4)])
    assert User.objects.aggregate_sync(total=Sum("balance"), n=Count("id")) == {"total": 6, "n": 4}


async def test_bad_aggregates_are_named_errors_before_any_sql() -> None:
    with pytest.raises(errors.InvalidAggregate) as e:
        Thing.objects.aggregate_sql("postgres", total=Sum("name"))
    assert (e.value.model, e.value.field, e.value.function) == ("Thing", "name", "Sum")
    with pytest.raises(errors.InvalidAggregate):
        Thing.objects.aggregate_sql("sqlite", Avg("flag"))
    with pytest.raises(errors.InvalidAggregate):
        Thing.objects.aggregate_sql("sqlite", Max("data"))
    with pytest.raises(errors.UnknownField):
        Thing.objects.aggregate_sql("postgres", Max("nope"))
    with pytest.raises(errors.UnknownField):
        Thing.objects.aggregate_sql("postgres", Count("id", filter=Q(nope=1)))
    with pytest.raises(TypeError):
        Thing.objects.aggregate_sql("postgres", n="id")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidQuery):
        Thing.objects.aggregate_sql("postgres")


def test_decimal_aggregates_compile_exactly_on_sqlite() -> None:
    assert Thing.objects.aggregate_sql("sqlite", t=Sum("price")) == (
        'SELECT chakra_decimal_sum("things"."price") AS "t" FROM "things"'
    )
    assert Thing.objects.aggregate_sql(
        "postgres", t=Avg("price"), n=Count("id", distinct=True)
    ) == (
        'SELECT ROUND(CAST(SUM("things"."price") AS NUMERIC(1000, 20)) / '
        'COUNT("things"."price"), 16) AS "t", COUNT(DISTINCT "things"."id") AS "n" FROM "things"'
    )
