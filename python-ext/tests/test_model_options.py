"""``class Meta: ordering``: the default ordering, held once in the core's ``ModelMeta``,
applied where Django applies it (plain querysets, ``first``/``last``, related managers,
``prefetch_related``) and dropped where Django drops it (``count``, ``exists``,
``aggregate``, grouped ``values().annotate()``); ``order_by()`` replaces it. Expected orders
are computed in Python from the rows inserted (``sorted``), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import chakra
import pytest
from chakra import Count, Date, DateTime, Field, ForeignKey, Integer, Model, String, Sum, errors
from test_conveniences import statements


class MoShelf(Model):
    __tablename__ = "mo_shelves"
    id = Field(Integer, primary_key=True)
    name = Field(String(20))

    class Meta:
        ordering = ["-name"]


class MoBook(Model):
    __tablename__ = "mo_books"
    id = Field(Integer, primary_key=True)
    title = Field(String(40))
    pages = Field(Integer)
    genre = Field(String(20))
    shelf = ForeignKey("MoShelf", "books", type_=Integer)

    class Meta:
        ordering = ["-pages", "title"]


SHELVES = [(1, "alpha"), (2, "gamma"), (3, "beta")]
# (id, title, pages, genre, shelf_id): ties on pages so the second key matters.
BOOKS = [
    (1, "dune", 300, "sf", 1),
    (2, "emma", 200, "novel", 2),
    (3, "anna", 300, "novel", 1),
    (4, "beowulf", 100, "poem", 3),
    (5, "carrie", 200, "horror", 1),
    (6, "aeneid", 100, "poem", 2),
]


def by_default(rows: list[tuple[Any, ...]]) -> list[str]:
    """Titles in ``-pages, title`` order, computed in Python."""
    return [r[1] for r in sorted(rows, key=lambda r: (-r[2], r[1]))]


@pytest.fixture
async def books(db: Any) -> None:
    await chakra.create_tables(MoShelf, MoBook)
    await MoShelf.objects.bulk_create([MoShelf(id=i, name=n) for i, n in SHELVES])
    await MoBook.objects.bulk_create(
        [MoBook(id=i, title=t, pages=p, genre=g, shelf_id=s) for i, t, p, g, s in BOOKS]
    )


async def test_plain_querysets_follow_meta_ordering(books: None) -> None:
    assert [b.title for b in await MoBook.objects.all()] == by_default(BOOKS)
    assert [b.title for b in MoBook.objects.all_sync()] == by_default(BOOKS)
    novels = [r for r in BOOKS if r[3] == "novel"]
    assert [b.title for b in await MoBook.objects.filter(genre="novel")] == by_default(novels)
    assert [n for (n,) in await MoShelf.objects.values_list("name")] == sorted(
        (n for _, n in SHELVES), reverse=True
    )
    # A slice takes the first rows of that order.
    assert [b.title for b in await MoBook.objects.all()[1:3]] == by_default(BOOKS)[1:3]


async def test_first_and_last_use_it(books: None) -> None:
    first, last = by_default(BOOKS)[0], by_default(BOOKS)[-1]
    assert (await MoBook.objects.first()).title == first  # type: ignore[union-attr]
    assert (await MoBook.objects.last()).title == last  # type: ignore[union-attr]
    assert MoBook.objects.last_sync().title == last  # type: ignore[union-attr]


async def test_order_by_replaces_it_and_empty_order_by_clears_it(books: None) -> None:
    got = [b.title for b in await MoBook.objects.order_by("title")]
    assert got == sorted(r[1] for r in BOOKS)
    sql = MoBook.objects.order_by().sql("postgres")
    assert "ORDER BY" not in sql
    assert "ORDER BY" in MoBook.objects.all().sql("postgres")
    # The default is not kept behind the explicit key: ties keep no `pages` order.
    assert '"pages"' not in MoBook.objects.order_by("genre").sql("postgres").split("ORDER BY")[1]


async def test_related_managers_and_prefetch_use_the_target_ordering(books: None) -> None:
    shelf = await MoShelf.objects.get(id=1)
    mine = [r for r in BOOKS if r[4] == 1]
    assert [b.title for b in await shelf.books.all()] == by_default(mine)
    shelves = await MoShelf.objects.prefetch_related("books")
    assert [s.name for s in shelves] == sorted((n for _, n in SHELVES), reverse=True)
    for s in shelves:
        assert [b.title for b in s.books] == by_default([r for r in BOOKS if r[4] == s.id])


async def test_count_exists_aggregate_and_grouping_drop_it(books: None) -> None:
    with statements() as seen:
        assert await MoBook.objects.count() == len(BOOKS)
        assert await MoBook.objects.filter(pages__gt=150).exists()
        agg = await MoBook.objects.aggregate(total=Sum("pages"))
    assert agg == {"total": sum(r[2] for r in BOOKS)}
    assert len(seen) == 3 and not any("ORDER BY" in s for s in seen), seen
    # values().annotate() groups by the values only, never by the default ordering's
    # columns (Django 3.1+: Meta.ordering is not used in GROUP BY queries).
    per_genre = await MoBook.objects.values("genre").annotate(n=Count("id"))
    expected: dict[str, int] = {}
    for r in BOOKS:
        expected[r[3]] = expected.get(r[3], 0) + 1
    assert {d["genre"]: d["n"] for d in per_genre} == expected
    grouped = MoBook.objects.values("genre").annotate(n=Count("id")).sql("postgres")
    assert "ORDER BY" not in grouped and '"pages"' not in grouped
    # An explicit ordering of a grouped query stays.
    ordered = await MoBook.objects.values("genre").annotate(n=Count("id")).order_by("genre")
    assert [d["genre"] for d in ordered] == sorted(expected)


def test_unknown_field_in_ordering_is_a_named_error() -> None:
    with pytest.raises(errors.UnknownField, match=r"MoBad.*nope|nope.*MoBad"):

        class MoBad(Model):
            __tablename__ = "mo_bad"
            id = Field(Integer, primary_key=True)

            class Meta:
                ordering = ["-nope"]

    with pytest.raises(TypeError, match=r"MoBad2\.Meta\.ordering"):

        class MoBad2(Model):
            __tablename__ = "mo_bad2"
            id = Field(Integer, primary_key=True)

            class Meta:
                ordering = [1]


class MoChecked(Model):
    __tablename__ = "mo_checked"
    id = Field(Integer, primary_key=True)
    title = Field(String(40))
    pages = Field(Integer)
    genre = Field(String(20))

    def clean(self) -> None:
        problems: dict[str, str | list[str]] = {}
        if not self.title.strip():
            problems["title"] = "must not be blank"
        if self.pages <= 0:
            problems["pages"] = ["must be positive"]
        if problems:
            raise errors.ValidationError(problems)
        if self.genre == "poem" and self.pages > 100:
            raise errors.ValidationError("a poem has at most 100 pages")


async def test_clean_runs_before_every_write_of_objects(db: Any) -> None:
    await chakra.create_tables(MoChecked)
    with statements() as seen:
        with pytest.raises(errors.ValidationError) as caught:
            await MoChecked(title=" ", pages=0, genre="sf").save()
    assert seen == [], "refused before any SQL"
    e = caught.value
    assert e.model == "MoChecked"
    assert e.errors == {"title": ["must not be blank"], "pages": ["must be positive"]}
    assert "MoChecked failed validation" in str(e) and "title: must not be blank" in str(e)
    assert isinstance(e, ValueError)
    with pytest.raises(errors.ValidationError) as caught:
        MoChecked(title="odyssey", pages=500, genre="poem").save_sync()
    assert caught.value.errors == {"__all__": ["a poem has at most 100 pages"]}
    with pytest.raises(errors.ValidationError):
        await MoChecked.objects.create(title="", pages=3, genre="sf")
    # bulk_create refuses the whole batch when one object is invalid.
    with pytest.raises(errors.ValidationError):
        await MoChecked.objects.bulk_create(
            [MoChecked(title="ok", pages=1, genre="sf"), MoChecked(title="", pages=1, genre="sf")]
        )
    assert await MoChecked.objects.count() == 0
    # A valid object is written; a change that breaks it is refused and the row kept.
    good = await MoChecked.objects.create(title="ok", pages=10, genre="sf")
    good.pages = -1
    with pytest.raises(errors.ValidationError):
        await good.save(update_fields=["pages"])
    with pytest.raises(errors.ValidationError):
        good.save_sync()
    assert [p for (p,) in await MoChecked.objects.values_list("pages")] == [10]


class MoStamped(Model):
    __tablename__ = "mo_stamped"
    id = Field(Integer, primary_key=True)
    title = Field(String(40))
    created = Field(DateTime, auto_now_add=True, nullable=True)
    changed = Field(DateTime, auto_now=True, nullable=True)
    day = Field(Date, auto_now=True, nullable=True)


def _between(lo: dt.datetime, v: Any, hi: dt.datetime) -> bool:
    return isinstance(v, dt.datetime) and lo <= v <= hi


async def test_auto_now_and_auto_now_add(db: Any) -> None:
    await chakra.create_tables(MoStamped)
    t0 = dt.datetime.now(dt.timezone.utc)
    a = MoStamped(title="a")
    await a.save()
    t1 = dt.datetime.now(dt.timezone.utc)
    assert _between(t0, a.created, t1) and a.changed == a.created
    assert a.day == a.changed.date()
    row = await MoStamped.objects.get(id=a.id)
    assert (row.created, row.changed, row.day) == (a.created, a.changed, a.day)

    # save(): auto_now moves, auto_now_add stays.
    first_created, first_changed = a.created, a.changed
    a.title = "a2"
    await a.save()
    assert a.created == first_created and a.changed > first_changed  # type: ignore[operator]
    row = await MoStamped.objects.get(id=a.id)
    assert (row.created, row.changed) == (first_created, a.changed)

    # save(update_fields=…): auto_now only when listed (Django's rule).
    before = a.changed
    a.title = "a3"
    await a.save(update_fields=["title"])
    assert (await MoStamped.objects.get(id=a.id)).changed == before
    await a.save(update_fields=["title", "changed"])
    assert a.changed > before  # type: ignore[operator]
    assert (await MoStamped.objects.get(id=a.id)).changed == a.changed

    # QuerySet.update() and bulk_update() leave them alone, as in Django.
    stamp = a.changed
    await MoStamped.objects.filter(id=a.id).update(title="a4")
    a.title = "a5"
    await MoStamped.objects.bulk_update([a], ["title"])
    assert (await MoStamped.objects.get(id=a.id)).changed == stamp

    # create() and bulk_create(): set on insert, one instant for a batch, even over a
    # given value (Django's auto_now_add overrides it too).
    old = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    c = await MoStamped.objects.create(title="c", created=old)
    assert c.created is not None and c.created > old
    objs = await MoStamped.objects.bulk_create([MoStamped(title="x"), MoStamped(title="y")])
    assert objs[0].created == objs[1].created and objs[0].created is not None

    # A session writes a changed object's auto_now field with its changes.
    async with chakra.Session() as s:
        got = await s.get(MoStamped, c.id)
        assert got is not None
        got.title = "c2"
        await s.commit()
    fresh = await MoStamped.objects.get(id=c.id)
    assert fresh.title == "c2" and fresh.changed > c.changed  # type: ignore[operator]
    assert fresh.created == c.created


def test_auto_now_needs_a_date_or_datetime_field() -> None:
    with pytest.raises(errors.ConfigError, match=r"MoBadStamp\.n"):

        class MoBadStamp(Model):
            __tablename__ = "mo_bad_stamp"
            id = Field(Integer, primary_key=True)
            n = Field(Integer, auto_now=True)
