"""A small library service written with full static types: checked by ``mypy --strict`` and
``pyright --strict`` in the test command (``python-ext/scripts/test.sh``), and run by
``tests/test_typed_library.py`` on SQLite and PostgreSQL.

Each ``assert_type`` states what a type checker must infer for a Chakra call. If a type
widens (to ``Any``, or from ``int | None`` to ``int``), ``assert_type`` fails the check: an
``Any`` where ``Book`` is expected is an error in both checkers.

How a model gets precise types:

- ``Field(Integer)`` is a ``Field[int]``, ``Field(Integer, nullable=True)`` a
  ``Field[int | None]``; on an instance the attribute reads as ``int`` / ``int | None``.
- ``ForeignKey(Author)`` is a ``ForeignKey[Author, int]``; ``nullable=True`` makes it
  ``ForeignKey[Author | None, int | None]``. A target named by a string needs the annotation.
  ``author_id = author.key_field()`` declares the key attribute the foreign key adds.
- ``OneToMany`` / ``ManyToMany`` annotated ``ClassVar[OneToMany[Book]]`` read as a
  ``RelatedManager[Book]`` on instances (``ClassVar`` keeps them out of the constructor); the
  accessor a ``back_populates`` installs is declared ``ClassVar[Reverse[...]]``.
- Annotated attributes are the constructor's keyword arguments (``typing.dataclass_transform``
  on the model metaclass): ``Book(title=1)`` or ``Book(titel="x")`` are type errors.

python typed_library.py     # uses CHAKRA_DATABASE_URL, chakra.toml or sqlite://chakra.db
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal as Dec
from typing import Any, ClassVar

import chakra
from chakra import (
    CASCADE,
    NOW,
    SET_NULL,
    BigInteger,
    Boolean,
    Count,
    Date,
    DateTime,
    Decimal,
    Field,
    ForeignKey,
    Integer,
    ManyToMany,
    Model,
    OneToMany,
    Paginator,
    QuerySet,
    RelatedManager,
    Reverse,
    Session,
    String,
    SyncSession,
    Text,
)
from chakra.pagination import Page
from chakra.query import ValuesQuerySet
from typing_extensions import assert_type

__all__ = ["MODELS", "Author", "Book", "Loan", "Member", "Tag", "main", "run", "run_sync"]


class Author(Model):
    __tablename__ = "typed_authors"

    id: Field[int] = Field(BigInteger, primary_key=True)
    name: Field[str] = Field(String(100), unique=True)
    born: Field[dt.date | None] = Field(Date, nullable=True)
    books: ClassVar[OneToMany[Book]] = OneToMany("Book", back_populates="author")


class Tag(Model):
    __tablename__ = "typed_tags"

    id: Field[int] = Field(BigInteger, primary_key=True)
    label: Field[str] = Field(String(30), unique=True)
    # Installed by Book.tags (back_populates); declared for the static types only.
    books: ClassVar[Reverse[RelatedManager[Book]]]


class Book(Model):
    __tablename__ = "typed_books"

    id: Field[int] = Field(BigInteger, primary_key=True)
    title: Field[str] = Field(String(200))
    pages: Field[int | None] = Field(Integer, nullable=True)
    price: Field[Dec] = Field(Decimal(8, 2), default=Dec("0"))
    summary: Field[str] = Field(Text, default="")
    author: ForeignKey[Author, int] = ForeignKey(Author, on_delete=CASCADE)
    author_id: Field[int] = author.key_field()
    editor: ForeignKey[Author | None, int | None] = ForeignKey(
        Author, nullable=True, on_delete=SET_NULL
    )
    editor_id: Field[int | None] = editor.key_field()
    tags: ClassVar[ManyToMany[Tag]] = ManyToMany(
        Tag, through="typed_book_tags", back_populates="books"
    )


class Member(Model):
    __tablename__ = "typed_members"

    id: Field[int] = Field(BigInteger, primary_key=True)
    email: Field[str] = Field(String(200), unique=True)
    active: Field[bool] = Field(Boolean, default=True)
    loans: ClassVar[OneToMany[Loan]] = OneToMany("Loan", back_populates="member")


class Loan(Model):
    __tablename__ = "typed_loans"

    id: Field[int] = Field(BigInteger, primary_key=True)
    book: ForeignKey[Book, int] = ForeignKey(Book, on_delete=CASCADE)
    book_id: Field[int] = book.key_field()
    member: ForeignKey[Member, int] = ForeignKey("Member", on_delete=CASCADE)
    member_id: Field[int] = member.key_field()
    opened_at: Field[dt.datetime] = Field(DateTime, default=NOW)
    returned_at: Field[dt.datetime | None] = Field(DateTime, nullable=True)


MODELS: tuple[type[Model], ...] = (Author, Tag, Book, Member, Loan)


def check_declarations() -> None:
    """What the declarations read as, on the class and on instances (no database)."""
    # Unannotated declarations infer the same types as the annotations above.
    pages = Field(Integer, nullable=True)
    assert_type(pages, Field[int | None])
    assert_type(Field(String(10)), Field[str])
    assert_type(Field(Boolean, nullable=False), Field[bool])
    assert_type(ForeignKey(Author), ForeignKey[Author, int])
    assert_type(ForeignKey(Author, nullable=True), ForeignKey[Author | None, int | None])
    assert_type(ForeignKey(Author, type_=Integer), ForeignKey[Author, int])

    assert_type(Book.pages, Field[int | None])
    assert_type(Book.author, ForeignKey[Author, int])
    assert_type(Book.author_id, Field[int])
    assert_type(Author.books, OneToMany[Book])
    assert_type(Tag.books, Reverse[RelatedManager[Book]])

    author = Author(name="Ursula", born=dt.date(1929, 10, 21))
    book = Book(title="The Dispossessed", pages=None, author=author, price=Dec("9.50"))
    assert_type(book.title, str)
    assert_type(book.pages, int | None)
    assert_type(book.price, Dec)
    assert_type(book.author_id, int)
    assert_type(book.editor_id, int | None)
    assert_type(book.author, Author)
    assert_type(book.editor, Author | None)
    assert_type(book.tags, RelatedManager[Tag])
    assert_type(author.books, RelatedManager[Book])
    assert_type(author.born, dt.date | None)
    assert_type(Book.objects, QuerySet[Book])
    book.pages = 320
    book.pages = None
    book.editor = None


async def run() -> dict[str, Any]:
    """The async door, every terminal typed; returns what it read (checked by the test)."""
    ursula = await Author.objects.create(name="Ursula")
    assert_type(ursula, Author)
    terry = Author(name="Terry")
    await terry.save()
    books = await Book.objects.bulk_create(
        [
            Book(title="The Dispossessed", pages=387, author=ursula, price=Dec("9.50")),
            Book(title="The Lathe of Heaven", pages=None, author=ursula, editor=terry),
            Book(title="Mort", pages=272, author=terry),
        ]
    )
    assert_type(books, list[Book])
    fantasy = await Tag.objects.create(label="fantasy")
    await books[2].tags.add(fantasy)
    member = await Member.objects.create(email="reader@example.com")
    await Loan.objects.create(book=books[0], member=member)

    qs = Book.objects.filter(author=ursula).order_by("title")
    assert_type(qs, QuerySet[Book])
    assert_type(qs.exclude(pages=None), QuerySet[Book])
    assert_type(qs[0:1], QuerySet[Book])
    assert_type(qs.select_related("author").distinct(), QuerySet[Book])
    assert_type(qs.only("title").defer("title"), QuerySet[Book])
    rows = await qs
    assert_type(rows, list[Book])
    assert_type(await qs.all(), list[Book])
    assert_type(await qs[0], Book)
    one = await Book.objects.get(title="Mort")
    assert_type(one, Book)
    first = await qs.first()
    assert_type(first, Book | None)
    assert_type(await qs.last(), Book | None)
    assert_type(await qs.latest("id"), Book)
    assert_type(await qs.earliest("id"), Book)
    n = await qs.count()
    assert_type(n, int)
    assert_type(await qs.exists(), bool)
    by_id = await Book.objects.in_bulk([b.id for b in books])
    assert_type(by_id, dict[Any, Book])
    totals = await Book.objects.aggregate(n=Count("id"))
    assert_type(totals, dict[str, Any])
    got, created = await Author.objects.get_or_create(name="Ursula")
    assert_type(got, Author)
    assert_type(created, bool)
    assert_type(await Book.objects.filter(pages=None).update(pages=100), int)

    titles = Book.objects.order_by("id").values("title", "pages")
    assert_type(titles, ValuesQuerySet[Book, dict[str, Any]])
    assert_type(await titles, list[dict[str, Any]])
    assert_type(await titles.first(), dict[str, Any] | None)
    pairs = Book.objects.order_by("id").values_list("title", "pages")
    assert_type(await pairs, list[tuple[Any, ...]])
    assert_type(await pairs.get(title="Mort"), tuple[Any, ...])

    streamed: list[str] = []
    async for b in Book.objects.order_by("id"):
        assert_type(b, Book)
        streamed.append(b.title)
    async for b in Book.objects.order_by("id").iterator(chunk_size=2):
        assert_type(b, Book)

    with_author = await Book.objects.select_related("author", "editor").get(title="Mort")
    assert_type(with_author.author, Author)
    assert_type(with_author.author.name, str)
    assert_type(with_author.editor, Author | None)
    authors = await Author.objects.prefetch_related("books").order_by("id")
    assert_type(authors[0].books, RelatedManager[Book])
    assert_type(list(authors[0].books), list[Book])
    assert_type(await ursula.books.all(), list[Book])
    assert_type(await ursula.books.filter(pages__gt=300).count(), int)
    assert_type(await books[2].tags.exists(), bool)
    assert_type(fantasy.books, RelatedManager[Book])
    tagged = await fantasy.books.all()
    assert_type(tagged, list[Book])

    paginator = Paginator(Book.objects.order_by("title"), per_page=2)
    assert_type(paginator, Paginator[Book])
    page = await paginator.page(1)
    assert_type(page, Page[Book])
    assert_type(page[0], Book)
    assert_type(await paginator.next_page(page), Page[Book])

    await one.refresh_from_db()
    one.pages = 273
    await one.save(update_fields=["pages"])

    async with Session() as session:
        async with session.begin():
            member_again = await session.get(Member, member.id)
            assert_type(member_again, Member | None)
            tracked = await session.query(Loan).select_related("book").get(member=member)
            assert_type(tracked, Loan)
            assert_type(tracked.book, Book)
            tracked.returned_at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    return {
        "titles": [b.title for b in rows],
        "first": first.title if first is not None else None,
        "count": n,
        "values": await titles,
        "pairs": await pairs,
        "streamed": streamed,
        "page": [b.title for b in page],
        "by_id": sorted(by_id),
        "with_author": (with_author.author.name, with_author.editor),
        "prefetched": [sorted(b.title for b in a.books) for a in authors],
        "returned": (await Loan.objects.get(member=member)).returned_at is not None,
        "tagged": [b.title for b in tagged],
    }


def run_sync() -> dict[str, Any]:
    """The ``_sync`` twins, typed the same; returns what it read (checked by the test)."""
    qs = Book.objects.order_by("id")
    rows = qs.all_sync()
    assert_type(rows, list[Book])
    assert_type(qs.get_sync(title="Mort"), Book)
    assert_type(qs.first_sync(), Book | None)
    assert_type(qs.last_sync(), Book | None)
    assert_type(qs.latest_sync("id"), Book)
    assert_type(qs.count_sync(), int)
    assert_type(qs.exists_sync(), bool)
    assert_type(qs.in_bulk_sync(), dict[Any, Book])
    assert_type(qs.values("title").all_sync(), list[dict[str, Any]])
    assert_type(qs.values_list("title").first_sync(), tuple[Any, ...] | None)
    for b in qs.iterator_sync():
        assert_type(b, Book)
    mort = qs.get_sync(title="Mort")
    assert_type(mort.tags.all_sync(), list[Tag])
    page = Paginator(qs, per_page=10).page_sync(1)
    assert_type(page, Page[Book])
    with SyncSession() as session:
        with session.begin_sync():
            member = session.query(Member).get_sync(email="reader@example.com")
            assert_type(member, Member)
            member.active = False
            assert_type(session.get_sync(Book, mort.id), Book | None)
    return {
        "titles": [b.title for b in rows],
        "values": qs.values("title").all_sync(),
        "page": [b.title for b in page],
        "inactive": Member.objects.filter(active=False).count_sync(),
    }


async def main() -> None:
    """Creates the tables, runs both doors, prints what they read as JSON."""
    check_declarations()
    await chakra.drop_tables(*reversed(MODELS))
    await chakra.create_tables(*MODELS)
    out = {"async": await run(), "sync": await asyncio.to_thread(run_sync)}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    asyncio.run(main())
