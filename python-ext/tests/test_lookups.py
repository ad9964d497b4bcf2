"""Every lookup, on both backends, through the shared Rust parser."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from chakra import F, Q, errors
from models import Thing

UTC = timezone.utc
U1 = uuid.UUID("12345678-1234-5678-1234-567812345678")


def arrays(db: object) -> bool:
    """Whether the backend has array columns (MySQL/MariaDB refuse them by name)."""
    return db.backend != "mysql"  # type: ignore[attr-defined]


async def seed(db: object) -> None:
    await Thing.objects.bulk_create(
        [
            Thing(
                name="50% off_sale",
                nick="Bob",
                n=1,
                big=10,
                flag=True,
                score=1.5,
                price=Decimal("9.99"),
                at=datetime(2005, 3, 14, 15, 9, 26, tzinfo=UTC),
                day=date(2005, 3, 14),
                data={"k": 1},
                tags=["a", "b"] if arrays(db) else None,
                uid=U1,
                blob=b"\x00\x01",
            ),
            Thing(
                name="Éclair ÀLA mode",
                nick=None,
                n=2,
                big=20,
                score=2.5,
                price=Decimal("19.50"),
                at=datetime(2010, 7, 4, 23, 59, 0, tzinfo=UTC),
                day=date(2010, 7, 4),
            ),
            Thing(
                name="plain",
                nick="alice",
                n=None,
                big=30,
                score=-1.0,
                at=None,
                day=date(2024, 2, 29),
            ),
            Thing(name="50 percent", nick="bobby", n=3, big=40),
        ]
    )


async def names(**kw: object) -> list[str]:
    return sorted(await Thing.objects.filter(**kw).values_list("name", flat=True))


async def ex_names(**kw: object) -> list[str]:
    return sorted(await Thing.objects.exclude(**kw).values_list("name", flat=True))


async def test_exact_and_iexact(db: object) -> None:
    await seed(db)
    assert await names(nick="Bob") == ["50% off_sale"]
    assert await names(nick__exact="bob") == []
    assert await names(nick__iexact="bob") == ["50% off_sale"]
    assert await names(n=2) == ["Éclair ÀLA mode"]
    assert await names(uid=U1) == ["50% off_sale"]
    assert await names(price=Decimal("19.5")) == ["Éclair ÀLA mode"]
    assert await names(flag=True) == ["50% off_sale"]
    assert await names(blob=b"\x00\x01") == ["50% off_sale"]
    assert await names(day=date(2024, 2, 29)) == ["plain"]


async def test_exact_none_is_null(db: object) -> None:
    await seed(db)
    assert await names(nick=None) == ["Éclair ÀLA mode"]
    assert await names(nick__exact=None) == ["Éclair ÀLA mode"]
    assert await names(n__isnull=True) == ["plain"]
    assert await names(at__isnull=False) == ["50% off_sale", "Éclair ÀLA mode"]
    assert await names(nick__ne=None) == ["50 percent", "50% off_sale", "plain"]


async def test_like_family_matches_wildcards_literally(db: object) -> None:
    await seed(db)
    assert await names(name__contains="%") == ["50% off_sale"]
    assert await names(name__contains="_") == ["50% off_sale"]
    assert await names(name__contains="0% o") == ["50% off_sale"]
    assert await names(name__startswith="50%") == ["50% off_sale"]
    assert await names(name__startswith="50") == ["50 percent", "50% off_sale"]
    assert await names(name__endswith="_sale") == ["50% off_sale"]
    assert await names(name__endswith="e") == ["50% off_sale", "Éclair ÀLA mode"]
    assert await names(name__contains="\\") == []
    assert await names(name__icontains="OFF_") == ["50% off_sale"]
    assert await names(name__istartswith="PLA") == ["plain"]
    assert await names(name__iendswith="MODE") == ["Éclair ÀLA mode"]
    assert await names(name__contains="ff") == ["50% off_sale"]
    assert await names(name__contains="FF") == []


async def test_case_insensitive_non_ascii(db: object) -> None:
    await seed(db)
    assert await names(name__icontains="éclair") == ["Éclair ÀLA mode"]
    assert await names(name__icontains="àla") == ["Éclair ÀLA mode"]
    assert await names(name__istartswith="ÉCL") == ["Éclair ÀLA mode"]
    assert await names(name__iexact="éclair àla MODE") == ["Éclair ÀLA mode"]
    assert await names(name__contains="éclair") == []


async def test_in_and_empty_in(db: object) -> None:
    await seed(db)
    assert await names(n__in=[1, 3]) == ["50 percent", "50% off_sale"]
    assert await names(n__in=(2,)) == ["Éclair ÀLA mode"]
    assert await names(n__in={1}) == ["50% off_sale"]
    assert await names(n__in=[]) == []
    assert await Thing.objects.filter(n__in=[]).count() == 0
    assert len(await ex_names(n__in=[])) == 4
    assert await names(nick__in=["Bob", "alice", None]) == ["50% off_sale", "plain"]
    assert await names(uid__in=[U1]) == ["50% off_sale"]
    assert await names(day__in=[date(2024, 2, 29), date(2005, 3, 14)]) == [
        "50% off_sale",
        "plain",
    ]


async def test_comparisons(db: object) -> None:
    await seed(db)
    assert await names(big__gt=30) == ["50 percent"]
    assert await names(big__gte=30) == ["50 percent", "plain"]
    assert await names(big__lt=20) == ["50% off_sale"]
    assert await names(big__lte=20) == ["50% off_sale", "Éclair ÀLA mode"]
    assert await names(score__lt=0) == ["plain"]
    assert await names(price__gt=Decimal("10")) == ["Éclair ÀLA mode"]
    assert await names(price__lt=10) == ["50% off_sale"]
    assert await names(at__gt=datetime(2006, 1, 1, tzinfo=UTC)) == ["Éclair ÀLA mode"]
    assert await names(big__ne=10) == ["50 percent", "plain", "Éclair ÀLA mode"]
    # ne is SQL `<>` (as the Rust typed DSL's ne): a NULL field does not match…
    assert await names(n__ne=1) == ["50 percent", "Éclair ÀLA mode"]
    # …while exclude keeps it.
    assert await ex_names(n=1) == ["50 percent", "plain", "Éclair ÀLA mode"]


async def test_range_on_dates_and_numbers(db: object) -> None:
    await seed(db)
    assert await names(day__range=(date(2005, 1, 1), date(2010, 7, 4))) == [
        "50% off_sale",
        "Éclair ÀLA mode",
    ]
    assert await names(day__range=[date(2010, 7, 5), date(2030, 1, 1)]) == ["plain"]
    assert await names(big__range=(15, 35)) == ["plain", "Éclair ÀLA mode"]
    assert await names(at__date__range=(date(2010, 7, 4), date(2010, 7, 4))) == ["Éclair ÀLA mode"]
    assert await names(at__range=(date(2005, 3, 14), date(2005, 3, 15))) == ["50% off_sale"]


async def test_date_part_transforms(db: object) -> None:
    await seed(db)
    assert await names(at__year=2005) == ["50% off_sale"]
    assert await names(at__year__gt=2005) == ["Éclair ÀLA mode"]
    assert await names(at__month=7) == ["Éclair ÀLA mode"]
    assert await names(at__month__gte=3) == ["50% off_sale", "Éclair ÀLA mode"]
    assert await names(at__day=14) == ["50% off_sale"]
    assert await names(at__hour=23) == ["Éclair ÀLA mode"]
    assert await names(at__minute=9) == ["50% off_sale"]
    assert await names(at__second=26) == ["50% off_sale"]
    # 2005-03-14 was a Monday (Django: 1 = Sunday … 7 = Saturday); 2010-07-04 a Sunday.
    assert await names(at__week_day=2) == ["50% off_sale"]
    assert await names(at__week_day=1) == ["Éclair ÀLA mode"]
    assert await names(day__year__in=[2010, 2024]) == ["plain", "Éclair ÀLA mode"]
    assert await names(day__month=2, day__day=29) == ["plain"]
    assert await names(day__week_day=5) == ["plain"]  # 2024-02-29: Thursday
    assert await names(at__date=date(2010, 7, 4)) == ["Éclair ÀLA mode"]
    assert await names(at__date__gt=date(2006, 1, 1)) == ["Éclair ÀLA mode"]


async def test_regex(db: object) -> None:
    await seed(db)
    assert await names(name__regex=r"^\d+%") == ["50% off_sale"]
    assert await names(name__regex=r"^[0-9]+ ") == ["50 percent"]
    assert await names(name__iregex=r"^PLAIN$") == ["plain"]
    assert await names(name__regex=r"^PLAIN$") == []
    assert await names(nick__iregex="^bob") == ["50 percent", "50% off_sale"]


async def test_exclude_with_nulls_as_django(db: object) -> None:
    await seed(db)
    # nick is NULL for the Éclair: exclude(nick="Bob") keeps it (Django semantics).
    assert await ex_names(nick="Bob") == ["50 percent", "plain", "Éclair ÀLA mode"]
    assert await ex_names(n=1) == ["50 percent", "plain", "Éclair ÀLA mode"]
    assert await ex_names(n__gt=1) == ["50% off_sale", "plain"]
    assert await ex_names(nick__startswith="b") == ["50% off_sale", "plain", "Éclair ÀLA mode"]
    assert await ex_names(nick=None) == ["50 percent", "50% off_sale", "plain"]
    assert await ex_names(at__year=2005) == ["50 percent", "plain", "Éclair ÀLA mode"]
    # ~Q behaves the same.
    got = await Thing.objects.filter(~Q(n=2)).values_list("name", flat=True)
    assert sorted(got) == ["50 percent", "50% off_sale", "plain"]


async def test_q_objects(db: object) -> None:
    await seed(db)
    qs = Thing.objects.filter(Q(n=1) | Q(nick="alice"))
    assert sorted(await qs.values_list("name", flat=True)) == ["50% off_sale", "plain"]
    qs = Thing.objects.filter(Q(big__gt=10) & ~Q(nick__startswith="b"))
    assert sorted(await qs.values_list("name", flat=True)) == ["plain", "Éclair ÀLA mode"]
    qs = Thing.objects.filter(Q(n=1) | Q(n=2), big__lt=20)
    assert await qs.values_list("name", flat=True) == ["50% off_sale"]
    qs = Thing.objects.exclude(Q(n=1) | Q(n=2))
    assert sorted(await qs.values_list("name", flat=True)) == ["50 percent", "plain"]


async def test_f_expressions_compare_columns(db: object) -> None:
    await seed(db)
    # big is 10n for the rows with n: big > n * 5 holds for those.
    assert await names(big__gt=F("n") * 5) == ["50 percent", "50% off_sale", "Éclair ÀLA mode"]
    assert await names(big=F("n") * 10) == ["50% off_sale", "Éclair ÀLA mode"]
    assert await names(big__lt=F("n")) == []


async def test_json_array_uuid_roundtrip(db: object) -> None:
    await seed(db)
    t = await Thing.objects.get(n=1)
    assert t.data == {"k": 1}
    if arrays(db):
        assert t.tags == ["a", "b"]
    else:
        # Refused as it is bound, naming the model and field (nothing written).
        with pytest.raises(errors.BadValue, match=r"Thing\.tags.*JSON field"):
            await Thing.objects.create(name="t", tags=["a"])
        assert await Thing.objects.filter(name="t").count() == 0
    assert t.uid == U1
    assert t.price == Decimal("9.99")
    assert t.blob == b"\x00\x01"
    assert t.at == datetime(2005, 3, 14, 15, 9, 26, tzinfo=UTC)
    assert t.day == date(2005, 3, 14)
    assert t.flag is True and isinstance(t.score, float)
    assert await names(data__isnull=True) == ["50 percent", "plain", "Éclair ÀLA mode"]


@pytest.mark.parametrize(
    "kw",
    [
        {"n__in": "abc"},
        {"n__range": (1,)},
        {"nick__isnull": "yes"},
        {"name__contains": 5},
        {"n__gt": None},
    ],
)
async def test_lookup_argument_shapes_are_checked(db: object, kw: dict[str, object]) -> None:
    from chakra import errors

    with pytest.raises(errors.BadValue):
        Thing.objects.filter(**kw)
