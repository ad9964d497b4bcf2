"""Annotations and grouping on SQLite and PostgreSQL: ``values(...).annotate(...)`` groups
by the values' fields, a filter over an aggregate annotation is ``HAVING``, ``order_by``
takes annotation names, ``annotate`` on model rows puts the values on the instances, and a
relation aggregate (``Count("posts")``) is a correlated subquery."""

from __future__ import annotations

from decimal import Decimal

import pytest
from chakra import Count, Max, Q, Sum, errors
from models import Post, Thing, User


async def seed_things() -> None:
    await Thing.objects.bulk_create(
        [
            Thing(name="fr", n=10, price=Decimal("0.10")),
            Thing(name="fr", n=20, price=Decimal("0.20")),
            Thing(name="de", n=30, price=Decimal("9.50")),
            Thing(name="de", n=None, price=Decimal("10.00")),
            Thing(name="us", n=40, price=None),
        ]
    )


async def test_values_annotate_groups_by_the_values(db: object) -> None:
    await seed_things()
    qs = Thing.objects.values("name").annotate(n_rows=Count("id"), total=Sum("price"))
    rows = await qs.order_by("name")
    assert rows == [
        {"name": "de", "n_rows": 2, "total": Decimal("19.50")},
        {"name": "fr", "n_rows": 2, "total": Decimal("0.30")},
        {"name": "us", "n_rows": 1, "total": None},
    ]
    # filter on an aggregate annotation is HAVING; on a field, WHERE.
    having = qs.filter(n_rows__gt=1, name__startswith="d")
    assert 'HAVING COUNT("things"."id") > $' in having.sql("postgres")
    assert await having == [{"name": "de", "n_rows": 2, "total": Decimal("19.50")}]
    # order_by an annotation, descending; values_list works as well.
    top = Thing.objects.values_list("name").annotate(m=Max("n")).order_by("-m", "name")
    assert await top == [("us", 40), ("de", 30), ("fr", 20)]
    assert await qs.count() == 3


async def test_annotate_puts_values_on_instances(db: object) -> None:
    a = await User.objects.create(username="a", email="a@x")
    b = await User.objects.create(username="b", email="b@x")
    await User.objects.create(username="c", email="c@x")
    await Post.objects.bulk_create(
        [Post(title="p1", author_id=a.id), Post(title="p2", author_id=a.id),
         Post(title="q1", author_id=b.id)]
    )  # fmt: skip
    users = await User.objects.annotate(n_posts=Count("posts")).order_by("id")
    assert [(u.username, u.n_posts) for u in users] == [("a", 2), ("b", 1), ("c", 0)]
    only_p = User.objects.annotate(n_p=Count("posts", filter=Q(posts__title__startswith="p")))
    assert [u.n_p for u in await only_p.order_by("id")] == [2, 0, 0]
    busy = await User.objects.annotate(n_posts=Count("posts")).filter(n_posts__gte=1)
    assert sorted(u.username for u in busy) == ["a", "b"]
    ordered = await User.objects.annotate(n=Count("posts")).order_by("-n", "id")
    assert [u.username for u in ordered] == ["a", "b", "c"]
    # An aggregate over the model's own rows groups by the primary key.
    per_user = await User.objects.annotate(m=Max("balance")).order_by("id")
    assert [u.m for u in per_user] == [0, 0, 0]


def test_annotation_names_and_fields_are_checked_before_sql() -> None:
    with pytest.raises(errors.AnnotationConflict):
        User.objects.annotate(username=Count("posts"))
    with pytest.raises(errors.AnnotationConflict):
        User.objects.annotate(posts=Count("id"))
    with pytest.raises(errors.UnknownField):
        User.objects.annotate(n=Count("nope"))
    with pytest.raises(errors.InvalidAggregate):
        User.objects.annotate(n=Sum("posts__title"))
    with pytest.raises(errors.InvalidAggregate):
        User.objects.annotate(n=Sum("username"))
    with pytest.raises(errors.UnknownField):
        User.objects.annotate(n=Count("posts")).filter(m__gt=1)


async def test_values_and_values_list_take_expressions(db: object) -> None:
    from chakra import F, Lower
    from models import User

    await User.objects.create(username="Ann", email="A@X", balance=5)
    await User.objects.create(username="Bob", email="B@X", balance=7)
    rows = await User.objects.order_by("id").values("username", lower=Lower("username"))
    assert rows == [
        {"username": "Ann", "lower": "ann"},
        {"username": "Bob", "lower": "bob"},
    ]
    only = await User.objects.order_by("id").values(double=F("balance") * 2)
    assert only == [{"double": 10}, {"double": 14}]
    pairs = await User.objects.order_by("id").values_list("username", Lower("email"))
    assert [tuple(p) for p in pairs] == [("Ann", "a@x"), ("Bob", "b@x")]
    flat = await User.objects.order_by("id").values_list(F("balance") + 1, flat=True)
    assert list(flat) == [6, 8]
