"""Django's answers for filters across relations, on SQLite and PostgreSQL: every expected
row set is computed here in plain Python over the seeded rows (``django_data``), never by
Chakra. Covers ``isnull``/``None`` across forward, reverse and many-to-many hops and their
negations, ``F()`` resolved against the queried model (and ``F("author__age")``), and
``Q(…) & Q(…)`` / ``exclude(…)`` on a relation to many rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import chakra
import pytest
from chakra import Count, F, Q
from django_data import MODELS, Data, DjAuthor, DjBook, DjTag, seed


@pytest.fixture
async def data(db: Any) -> Data:
    await chakra.create_tables(*MODELS)
    return await seed()


async def ids(qs: Any) -> list[int]:
    return sorted(o.id for o in await qs.all())


def where(rows: dict[int, Any], pred: Callable[[Any], bool]) -> list[int]:
    return sorted(i for i, r in rows.items() if pred(r))


# -- 1. isnull / None across relations ------------------------------------------------------


async def test_isnull_forward_nullable_fk(data: Data) -> None:
    a, b = data.authors, data.books
    no_age = where(b, lambda x: x.editor is None or a[x.editor].age is None)
    assert no_age != where(b, lambda x: x.editor is not None and a[x.editor].age is None)
    assert await ids(DjBook.objects.filter(editor__age__isnull=True)) == no_age
    assert await ids(DjBook.objects.filter(editor__age=None)) == no_age
    no_name = where(b, lambda x: x.editor is None or a[x.editor].name is None)
    assert await ids(DjBook.objects.filter(editor__name=None)) == no_name
    rest = where(b, lambda x: x.editor is not None and a[x.editor].age is not None)
    assert await ids(DjBook.objects.exclude(editor__age__isnull=True)) == rest
    assert await ids(DjBook.objects.filter(~Q(editor__age=None))) == rest
    assert await ids(DjBook.objects.filter(editor__age__isnull=False)) == rest


async def test_none_reverse_and_many_to_many(data: Data) -> None:
    a, b, t = data.authors, data.books, data.tags
    bookless = where(a, lambda x: not x.books)
    assert bookless
    assert await ids(DjAuthor.objects.filter(books=None)) == bookless
    assert await ids(DjAuthor.objects.filter(books__isnull=True)) == bookless
    assert await ids(DjAuthor.objects.filter(books__id=None)) == bookless
    assert await ids(DjAuthor.objects.exclude(books=None)) == where(a, lambda x: bool(x.books))
    no_price = where(a, lambda x: not x.books or any(b[i].price is None for i in x.books))
    assert await ids(DjAuthor.objects.filter(books__price=None)) == no_price
    # Two hops: no book, or a book without tags.
    untagged = where(a, lambda x: not x.books or any(not b[i].tags for i in x.books))
    assert await ids(DjAuthor.objects.filter(books__tags=None)) == untagged
    assert await ids(DjAuthor.objects.filter(books__tags__isnull=True)) == untagged
    assert await ids(DjAuthor.objects.exclude(books__tags=None)) == where(
        a, lambda x: x.id not in untagged
    )
    assert await ids(DjBook.objects.filter(tags=None)) == where(b, lambda x: not x.tags)
    assert await ids(DjTag.objects.filter(books__editor=None)) == where(
        t, lambda x: not x.books or any(b[i].editor is None for i in x.books)
    )


# -- 2. F() resolves against the queried model ----------------------------------------------


async def test_f_inside_relation_lookup_reads_the_outer_row(data: Data) -> None:
    a, b = data.authors, data.books
    want = where(a, lambda x: any(i > x.id for i in x.books))
    assert want and want != where(a, lambda x: bool(x.books))
    assert await ids(DjAuthor.objects.filter(books__id__gt=F("id"))) == want
    older = where(a, lambda x: x.age is not None and any(b[i].pages > x.age * 10 for i in x.books))
    assert await ids(DjAuthor.objects.filter(books__pages__gt=F("age") * 10)) == older
    assert await ids(DjAuthor.objects.exclude(books__id__gt=F("id"))) == where(
        a, lambda x: x.id not in want
    )


async def test_f_path_across_single_valued_relations(data: Data) -> None:
    a, b = data.authors, data.books

    def age(i: int | None) -> int | None:
        return None if i is None else a[i].age

    def lt(x: int | None, y: int | None) -> bool:
        return x is not None and y is not None and x < y

    want = where(b, lambda x: lt(age(x.editor), age(x.author)))
    assert want
    assert await ids(DjBook.objects.filter(editor__age__lt=F("author__age"))) == want
    assert await ids(DjBook.objects.filter(pages__gt=F("author__age") * 20)) == where(
        b,
        lambda x: age(x.author) is not None and x.pages > age(x.author) * 20,  # type: ignore[operator]
    )
    # Through a relation to many rows: test_django_paths.py.


# -- 3. Q & Q on a relation to many rows; exclude --------------------------------------------

PAGES, PRICE = 1000, 10


def big(b: Any) -> bool:
    return bool(b.pages > PAGES)


def cheap(b: Any) -> bool:
    return b.price is not None and b.price < PRICE


async def test_q_and_q_in_one_filter_is_one_related_row(data: Data) -> None:
    a, b = data.authors, data.books
    one = where(a, lambda x: any(big(b[i]) and cheap(b[i]) for i in x.books))
    two = where(a, lambda x: any(big(b[i]) for i in x.books) and any(cheap(b[i]) for i in x.books))
    assert one != two  # the data tells the two readings apart
    q = Q(books__pages__gt=PAGES) & Q(books__price__lt=PRICE)
    assert await ids(DjAuthor.objects.filter(q)) == one
    assert await ids(DjAuthor.objects.filter(books__pages__gt=PAGES, books__price__lt=PRICE)) == one
    # Separate filter() calls: possibly different books (Django's rule).
    assert (
        await ids(DjAuthor.objects.filter(books__pages__gt=PAGES).filter(books__price__lt=PRICE))
        == two
    )


async def test_exclude_with_two_conditions_on_many(data: Data) -> None:
    a, b = data.authors, data.books
    some_big = {x.id for x in a.values() if any(big(b[i]) for i in x.books)}
    some_cheap = {x.id for x in a.values() if any(cheap(b[i]) for i in x.books)}
    remain = where(a, lambda x: not (x.id in some_big and x.id in some_cheap))
    one = where(a, lambda x: not any(big(b[i]) and cheap(b[i]) for i in x.books))
    assert remain != one
    assert (
        await ids(DjAuthor.objects.exclude(books__pages__gt=PAGES, books__price__lt=PRICE))
        == remain
    )
    q = Q(books__pages__gt=PAGES) & Q(books__price__lt=PRICE)
    assert await ids(DjAuthor.objects.exclude(q)) == remain
    assert await ids(DjAuthor.objects.filter(~q)) == remain


# -- 5. order_by / values across relations --------------------------------------------------


def nulls_last(v: Any) -> tuple[bool, Any]:
    """PostgreSQL's order (and Chakra's on SQLite): NULL after every value ascending."""
    return (v is None, v if v is not None else 0)


async def test_order_by_across_relations_keeps_rows_without_the_related_row(data: Data) -> None:
    a, b = data.authors, data.books

    def editor_age(x: Any) -> int | None:
        return None if x.editor is None else a[x.editor].age

    got = [o.id for o in await DjBook.objects.order_by("author__age", "id").all()]
    assert got == sorted(b, key=lambda i: (nulls_last(a[b[i].author].age), i))
    got = [o.id for o in await DjBook.objects.order_by("-editor__age", "id").all()]
    # Descending: NULLs (no editor, or an editor without an age) first, as PostgreSQL does.
    want = sorted(b, key=lambda i: (editor_age(b[i]) is not None, -(editor_age(b[i]) or 0), i))
    assert got == want
    assert len(got) == len(b)
    # Through a relation to many rows: test_django_paths.py.


async def test_values_across_relations(data: Data) -> None:
    a, b = data.authors, data.books
    rows = await DjBook.objects.values("id", "author__name", "editor__age").order_by("id")
    assert rows == [
        {
            "id": x.id,
            "author__name": a[x.author].name,
            "editor__age": None if x.editor is None else a[x.editor].age,
        }
        for x in sorted(b.values(), key=lambda x: x.id)
    ]
    flat = await DjBook.objects.values_list("editor__name", flat=True).order_by("id")
    assert flat == [None if x.editor is None else a[x.editor].name for x in b.values()]
    counts: dict[int | None, int] = {}
    for x in b.values():
        age = a[x.author].age
        counts[age] = counts.get(age, 0) + 1
    rows = await DjBook.objects.values("author__age").annotate(n=Count("id"))
    got = sorted((r["author__age"] is None, r["author__age"] or 0, r["n"]) for r in rows)
    assert got == sorted((k is None, k or 0, n) for k, n in counts.items())
