"""A Django-shaped schema (authors, books with an author and a nullable editor, tags
many-to-many) with seeded rows holding NULLs, authors without books, books without an editor
or tags, mixed case and non-ASCII text; and the same rows loaded back as plain Python
objects, so tests compute the rows Django returns independently of Chakra."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from chakra import SET_NULL, Field, ForeignKey, Integer, ManyToMany, Model, String


class DjAuthor(Model):
    __tablename__ = "dj_authors"

    id = Field(Integer, primary_key=True)
    name = Field(String(40), nullable=True)
    age = Field(Integer, nullable=True)


class DjBook(Model):
    __tablename__ = "dj_books"

    id = Field(Integer, primary_key=True)
    title = Field(String(60))
    pages = Field(Integer)
    price = Field(Integer, nullable=True)
    author = ForeignKey("DjAuthor", back_populates="books", type_=Integer)
    editor = ForeignKey(
        "DjAuthor", back_populates="edited", type_=Integer, nullable=True, on_delete=SET_NULL
    )
    tags = ManyToMany("DjTag", through="dj_book_tags", back_populates="books")


class DjTag(Model):
    __tablename__ = "dj_tags"

    id = Field(Integer, primary_key=True)
    name = Field(String(40))


MODELS = (DjAuthor, DjBook, DjTag)

NAMES = ["Ann", "bob", "Çelik", "Σίσυφος", "\u0131ra", "", "ZOË", "dan", "Eve", "İlker"]
TITLES = ["Dune", "dune", "Odyssey", "Ἰλιάς", "σίσυφος", "Kelvin \u212a", "", "émile", "Straße"]


@dataclass
class A:
    """An author as loaded: its columns and its books' ids."""

    id: int
    name: str | None
    age: int | None
    books: list[int] = field(default_factory=list)
    edited: list[int] = field(default_factory=list)


@dataclass
class B:
    """A book as loaded."""

    id: int
    title: str
    pages: int
    price: int | None
    author: int
    editor: int | None
    tags: list[int] = field(default_factory=list)


@dataclass
class T:
    """A tag as loaded."""

    id: int
    name: str
    books: list[int] = field(default_factory=list)


@dataclass
class Data:
    """Every row, by id."""

    authors: dict[int, A]
    books: dict[int, B]
    tags: dict[int, T]


async def seed(seed: int = 7, n_authors: int = 14, n_books: int = 40) -> Data:
    """Writes seeded rows (same seed, same rows) and returns them as plain objects."""
    rnd = random.Random(seed)
    authors = {
        i: A(
            i,
            rnd.choice([*NAMES, None]),
            rnd.choice([None, *range(20, 80, 3)]),
        )
        for i in range(1, n_authors + 1)
    }
    # Author 1 always has no age, the last two never write.
    authors[1].age = None
    writers = list(authors)[:-2]
    books: dict[int, B] = {}
    for i in range(1, n_books + 1):
        books[i] = B(
            i,
            rnd.choice(TITLES),
            rnd.randrange(50, 1500, 37),
            rnd.choice([None, *range(3, 40, 4)]),
            rnd.choice(writers),
            rnd.choice([None, None, *authors]),
        )
    tags = {i: T(i, n) for i, n in enumerate(["sci-fi", "Poetry", "ΛΟΓΟΣ", "kids"], start=1)}
    for b in books.values():
        for t in rnd.sample(list(tags), rnd.randrange(0, 3)):
            b.tags.append(t)
            tags[t].books.append(b.id)
        authors[b.author].books.append(b.id)
        if b.editor is not None:
            authors[b.editor].edited.append(b.id)
    await DjAuthor.objects.bulk_create(
        [DjAuthor(id=a.id, name=a.name, age=a.age) for a in authors.values()]
    )
    await DjTag.objects.bulk_create([DjTag(id=t.id, name=t.name) for t in tags.values()])
    await DjBook.objects.bulk_create(
        [
            DjBook(
                id=b.id,
                title=b.title,
                pages=b.pages,
                price=b.price,
                author_id=b.author,
                editor_id=b.editor,
            )
            for b in books.values()
        ]
    )
    for b in books.values():
        if b.tags:
            obj = await DjBook.objects.get(id=b.id)
            await obj.tags.add(*b.tags)
    return Data(authors, books, tags)
