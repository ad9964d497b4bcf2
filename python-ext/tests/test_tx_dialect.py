"""The dialect of a transaction is fixed when it begins: reads submitted while another job
holds one SQLite transaction are compiled for SQLite. They were compiled for PostgreSQL when
the dialect was looked up under the transaction's lock and the lock was busy (the get-by-key
statement then ran as ``… = $1`` on SQLite, which SQLite happens to accept as a named
parameter). Checked on both backends against rows known in plain Python and against the
statement text in the ``chakra.sql`` log."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import chakra
import pytest
from chakra import UUID, Field, Model, String
from conftest import Db


class Ticket(Model):
    """A model keyed by a UUID (text on SQLite, ``uuid`` on PostgreSQL)."""

    __tablename__ = "dialect_tickets"
    code = Field(UUID, primary_key=True)
    label = Field(String(40))


class Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.sql.append(record.sql)  # type: ignore[attr-defined]


@contextmanager
def statements() -> Iterator[Statements]:
    logger = logging.getLogger("chakra.sql")
    h = Statements()
    old = logger.level
    logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    try:
        yield h
    finally:
        logger.removeHandler(h)
        logger.setLevel(old)


async def test_concurrent_reads_inside_one_transaction_use_its_dialect(db: Db) -> None:
    await chakra.create_tables(Ticket)
    expected = {uuid.uuid4(): f"t{i}" for i in range(40)}
    await Ticket.objects.bulk_create([Ticket(code=c, label=lab) for c, lab in expected.items()])
    filler = [Ticket(code=uuid.uuid4(), label=f"f{i}") for i in range(20_000)]
    with statements() as log:
        async with chakra.Session() as s:
            async with s.begin():
                # The bulk insert yields while it holds the transaction, so the reads are
                # submitted (and compiled) while the transaction is busy.
                results = await asyncio.gather(
                    Ticket.objects.bulk_create(filler),
                    *(Ticket.objects.get(pk=c) for c in expected),
                    return_exceptions=True,
                )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    got = {t.code: t.label for t in results[1:] if isinstance(t, Ticket)}
    assert got == expected
    assert await Ticket.objects.count() == len(expected) + len(filler)
    reads = [q for q in log.sql if q.startswith("SELECT")]
    assert len(reads) == len(expected), reads
    # Each dialect's placeholder: `?` on SQLite and MySQL, `$1` on PostgreSQL.
    placeholder, other = ("$1", "?") if db.backend == "postgres" else ("?", "$1")
    wrong = [q for q in reads if other in q or placeholder not in q]
    assert wrong == [], wrong


def test_dialect_names_are_the_cores_spellings() -> None:
    """``qs.sql()``, ``aggregate_sql()`` and ``create_table_sql()`` take every spelling of the
    core's ``Dialect`` (the CLI's ``--dialect`` takes the same, see ``migrate_cli.rs``); an
    unknown name is a ``ConfigError`` naming it and listing the accepted ones."""
    from chakra import Count, errors
    from chakra.schema import create_table_sql

    qs = Ticket.objects.filter(label="a")
    pg, lite = qs.sql("postgres"), qs.sql("sqlite")
    assert pg.endswith('"dialect_tickets"."label" = $1'), pg
    assert lite.endswith('"dialect_tickets"."label" = ?'), lite
    for name in ["postgresql", "pg", "PostgreSQL", " PG "]:
        assert qs.sql(name) == pg, name  # type: ignore[arg-type]
        assert create_table_sql(Ticket, name) == create_table_sql(Ticket, "postgres")
    for name in ["sqlite3", "SQLite"]:
        assert qs.sql(name) == lite, name  # type: ignore[arg-type]
        assert create_table_sql(Ticket, name) == create_table_sql(Ticket, "sqlite")
    assert qs.aggregate_sql("postgresql", n=Count("code")) == qs.aggregate_sql(
        "postgres", n=Count("code")
    )
    # MySQL/MariaDB's SQL can be shown (running on it from Python is a later stage): text
    # compared exactly whatever the collation.
    my = qs.sql("mysql")  # type: ignore[arg-type]
    assert my.endswith(
        '("dialect_tickets"."label" = ? AND CAST("dialect_tickets"."label" AS BINARY) = '
        "CAST(? AS BINARY))"
    ), my
    assert qs.sql("MariaDB") == my  # type: ignore[arg-type]
    accepted = "accepted: postgres, postgresql, pg, sqlite, sqlite3, mysql, mariadb"
    for bad in ["oracle", "", "postgres://"]:
        with pytest.raises(errors.ConfigError, match=f'unknown dialect "{bad}"; {accepted}'):
            qs.sql(bad)  # type: ignore[arg-type]
        with pytest.raises(errors.ConfigError, match=f'unknown dialect "{bad}"; {accepted}'):
            create_table_sql(Ticket, bad)
