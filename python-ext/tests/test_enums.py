"""Enum fields (issue 24) from Python, on SQLite and PostgreSQL: members (``StrEnum`` and a
plain ``enum.Enum`` with text values) and their stored text are written, members are read
back, lookups take either, a value outside the enum is refused before any SQL, and a stored
value no member has is a ``DecodeError`` naming the model, field and value."""

from __future__ import annotations

import enum
import logging
import sys
from pathlib import Path
from typing import Any

import chakra
import pytest
from chakra import Enum, Field, Integer, Model, errors

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - 3.10

    class StrEnum(str, enum.Enum):
        pass


class Status(StrEnum):
    OPEN = "open"
    ON_HOLD = "on hold"
    CLOSED = "closed"


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Ticket(Model):
    __tablename__ = "enum_tickets"
    id = Field(Integer, primary_key=True)
    status = Field(Enum(Status, name="ticket_status"), default=Status.OPEN)
    priority = Field(Enum(Priority), nullable=True)


def test_the_declaration_is_checked_and_named() -> None:
    t = Enum(Priority)
    assert t.enum_name == "priority" and t.values == ("low", "high")
    assert Enum(Status, name="ticket_status").spec()[:3] == (
        "Enum",
        "ticket_status",
        ("open", "on hold", "closed"),
    )

    class Numbered(enum.Enum):
        ONE = 1

    with pytest.raises(TypeError, match=r"Numbered\.ONE has the value 1"):
        Enum(Numbered)
    with pytest.raises(TypeError, match=r"enum\.Enum subclass"):
        Enum(str)  # type: ignore[type-var]


async def test_members_and_their_text_round_trip_and_filter(db: object) -> None:
    await chakra.create_tables(Ticket)
    await Ticket.objects.create(id=1)
    await Ticket.objects.create(id=2, status=Status.CLOSED, priority=Priority.HIGH)
    await Ticket.objects.create(id=3, status="on hold", priority="low")
    rows = await Ticket.objects.order_by("id").all()
    got = [(r.status, r.priority) for r in rows]
    assert got == [
        (Status.OPEN, None),
        (Status.CLOSED, Priority.HIGH),
        (Status.ON_HOLD, Priority.LOW),
    ]
    assert all(type(r.status) is Status for r in rows)
    assert isinstance(rows[1].priority, Priority)
    # Lookups take members or stored text; the expected ids come from the rows above.
    want = {
        "closed": [2],
        "on hold": [3],
        "open": [1],
    }
    for status in Status:
        for arg in (status, status.value):
            ids = [r.id for r in await Ticket.objects.filter(status=arg).order_by("id")]
            assert ids == want[status.value], (arg, ids)
    ids = [
        r.id for r in await Ticket.objects.filter(status__in=[Status.OPEN, "closed"]).order_by("id")
    ]
    assert ids == [1, 2]
    assert [r.id for r in await Ticket.objects.filter(priority=Priority.HIGH)] == [2]
    assert await Ticket.objects.exclude(priority__isnull=True).count() == 2
    # A text no member has matches nothing, on both backends alike (on PostgreSQL the value
    # is looked up among the native type's labels, never cast into an error).
    assert await Ticket.objects.filter(status="pending").count() == 0
    assert await Ticket.objects.filter(status="Open").count() == 0
    ids = [
        r.id for r in await Ticket.objects.filter(status__in=["pending", "closed"]).order_by("id")
    ]
    assert ids == [2]
    assert await Ticket.objects.exclude(status="pending").count() == 3
    # A nullable column: the row whose priority is NULL is not excluded by an unknown text.
    assert await Ticket.objects.filter(priority="bogus").count() == 0
    assert await Ticket.objects.exclude(priority="bogus").count() == 3
    assert await Ticket.objects.exclude(priority__in=["bogus", "high"]).count() == 2
    # Updating through a queryset and through a saved object.
    await Ticket.objects.filter(id=1).update(status=Status.ON_HOLD)
    t = await Ticket.objects.get(id=1)
    assert t.status is Status.ON_HOLD
    t.status = Status.CLOSED
    await t.save()
    assert (await Ticket.objects.get(id=1)).status is Status.CLOSED


@pytest.mark.parametrize("bad", ["Open", "pending", ""])
async def test_a_value_outside_the_enum_is_refused_before_sql(
    db: object, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    await chakra.create_tables(Ticket)
    await Ticket.objects.create(id=1)
    with caplog.at_level(logging.DEBUG, logger="chakra.sql"):
        caplog.clear()
        with pytest.raises(errors.BadValue) as e:
            await Ticket.objects.create(id=2, status=bad)
        assert e.value.model == "Ticket" and e.value.field == "status", e.value
        assert repr(bad).replace("'", '"') in str(e.value) and "ticket_status" in str(e.value)
        with pytest.raises(errors.BadValue):
            await Ticket.objects.filter(id=1).update(status=bad)
        assert [r for r in caplog.records if r.name == "chakra.sql"] == [], "no SQL ran"
    assert [r.status for r in await Ticket.objects.all()] == [Status.OPEN]


async def test_an_unknown_stored_value_is_a_named_decode_error(db: object) -> None:
    # A table whose column the database lets hold anything: the model's enum is narrower.
    await chakra.execute_script(
        "CREATE TABLE enum_tickets (id INTEGER PRIMARY KEY, status TEXT NOT NULL, priority TEXT)"
    )
    await chakra.execute("INSERT INTO enum_tickets VALUES (%s, %s, %s)", [1, "archived", None])
    with pytest.raises(errors.DecodeError) as e:
        await Ticket.objects.all()
    text = str(e.value)
    assert "Ticket.status" in text and '"archived"' in text and "ticket_status" in text, text
    # The values() path returns the stored text as it is.
    assert await Ticket.objects.values_list("status", flat=True) == ["archived"]


async def test_make_writes_the_enum_and_an_added_value_migrates_rows(
    db: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from chakra import migrate

    class Stage(str, enum.Enum):
        NEW = "new"
        DONE = "done"

    class MadeTicket(Model):
        __tablename__ = "made_tickets"
        __app__ = "made"
        id = Field(Integer, primary_key=True)
        stage = Field(Enum(Stage), default=Stage.NEW)

    assert migrate.run("make", dir=tmp_path, models=[MadeTicket]) == 0
    (first,) = sorted((tmp_path / "made").glob("*.toml"))
    text = first.read_text()
    assert 'type = "Enum"' in text and 'enum = "stage"' in text, text
    assert 'values = ["new", "done"]' in text and 'default = "new"' in text, text
    assert migrate.run("apply", database_url=db.url, dir=tmp_path, models=[]) == 0
    await MadeTicket.objects.create(id=1)
    await MadeTicket.objects.create(id=2, stage=Stage.DONE)

    class Stage2(str, enum.Enum):
        NEW = "new"
        DONE = "done"
        HELD = "held"

    class MadeTicket(Model):  # type: ignore[no-redef]
        __tablename__ = "made_tickets"
        __app__ = "made"
        id = Field(Integer, primary_key=True)
        stage = Field(Enum(Stage2, name="stage"), default=Stage2.NEW)

    assert migrate.run("make", dir=tmp_path, models=[MadeTicket]) == 0
    second = sorted((tmp_path / "made").glob("*.toml"))[1].read_text()
    assert 'type = "AlterField"' in second and '"held"' in second, second
    assert migrate.run("apply", database_url=db.url, dir=tmp_path, models=[]) == 0
    assert migrate.run("make", "--check", dir=tmp_path, models=[MadeTicket]) == 0
    capfd.readouterr()
    # (The fixture's own tables are drift for this folder; the enum's table is not.)
    migrate.run("check", database_url=db.url, dir=tmp_path, models=[])
    drift = [line for line in capfd.readouterr().out.splitlines() if "made_tickets" in line]
    assert drift == [], drift
    await MadeTicket.objects.create(id=3, stage=Stage2.HELD)
    rows = await MadeTicket.objects.order_by("id").all()
    assert [r.stage for r in rows] == [Stage2.NEW, Stage2.DONE, Stage2.HELD]


STATUSES = ["open", "closed", "on hold", "open", "closed", "on hold", "open"]


async def test_ordering_ranges_text_lookups_and_aggregates_follow_the_stored_text(
    db: object,
) -> None:
    # As Django's text column with choices: ordering, ranges, min/max compare the stored text
    # on both backends (not the declaration order, where "open" comes first). Expected rows are
    # computed from the same rows in plain Python.
    await chakra.create_tables(Ticket)
    for i, s in enumerate(STATUSES, start=1):
        await Ticket.objects.create(id=i, status=s)
    rows = list(enumerate(STATUSES, start=1))

    def ids(keep: Any) -> list[int]:
        return [i for i, s in rows if keep(s)]

    got = [(r.id, r.status.value) for r in await Ticket.objects.order_by("status", "id")]
    assert got == sorted(rows, key=lambda r: (r[1], r[0]))
    got = [(r.id, r.status.value) for r in await Ticket.objects.order_by("-status", "id")]
    assert got == sorted(rows, key=lambda r: (r[1], -r[0]), reverse=True)

    async def filtered(**kw: Any) -> list[int]:
        return [r.id for r in await Ticket.objects.filter(**kw).order_by("id")]

    assert await filtered(status__gt=Status.ON_HOLD) == ids(lambda s: s > "on hold")
    assert await filtered(status__gte="on hold") == ids(lambda s: s >= "on hold")
    assert await filtered(status__lt=Status.OPEN) == ids(lambda s: s < "open")
    assert await filtered(status__lte="closed") == ids(lambda s: s <= "closed")
    assert await filtered(status__range=["closed", Status.ON_HOLD]) == ids(
        lambda s: "closed" <= s <= "on hold"
    )
    assert await filtered(status__contains="o") == ids(lambda s: "o" in s)
    assert await filtered(status__icontains="OPE") == ids(lambda s: "ope" in s)
    assert await filtered(status__startswith="o") == ids(lambda s: s.startswith("o"))
    assert await filtered(status__regex=r"^o.*n$") == ids(lambda s: s[0] == "o" and s[-1] == "n")
    assert await filtered(status__isnull=False) == ids(lambda s: True)

    agg = await Ticket.objects.aggregate(
        lo=chakra.Min("status"), hi=chakra.Max("status"), n=chakra.Count("status")
    )
    assert agg == {"lo": min(STATUSES), "hi": max(STATUSES), "n": len(STATUSES)}
    counts = await Ticket.objects.values("status").annotate(n=chakra.Count("id")).order_by("status")
    assert [(c["status"], c["n"]) for c in counts] == sorted(
        (s, STATUSES.count(s)) for s in set(STATUSES)
    )
    # Raw SQL reading the column (a native enum type on PostgreSQL, compared as its text by
    # hand): the same rows as the lookup, hydrated as members.
    text = "CHAR" if db.backend == "mysql" else "TEXT"  # MySQL casts to CHAR, not TEXT
    raw = await Ticket.objects.raw(
        f"SELECT * FROM enum_tickets WHERE CAST(status AS {text}) > %s ORDER BY id", ["on hold"]
    )
    assert [(r.id, r.status) for r in raw] == [(i, Status(s)) for i, s in rows if s > "on hold"]


async def test_native_postgres_enum_columns_read_as_their_text(new_db: Any) -> None:
    # Native enum columns (a table built by hand-written SQL, as the native DDL will build it;
    # rows inserted by hand, declaration order unlike text order): members are read, lookups,
    # ordering, aggregates and values() follow the stored text, as on a text column. Expected
    # rows come from plain Python over the rows inserted.
    d = new_db("postgres")
    chakra.configure(d.url)
    try:
        await chakra.execute_script(
            "CREATE TYPE ticket_status AS ENUM ('open', 'on hold', 'closed'); "
            "CREATE TYPE priority AS ENUM ('low', 'high'); "
            "CREATE TABLE enum_tickets (id INTEGER PRIMARY KEY, "
            "status ticket_status NOT NULL, priority priority); "
            "INSERT INTO enum_tickets VALUES (1, 'closed', 'low'), (2, 'open', NULL), "
            "(3, 'on hold', 'high'), (4, 'open', 'high')"
        )
        rows = [
            (1, "closed", "low"),
            (2, "open", None),
            (3, "on hold", "high"),
            (4, "open", "high"),
        ]
        got = [(t.id, t.status, t.priority) for t in await Ticket.objects.order_by("id")]
        assert got == [(i, Status(s), p and Priority(p)) for i, s, p in rows]

        async def filtered(**kw: Any) -> list[int]:
            return [r.id for r in await Ticket.objects.filter(**kw).order_by("id")]

        def ids(keep: Any) -> list[int]:
            return [i for i, s, p in rows if keep(s, p)]

        assert await filtered(status=Status.ON_HOLD) == ids(lambda s, p: s == "on hold")
        assert await filtered(status__in=["open", Status.CLOSED]) == ids(
            lambda s, p: s in ("open", "closed")
        )
        assert await filtered(priority=Priority.HIGH) == ids(lambda s, p: p == "high")
        assert await filtered(priority__isnull=True) == ids(lambda s, p: p is None)
        assert await filtered(status__gt="on hold") == ids(lambda s, p: s > "on hold")
        assert await filtered(status__icontains="HOLD") == ids(lambda s, p: "hold" in s)
        got_order = [r.id for r in await Ticket.objects.order_by("status", "id")]
        assert got_order == [i for i, s, p in sorted(rows, key=lambda r: (r[1], r[0]))]
        agg = await Ticket.objects.aggregate(lo=chakra.Min("status"), hi=chakra.Max("status"))
        assert agg == {"lo": min(r[1] for r in rows), "hi": max(r[1] for r in rows)}
        values = await Ticket.objects.order_by("id").values_list("status", flat=True)
        assert values == [r[1] for r in rows]
        # Raw SQL reads the native columns as their text.
        got_raw = await chakra.fetch("SELECT status, priority FROM enum_tickets ORDER BY id")
        assert got_raw == [(s, p) for _, s, p in rows]
        # A value added to the type behind Chakra's back and stored: a named DecodeError
        # (two statements: a value added in a transaction is unusable until it commits).
        await chakra.execute_script("ALTER TYPE ticket_status ADD VALUE 'archived'")
        await chakra.execute_script("INSERT INTO enum_tickets VALUES (5, 'archived', NULL)")
        with pytest.raises(errors.DecodeError) as e:
            await Ticket.objects.all()
        text = str(e.value)
        assert "Ticket.status" in text and '"archived"' in text, text
    finally:
        chakra.close(d.url)
