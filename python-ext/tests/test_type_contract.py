"""The type contract from Python: the same values the Rust side refuses are refused here, in
the core, before any SQL, on SQLite and PostgreSQL alike (never rounded, never stored as
given on one backend and rejected by the other)."""

from __future__ import annotations

import logging
import math
from decimal import Decimal

import chakra
import pytest
from chakra import Decimal as DecimalType
from chakra import Field, Float, Integer, Model, String, errors


class Price(Model):
    __tablename__ = "contract_prices"
    amount = Field(DecimalType(6, 2))
    ratio = Field(Float, default=0.5)
    code = Field(String(5), default="abc")
    n = Field(Integer, default=0)


@pytest.mark.parametrize(
    ("values", "field", "why"),
    [
        ({"amount": Decimal("1.23456")}, "amount", "after the point"),
        ({"amount": Decimal("123456789")}, "amount", "before the point"),
        ({"amount": Decimal("12345.6")}, "amount", "before the point"),
        ({"amount": Decimal("1.5"), "ratio": math.nan}, "ratio", "NaN"),
        ({"amount": Decimal("1.5"), "ratio": -math.inf}, "ratio", "inf"),
        ({"amount": Decimal("1.5"), "code": "abcdef"}, "code", "max_length"),
        ({"amount": Decimal("1.5"), "code": "a\0b"}, "code", "NUL"),
        ({"amount": Decimal("1.5"), "n": 2**31}, "n", "out of range"),
        ({"amount": Decimal("1.5"), "n": -(2**31) - 1}, "n", "out of range"),
    ],
)
async def test_values_that_do_not_fit_are_refused_before_sql(
    db: object, values: dict[str, object], field: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    await chakra.create_tables(Price)
    kept = await Price.objects.create(amount=Decimal("1234.50"))
    with caplog.at_level(logging.DEBUG, logger="chakra.sql"):
        caplog.clear()
        with pytest.raises(errors.BadValue) as e:
            await Price.objects.create(**values)
        assert e.value.model == "Price" and e.value.field == field, e.value
        assert why in str(e.value), e.value
        with pytest.raises(errors.BadValue):
            await Price.objects.filter(id=kept.id).update(**values)
        assert [r for r in caplog.records if r.name == "chakra.sql"] == [], "no SQL ran"
    rows = await Price.objects.all()
    assert [(r.amount, r.code) for r in rows] == [(Decimal("1234.50"), "abc")]


def _stored_as_given() -> list[tuple[dict[str, object], str, str]]:
    from datetime import datetime, timedelta, timezone

    east = timezone(timedelta(hours=5))
    west = timezone(timedelta(hours=-5))
    return [
        # An aware datetime whose UTC value falls in year 0 or 10000.
        ({"at": datetime(1, 1, 1, 1, 0, tzinfo=east)}, "at", "year"),
        ({"at": datetime(9999, 12, 31, 22, 0, tzinfo=west)}, "at", "year"),
        # Lone surrogates: in text, in a JSON string, in a JSON key.
        ({"nick": "a\ud800b"}, "nick", "surrogate"),
        ({"data": {"k": ["x\udfff"]}}, "data", "surrogate"),
        ({"data": {"\ud800": 1}}, "data", "surrogate"),
        # Decimals past what PostgreSQL's numeric stores (SQLite would keep them).
        ({"amount": Decimal("1E-20000")}, "amount", "after it"),
        ({"amount": Decimal("1E+200000")}, "amount", "before the point"),
    ]


@pytest.mark.parametrize(("values", "field", "why"), _stored_as_given())
async def test_values_are_checked_as_they_will_be_stored(
    db: object, values: dict[str, object], field: str, why: str
) -> None:
    """The same refusal on both backends, before any SQL, and nothing stored."""
    from models import Thing

    with pytest.raises(errors.BadValue) as e:
        await Thing.objects.create(name="x", **values)
    assert e.value.field == field and why in str(e.value), e.value
    assert await Thing.objects.count() == 0
    # The edges that fit are stored and read back unchanged.


async def test_the_edges_that_fit_read_back(db: object) -> None:
    from datetime import datetime, timedelta, timezone

    from models import Thing

    east = timezone(timedelta(hours=5))
    edges = [
        {"at": datetime(1, 1, 1, 5, 0, tzinfo=east)},
        {"at": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)},
        {"data": {"k": ["\U0001f600 \ufffd"]}},
    ]
    if db.backend == "mysql":  # type: ignore[attr-defined]
        # An unbounded Decimal is DECIMAL(65, 30) there (docs/mysql.md): 35 digits before
        # the point, 30 after; past that, refused by name or the server's error 1264.
        edges += [
            {"amount": Decimal("1E-30")},
            {"amount": Decimal("-" + "9" * 35 + "." + "9" * 30)},
        ]
        with pytest.raises(chakra.errors.InvalidQuery, match="31 digits after the point"):
            await Thing.objects.create(name="x", amount=Decimal("1E-31"))
        with pytest.raises(chakra.errors.DatabaseError, match="1264"):
            await Thing.objects.create(name="x", amount=Decimal("1E+35"))
    else:
        edges += [{"amount": Decimal("1E-16383")}, {"amount": Decimal("-1E+1000")}]
    for values in edges:
        t = await Thing.objects.create(name="x", **values)
        back = await Thing.objects.get(id=t.id)
        for k, v in values.items():
            assert getattr(back, k) == v, (k, getattr(back, k), v)
