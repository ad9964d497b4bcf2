"""Relation paths through relations to many rows in ``order_by``, ``values`` and
``values_list`` give Django's rows (a LEFT OUTER JOIN: the row once per related row, once
with NULL when it has none), on SQLite and PostgreSQL. Every expected list is computed here
in plain Python over the seeded rows (``django_data``), never by Chakra."""

from __future__ import annotations

from typing import Any

import chakra
import pytest
from chakra import Count, F, Max, Q
from django_data import MODELS, Data, DjAuthor, DjBook, DjTag, seed


@pytest.fixture
async def data(db: Any) -> Data:
    await chakra.create_tables(*MODELS)
    return await seed()


def joined_books(data: Data) -> list[tuple[int, int | None]]:
    """(author id, book id or None): Django's LEFT JOIN of authors and their books."""
    return [
        (a.id, i)
        for a in data.authors.values()
        for i in (sorted(a.books) or [None])  # type: ignore[list-item]
    ]


async def test_order_by_a_path_to_many_repeats_the_row_per_related_row(data: Data) -> None:
    b = data.books
    rows = joined_books(data)

    def pages(i: int | None) -> int | None:
        return None if i is None else b[i].pages

    def asc(r: tuple[int, int | None]) -> tuple[bool, int, int]:
        return (pages(r[1]) is None, pages(r[1]) or 0, r[0])

    def desc(r: tuple[int, int | None]) -> tuple[bool, int, int]:
        return (pages(r[1]) is not None, -(pages(r[1]) or 0), r[0])

    # Ascending: authors without books (NULL) last, as on PostgreSQL.
    want = [a for a, _ in sorted(rows, key=asc)]
    got = [o.id for o in await DjAuthor.objects.order_by("books__pages", "id").all()]
    assert got == want
    assert len(got) == len(rows) > len(data.authors)
    # Descending: NULLs first.
    want = [a for a, _ in sorted(rows, key=desc)]
    got = [o.id for o in await DjAuthor.objects.order_by("-books__pages", "id").all()]
    assert got == want
    # count() and aggregate() drop the ordering and its join, as Django's do.
    qs = DjAuthor.objects.order_by("books__pages")
    assert await qs.count() == len(data.authors)
    assert (await qs.aggregate(n=Count("id")))["n"] == len(data.authors)
    # A new ordering drops the join.
    got = [o.id for o in await qs.order_by("id").all()]
    assert got == sorted(data.authors)
    # A slice takes the joined rows in order.
    got = [o.id for o in await DjAuthor.objects.order_by("books__pages", "id")[:5].all()]
    assert got == [a for a, _ in sorted(rows, key=asc)][:5]


async def test_order_by_through_many_to_many(data: Data) -> None:
    b, t = data.books, data.tags
    rows = [(x.id, i) for x in t.values() for i in (sorted(x.books) or [None])]

    def key(r: tuple[int, int | None]) -> tuple[bool, int, int]:
        p = None if r[1] is None else b[r[1]].pages
        return (p is None, p or 0, r[0])

    got = [o.id for o in await DjTag.objects.order_by("books__pages", "id").all()]
    assert got == [x for x, _ in sorted(rows, key=key)]


async def test_values_through_a_path_to_many(data: Data) -> None:
    a, b = data.authors, data.books
    rows = joined_books(data)
    got = await DjAuthor.objects.values("id", "name", "books__title").order_by("id", "books__id")
    assert got == [
        {"id": x, "name": a[x].name, "books__title": None if i is None else b[i].title}
        for x, i in rows
    ]
    # The ordering reuses the join values() made: no second multiplication.
    flat = await DjAuthor.objects.values_list("books__pages", flat=True).order_by("books__pages")
    assert len(flat) == len(rows)
    assert sorted(p for p in flat if p is not None) == sorted(x.pages for x in b.values())
    assert flat.count(None) == sum(1 for _, i in rows if i is None)
    # count() counts the joined rows values() reads.
    assert await DjAuthor.objects.values("books__title").count() == len(rows)
    # `books` alone is the related row's key.
    keys = await DjAuthor.objects.values_list("id", "books").order_by("id", "books")
    assert keys == rows


async def test_values_list_two_hops_through_many_to_many(data: Data) -> None:
    a, b, t = data.authors, data.books, data.tags
    want = []
    for x in sorted(a):
        books = sorted(a[x].books)
        if not books:
            want.append((x, None, None))
        for i in books:
            tags = sorted(b[i].tags)
            if not tags:
                want.append((x, i, None))
            want.extend((x, i, t[k].name) for k in tags)
    got = await DjAuthor.objects.values_list("id", "books__id", "books__tags__name").order_by(
        "id", "books__id", "books__tags__id"
    )
    assert got == want
    # Filtered first (EXISTS), then joined: only the authors with a tagged book, each row
    # per book and tag.
    got = await (
        DjAuthor.objects.filter(books__tags__isnull=False)
        .values_list("id", "books__tags__name")
        .order_by("id", "books__id", "books__tags__id")
    )
    keep = {x for x in a if any(b[i].tags for i in a[x].books)}
    assert got == [(x, n) for x, _, n in want if x in keep]


async def test_a_path_to_many_next_to_aggregates_is_refused(data: Data) -> None:
    with pytest.raises(chakra.errors.InvalidQuery, match="relation to many rows"):
        await DjAuthor.objects.annotate(n=Count("books")).order_by("books__pages").all()
    # The spelling that works: order by an aggregate of the path.
    got = await DjAuthor.objects.annotate(m=Max("books__pages")).order_by("m", "id").all()
    assert len(got) == len(data.authors)


def where(rows: dict[int, Any], pred: Any) -> list[int]:
    return sorted(i for i, r in rows.items() if pred(r))


async def ids(qs: Any) -> list[int]:
    return sorted(o.id for o in await qs.all())


async def test_f_through_a_relation_to_many_in_a_filter(data: Data) -> None:
    a, b, t = data.authors, data.books, data.tags

    def lt(x: int | None, y: int | None) -> bool:
        return x is not None and y is not None and x < y

    # Django joins the books: an author younger than some book's page count (each author
    # once: Chakra's EXISTS, see "Differences from Django").
    want = where(a, lambda x: any(lt(x.age, b[i].pages) for i in x.books))
    assert want and want != where(a, lambda x: bool(x.books))
    assert await ids(DjAuthor.objects.filter(age__lt=F("books__pages"))) == want
    got = await ids(DjAuthor.objects.filter(age__gt=F("books__pages") - 1400))
    assert got == where(a, lambda x: any(lt(b[i].pages - 1400, x.age) for i in x.books))
    # The same relation in one filter() call is one related row (Django reuses the join).
    cheap = 20
    same = where(
        a,
        lambda x: any(
            lt(x.age, b[i].pages) and b[i].price is not None and b[i].price < cheap for i in x.books
        ),
    )
    got = await ids(DjAuthor.objects.filter(age__lt=F("books__pages"), books__price__lt=cheap))
    assert got == same
    got = await ids(
        DjAuthor.objects.filter(Q(age__lt=F("books__pages")) & Q(books__price__lt=cheap))
    )
    assert got == same
    # Reverse and forward many-to-many hops.
    got = await ids(DjTag.objects.filter(id__lt=F("books__author_id")))
    assert got == where(t, lambda x: any(x.id < b[i].author for i in x.books))
    got = await ids(DjBook.objects.filter(pages__gt=F("tags__id") * 100))
    assert got == where(b, lambda x: any(x.pages > k * 100 for k in x.tags))
    # exclude(): no related row meets it.
    got = await ids(DjAuthor.objects.exclude(age__lt=F("books__pages")))
    assert got == where(a, lambda x: not any(lt(x.age, b[i].pages) for i in x.books))


async def test_f_through_a_relation_to_many_in_annotate(data: Data) -> None:
    b = data.books
    rows = joined_books(data)

    def pages(i: int | None) -> int | None:
        return None if i is None else b[i].pages

    qs = DjAuthor.objects.annotate(p=F("books__pages")).order_by("id", "p")
    got = [(o.id, o.p) for o in await qs.all()]
    want = sorted(((x, pages(i)) for x, i in rows), key=lambda r: (r[0], r[1] is None, r[1] or 0))
    assert got == want
    assert await qs.count() == len(rows)
    with pytest.raises(chakra.errors.InvalidQuery, match="relation path to many rows"):
        await qs.annotate(n=Count("books")).all()


async def test_one_join_per_relation_across_and_and_or_branches(data: Data) -> None:
    """Django's join reuse in one filter() call: the books of an OR branch and of the AND
    level are one joined book (a LEFT JOIN: an author without books is its NULL row)."""
    a, b = data.authors, data.books

    def rows(x: Any) -> list[Any]:
        return [b[i] for i in x.books] or [None]

    def long(r: Any) -> bool:
        return r is not None and r.pages > 700

    def cheap(r: Any) -> bool:
        return r is not None and r.price is not None and r.price < 15

    def named(x: Any) -> bool:
        return x.name is not None and x.name.startswith("A")

    qs = DjAuthor.objects.filter(
        Q(books__pages__gt=700) | Q(name__startswith="A"), books__price__lt=15
    )
    want = where(a, lambda x: any((long(r) or named(x)) and cheap(r) for r in rows(x)))
    independent = where(
        a, lambda x: (any(long(r) for r in rows(x)) or named(x)) and any(cheap(r) for r in rows(x))
    )
    assert want != independent
    assert await ids(qs) == want
    # Two OR branches and the AND level on one book; an author without books is the NULL row
    # (only `books=None`-like conditions hold on it).
    qs = DjAuthor.objects.filter(
        Q(books__pages__gt=700) | Q(books__price__isnull=True) | Q(age__isnull=True)
    )
    want = where(
        a,
        lambda x: any(long(r) or (r is None or r.price is None) or x.age is None for r in rows(x)),
    )
    assert await ids(qs) == want


async def test_joined_rows_read_in_chunks(data: Data) -> None:
    """iterator() over joined rows pages in a total order (the joined row's key breaks ties):
    every joined row once, none skipped where the key repeats."""
    b = data.books
    rows = joined_books(data)
    qs = DjAuthor.objects.annotate(p=F("books__pages"))
    got = sorted(
        ((o.id, o.p) for o in [o async for o in qs.iterator(chunk_size=4)]),
        key=lambda r: (r[0], r[1] is None, r[1] or 0),
    )
    want = sorted(
        ((x, None if i is None else b[i].pages) for x, i in rows),
        key=lambda r: (r[0], r[1] is None, r[1] or 0),
    )
    assert got == want
    ordered = DjAuthor.objects.order_by("books__pages", "id")
    assert [o.id async for o in ordered.iterator(chunk_size=3)] == [
        o.id for o in await ordered.all()
    ]
