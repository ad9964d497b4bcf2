"""Code a type checker must reject, one error per line marked ``# E`` (checked by
``tests/test_static_types.py`` with mypy --strict and pyright --strict): each line either
misuses a model or claims a type that differs from what Chakra declares. A line stops failing
(and the test with it) when a declaration widens: to ``Any``, from ``int | None`` to ``int``,
from ``Book | None`` to ``Book``, from a model to its rows' dicts."""

from __future__ import annotations

from typing import Any

from chakra import Field, ForeignKey, Integer, QuerySet, RelatedManager
from typed_library import Author, Book, Tag
from typing_extensions import assert_type


async def misuse(book: Book, author: Author) -> None:
    Book(title=1)  # E
    Book(titel="Mort")  # E
    book.pages = "many"  # E
    book.author_id = None  # E
    book.author = None  # E
    book.editor = "Terry"  # E
    Field(Integer, default="zero")  # E
    # The constructor, through dataclass_transform: a relation takes its model, a key column
    # its key type, and a relation to many rows (annotated ClassVar) is no argument.
    Book(author=author.name)  # E
    Book(author_id="1")  # E
    Author(books=[book])  # E


async def narrower_than_declared(book: Book, author: Author) -> None:
    assert_type(book.pages, int)  # E
    assert_type(book.editor, Author)  # E
    assert_type(book.editor_id, int)  # E
    assert_type(await Book.objects.first(), Book)  # E
    assert_type(Book.objects.first_sync(), Book)  # E
    assert_type(await author.books.all(), list[Tag])  # E
    assert_type(Book.objects.values("title"), QuerySet[Book])  # E
    assert_type(await Book.objects.values("title").get(), Book)  # E


async def widened_to_any(book: Book, author: Author, anything: Any) -> None:
    # What each assertion would see if Chakra declared Any: assert_type refuses it.
    assert_type(anything, Book)  # E
    assert_type(anything, list[Book])  # E
    # Chakra's declarations are not Any: comparing them with Any fails too.
    assert_type(book.title, Any)  # E
    assert_type(book.author, Any)  # E
    assert_type(author.books, RelatedManager[Any])  # E
    assert_type(Book.objects.get_sync(), Any)  # E
    assert_type(await Book.objects, list[Any])  # E
    assert_type(ForeignKey(Author), ForeignKey[Any, int])  # E
