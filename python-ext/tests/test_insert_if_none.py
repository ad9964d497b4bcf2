"""Insert only if none exists under concurrency (issue 19): at most one open loan per book
when 20 requests ask at once. The recipe (docs/concurrency.md): lock the book first
(``select_for_update``), then check, then insert, in one transaction."""

from __future__ import annotations

import asyncio

import chakra
from chakra import Boolean, Field, Integer, Model, Session, String
from conftest import Db


class Book(Model):
    __tablename__ = "books"

    id = Field(Integer, primary_key=True, auto_increment=False)
    title = Field(String(100))


class Loan(Model):
    __tablename__ = "loans"

    id = Field(Integer, primary_key=True)
    book_id = Field(Integer)
    borrower = Field(Integer)
    returned = Field(Boolean)


async def lend(book: int, borrower: int) -> bool:
    """Lends ``book`` to ``borrower`` unless it has an open loan; True when this one won."""

    async def body(s: Session) -> bool:
        if await Book.objects.select_for_update().filter(id=book).first() is None:
            return False
        if await Loan.objects.filter(book_id=book, returned=False).exists():
            return False
        await Loan.objects.create(book_id=book, borrower=borrower, returned=False)
        return True

    async with Session() as s:
        return await s.transaction(body)


async def test_twenty_concurrent_requests_open_one_loan_per_book(db_with_pooler: Db) -> None:
    await chakra.create_tables(Book, Loan)
    await Book.objects.bulk_create([Book(id=1, title="one"), Book(id=2, title="two")])
    results = await asyncio.gather(*(lend(i % 2 + 1, i) for i in range(40)))
    won = [sum(1 for i, r in enumerate(results) if r and i % 2 + 1 == b) for b in (1, 2)]
    assert won == [1, 1]
    loans = [(loan.book_id, loan.returned) for loan in await Loan.objects.all()]
    assert sorted(loans) == [(1, False), (2, False)]
    # Once returned, the next request wins again, and only it.
    await Loan.objects.filter(book_id=1).update(returned=True)
    assert await lend(1, 99)
    assert not await lend(1, 98)
