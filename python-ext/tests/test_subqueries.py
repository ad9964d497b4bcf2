"""Subqueries, as in Django, on SQLite and PostgreSQL: ``Exists(qs)`` in ``filter``,
``exclude`` and ``annotate``; ``Subquery(qs.values("x")[:1])`` in ``annotate`` and as a
compared value; ``field__in=qs.values("id")``; ``OuterRef`` to the enclosing query's
fields (also when both read the same table); named errors for misuse."""

from __future__ import annotations

import pytest
from chakra import Count, Exists, OuterRef, Subquery, errors
from models import Post, User


async def seed() -> None:
    for name, balance in [("ann", 10), ("bob", 20), ("cid", 30), ("dee", 5)]:
        await User.objects.create(username=name, email=f"{name}@x", balance=balance)
    ann, bob, cid = [await User.objects.get(username=n) for n in ("ann", "bob", "cid")]
    for title, author in [("a1", ann), ("a2", ann), ("b1", bob), ("c1", cid)]:
        await Post.objects.create(title=title, author=author)


async def names(qs: object) -> list[str]:
    return await qs.order_by("id").values_list("username", flat=True)  # type: ignore[attr-defined,no-any-return]


async def test_exists_in_filter_exclude_and_annotate(db: object) -> None:
    await seed()
    posts = Post.objects.filter(author=OuterRef("pk"))
    assert await names(User.objects.filter(Exists(posts))) == ["ann", "bob", "cid"]
    assert await names(User.objects.filter(~Exists(posts))) == ["dee"]
    assert await names(User.objects.exclude(Exists(posts))) == ["dee"]
    with_a = Post.objects.filter(author=OuterRef("pk"), title__startswith="a")
    assert await names(User.objects.filter(Exists(with_a), balance__gte=10)) == ["ann"]
    rows = (
        await User.objects.annotate(has_posts=Exists(posts))
        .order_by("id")
        .values_list("username", "has_posts")
    )
    assert [tuple(r) for r in rows] == [("ann", True), ("bob", True), ("cid", True), ("dee", False)]


async def test_subquery_values(db: object) -> None:
    await seed()
    latest = Post.objects.filter(author=OuterRef("pk")).order_by("-id").values("title")[:1]
    rows = (
        await User.objects.annotate(latest=Subquery(latest))
        .order_by("id")
        .values_list("username", "latest")
    )
    assert [tuple(r) for r in rows] == [("ann", "a2"), ("bob", "b1"), ("cid", "c1"), ("dee", None)]
    # A compared value: users richer than ann.
    ann_balance = User.objects.filter(username="ann").values("balance")[:1]
    assert await names(User.objects.filter(balance__gt=Subquery(ann_balance))) == ["bob", "cid"]


async def test_in_a_queryset(db: object) -> None:
    await seed()
    authors = Post.objects.filter(title__endswith="1").values("author")
    assert await names(User.objects.filter(id__in=authors)) == ["ann", "bob", "cid"]
    assert await names(User.objects.exclude(id__in=authors)) == ["dee"]
    assert await names(User.objects.filter(pk__in=Subquery(authors))) == ["ann", "bob", "cid"]


async def test_same_table_outer_ref(db: object) -> None:
    await seed()
    # Users with someone poorer: the inner `users` is aliased, OuterRef reaches the outer one.
    poorer = User.objects.filter(balance__lt=OuterRef("balance"))
    assert await names(User.objects.filter(Exists(poorer))) == ["ann", "bob", "cid"]
    rows = (
        await User.objects.annotate(richer=Count("id"))  # sanity: annotations still compose
        .filter(~Exists(poorer))
        .values_list("username", flat=True)
    )
    assert list(rows) == ["dee"]


def test_misuse_is_a_named_error() -> None:
    with pytest.raises(errors.UnknownField):
        User.objects.filter(Exists(Post.objects.filter(author=OuterRef("nope")))).sql("sqlite")
    with pytest.raises(errors.InvalidQuery):
        User.objects.annotate(x=Subquery(Post.objects.filter(author=OuterRef("pk")))).sql("sqlite")
    with pytest.raises(errors.InvalidQuery):
        User.objects.filter(id=OuterRef("pk")).sql("sqlite")
    with pytest.raises(errors.BadValue):
        User.objects.filter(id__in=Post.objects.values("title"))
    with pytest.raises(TypeError):
        User.objects.filter(object())  # type: ignore[arg-type]
