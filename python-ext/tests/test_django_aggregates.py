"""Django's answers for annotations and aggregates across relations, on SQLite and
PostgreSQL: a filter before ``annotate`` restricts what is counted, ``values(…).annotate(…)``
counts per group, and ``Count``/``Sum``/``Min``/``Max``/``Avg`` over relation paths (with
``distinct=`` and ``filter=`` in Django's path form) in ``annotate()`` and ``aggregate()``.
Expected values are computed here in plain Python over the seeded rows."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import chakra
import pytest
from chakra import Avg, Count, Max, Min, Q, Sum, errors
from django_data import MODELS, Data, DjAuthor, DjBook, seed


@pytest.fixture
async def data(db: Any) -> Data:
    await chakra.create_tables(*MODELS)
    return await seed()


async def annotated(qs: Any, name: str) -> dict[int, Any]:
    return {o.id: getattr(o, name) for o in await qs.all()}


async def test_filter_before_annotate_restricts_the_count(data: Data) -> None:
    a, b = data.authors, data.books
    kept = {
        x.id: sum(1 for i in x.books if b[i].pages > 1000)
        for x in a.values()
        if any(b[i].pages > 1000 for i in x.books)
    }
    assert any(kept[i] != len(a[i].books) for i in kept)
    qs = DjAuthor.objects.filter(books__pages__gt=1000).annotate(n=Count("books"))
    assert await annotated(qs, "n") == kept
    # After annotate, the filter filters on the result and the count is every book.
    qs = DjAuthor.objects.annotate(n=Count("books")).filter(books__pages__gt=1000)
    assert await annotated(qs, "n") == {i: len(a[i].books) for i in kept}


async def test_values_annotate_counts_per_group(data: Data) -> None:
    b = data.books
    tags: dict[int, int] = defaultdict(int)
    pages: dict[int, int] = defaultdict(int)
    for x in b.values():
        tags[x.author] += len(x.tags)
        pages[x.author] += x.pages
    rows = await DjBook.objects.values("author_id").annotate(n=Count("tags")).order_by("author_id")
    assert rows == [{"author_id": k, "n": tags[k]} for k in sorted(tags)]
    rows = (
        await DjBook.objects.values("author_id")
        .annotate(n=Count("tags"), p=Sum("pages"))
        .order_by("author_id")
    )
    assert rows == [{"author_id": k, "n": tags[k], "p": pages[k]} for k in sorted(tags)]


async def test_aggregates_over_relation_paths_per_row(data: Data) -> None:
    a, b = data.authors, data.books

    def prices(x: Any) -> list[int]:
        return [b[i].price for i in x.books if b[i].price is not None]

    qs = DjAuthor.objects.annotate(
        pages=Sum("books__pages"),
        top=Max("books__price"),
        low=Min("books__title"),
        links=Count("books__tags"),
        kinds=Count("books__tags", distinct=True),
        big=Count("books", filter=Q(books__pages__gt=700)),
        mean=Avg("books__pages"),
    )
    got = {o.id: o for o in await qs.all()}
    assert set(got) == set(a)
    for x in a.values():
        o = got[x.id]
        assert o.pages == (sum(b[i].pages for i in x.books) if x.books else None)
        assert o.top == (max(prices(x)) if prices(x) else None)
        assert o.low == (min(b[i].title for i in x.books) if x.books else None)
        assert o.links == sum(len(b[i].tags) for i in x.books)
        assert o.kinds == len({t for i in x.books for t in b[i].tags})
        assert o.big == sum(1 for i in x.books if b[i].pages > 700)
        want = sum(b[i].pages for i in x.books) / len(x.books) if x.books else None
        assert (o.mean is None) == (want is None)
        if want is not None:
            assert abs(o.mean - want) < 1e-9


async def test_aggregate_over_relation_paths(data: Data) -> None:
    a, b = data.authors, data.books
    old = [x for x in a.values() if x.age is not None and x.age > 40]
    got = await DjAuthor.objects.filter(age__gt=40).aggregate(
        n=Count("books"),
        pages=Sum("books__pages"),
        links=Count("books__tags"),
        top=Max("books__pages"),
        cheap=Count("books", filter=Q(books__price__lt=10)),
    )
    mine = [b[i] for x in old for i in x.books]
    assert got == {
        "n": len(mine),
        "pages": sum(x.pages for x in mine) if mine else None,
        "links": sum(len(x.tags) for x in mine),
        "top": max(x.pages for x in mine) if mine else None,
        "cheap": sum(1 for x in mine if x.price is not None and x.price < 10),
    }
    none = await DjAuthor.objects.filter(age__gt=1000).aggregate(n=Count("books"))
    assert none == {"n": 0}
    # Avg over the JOIN: every book of the matching authors counts once.
    got = await DjAuthor.objects.filter(age__gt=40).aggregate(m=Avg("books__pages"))
    assert abs(got["m"] - sum(x.pages for x in mine) / len(mine)) < 1e-9
    cheap = [x for x in mine if x.price is not None and x.price < 10]
    got = await DjAuthor.objects.filter(age__gt=40).aggregate(
        m=Avg("books__price", filter=Q(books__price__lt=10))
    )
    assert abs(got["m"] - sum(x.price for x in cheap) / len(cheap)) < 1e-9  # type: ignore[misc]
    none = await DjAuthor.objects.filter(age__gt=1000).aggregate(m=Avg("books__pages"))
    assert none == {"m": None}
    # distinct=True over the JOIN: a tag reached through several books (of several authors)
    # counts once.
    got = await DjAuthor.objects.filter(age__gt=40).aggregate(
        kinds=Count("books__tags", distinct=True),
        links=Count("books__tags"),
        books=Count("books__id", distinct=True),
        long_kinds=Count("books__tags", distinct=True, filter=Q(books__pages__gt=700)),
    )
    assert got == {
        "kinds": len({t for x in mine for t in x.tags}),
        "links": sum(len(x.tags) for x in mine),
        "books": len(mine),
        "long_kinds": len({t for x in mine if x.pages > 700 for t in x.tags}),
    }
    assert got["kinds"] < got["links"]
    writers = await DjBook.objects.filter(pages__gt=700).aggregate(
        n=Count("author__id", distinct=True)
    )
    assert writers == {"n": len({x.author for x in b.values() if x.pages > 700})}
    with pytest.raises(errors.InvalidAggregate, match="distinct"):
        await DjAuthor.objects.values("age").annotate(n=Count("books__tags", distinct=True))


async def test_avg_over_a_relation_path_per_group(data: Data) -> None:
    a, b = data.authors, data.books
    rows = await DjAuthor.objects.values("age").annotate(m=Avg("books__price")).order_by("age")
    groups: dict[int | None, list[int]] = {}
    for x in a.values():
        prices = [b[i].price for i in x.books]
        groups.setdefault(x.age, []).extend(p for p in prices if p is not None)
    assert [r["age"] for r in rows] == sorted(groups, key=lambda k: (k is None, k or 0))
    for r in rows:
        vals = groups[r["age"]]
        if not vals:
            assert r["m"] is None, r
        else:
            assert abs(r["m"] - sum(vals) / len(vals)) < 1e-9, r


async def test_annotate_then_eager_loading_keeps_the_annotations(data: Data) -> None:
    a, b = data.authors, data.books
    qs = DjAuthor.objects.annotate(n=Count("books"), p=Sum("books__pages")).prefetch_related(
        "books"
    )
    got = await qs.order_by("id").all()
    assert [o.id for o in got] == sorted(a)
    for o in got:
        x = a[o.id]
        assert o.n == len(x.books)
        assert o.p == (sum(b[i].pages for i in x.books) if x.books else None)
        assert sorted(k.id for k in o.books) == sorted(x.books)
    # select_related after annotate: the joined row and the annotation side by side.
    books = await (
        DjBook.objects.annotate(t=Count("tags"))
        .select_related("author", "editor")
        .prefetch_related("tags")
        .order_by("id")
        .all()
    )
    assert [k.id for k in books] == sorted(b)
    for k in books:
        y = b[k.id]
        assert k.t == len(y.tags) and sorted(t.id for t in k.tags) == sorted(y.tags)
        assert k.author.id == y.author and k.author.name == a[y.author].name
        assert (k.editor and k.editor.id) == y.editor
    first = await DjBook.objects.annotate(t=Count("tags")).select_related("author").get(id=1)
    assert first.t == len(b[1].tags) and first.author.id == b[1].author
    # An aggregate annotation groups the query: its joined columns cannot be selected.
    with pytest.raises(errors.InvalidQuery, match="select_related"):
        await DjBook.objects.annotate(m=Max("pages")).select_related("author").all()
