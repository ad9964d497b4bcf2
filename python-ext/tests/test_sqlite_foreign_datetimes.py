"""A SQLite database whose datetimes another program wrote (Python's ``sqlite3`` with its
default datetime adapter stores ``2001-05-21 21:25:26[.ffffff]``; others add ``T``, ``Z``
or an offset): Chakra reads, filters, compares and orders them as the instants they name.
Expected rows are computed in plain Python from the written values."""

from __future__ import annotations

import sqlite3
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

import chakra
from chakra import DateTime, Field, Integer, Model

UTC = timezone.utc


class Stamp(Model):
    __tablename__ = "foreign_stamps"

    id = Field(Integer, primary_key=True)
    at = Field(DateTime, nullable=True)


BASE = datetime(2001, 5, 21, 21, 25, 26)
NAIVE = [BASE + timedelta(seconds=s, microseconds=us) for s, us in [(0, 0), (1, 500), (-1, 0)]]
# Text other writers store, with the instant each names.
TEXT = [
    ("2001-05-21T21:25:26Z", datetime(2001, 5, 21, 21, 25, 26, tzinfo=UTC)),
    ("2001-05-21 23:25:27+02:00", datetime(2001, 5, 21, 21, 25, 27, tzinfo=UTC)),
    ("2001-05-21T21:25:25.250", datetime(2001, 5, 21, 21, 25, 25, 250000, tzinfo=UTC)),
    ("2001-05-21 16:55:30-04:30", datetime(2001, 5, 21, 21, 25, 30, tzinfo=UTC)),
]


async def test_datetimes_written_by_sqlite3_compare_and_sort(new_db: Any) -> None:
    db = new_db("sqlite")
    chakra.configure(db.url)
    try:
        await chakra.create_tables(Stamp)
        path = db.url.removeprefix("sqlite://")
        con = sqlite3.connect(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the default adapter
            for i, dt in enumerate(NAIVE, start=1):
                con.execute("INSERT INTO foreign_stamps (id, at) VALUES (?, ?)", (i, dt))
        for i, (text, _) in enumerate(TEXT, start=len(NAIVE) + 1):
            con.execute("INSERT INTO foreign_stamps (id, at) VALUES (?, ?)", (i, text))
        con.execute("INSERT INTO foreign_stamps (id, at) VALUES (99, NULL)")
        con.commit()
        stored = [r[0] for r in con.execute("SELECT at FROM foreign_stamps ORDER BY id")]
        assert stored[0] == "2001-05-21 21:25:26"  # what the adapter wrote
        con.close()

        instants = {i: dt.replace(tzinfo=UTC) for i, dt in enumerate(NAIVE, start=1)}
        instants |= {i: at for i, (_, at) in enumerate(TEXT, start=len(NAIVE) + 1)}

        rows = await Stamp.objects.order_by("at", "id").all()
        assert [r.id for r in rows] == [*sorted(instants, key=lambda i: (instants[i], i)), 99]
        assert {r.id: r.at for r in rows if r.id != 99} == instants

        when = datetime(2001, 5, 21, 21, 25, 26, tzinfo=UTC)
        same = sorted(i for i, at in instants.items() if at == when)
        assert len(same) == 2
        assert sorted(r.id for r in await Stamp.objects.filter(at=when).all()) == same
        later = sorted(i for i, at in instants.items() if at > when)
        assert sorted(r.id for r in await Stamp.objects.filter(at__gt=when).all()) == later
        lo, hi = when - timedelta(seconds=1), when + timedelta(seconds=1)
        inside = sorted(i for i, at in instants.items() if lo <= at <= hi)
        got = await Stamp.objects.filter(at__range=(lo, hi)).all()
        assert sorted(r.id for r in got) == inside
        got = await Stamp.objects.filter(at__in=[when, lo]).all()
        assert sorted(r.id for r in got) == sorted(
            i for i, at in instants.items() if at in (when, lo)
        )
    finally:
        chakra.close(db.url)


# Offsets that move the UTC date across midnight, one written without a colon.
ACROSS = [
    ("2001-05-21 22:00:00-0430", datetime(2001, 5, 22, 2, 30, tzinfo=UTC)),
    ("2001-05-22T01:00:00+02:00", datetime(2001, 5, 21, 23, 0, tzinfo=UTC)),
    ("2001-05-22 00:15:00", datetime(2001, 5, 22, 0, 15, tzinfo=UTC)),
    ("2000-12-31T23:59:59.5-0100", datetime(2001, 1, 1, 0, 59, 59, 500000, tzinfo=UTC)),
]


async def test_min_max_and_date_parts_read_the_instant(new_db: Any) -> None:
    db = new_db("sqlite")
    chakra.configure(db.url)
    try:
        await chakra.create_tables(Stamp)
        con = sqlite3.connect(db.url.removeprefix("sqlite://"))
        for i, (text, _) in enumerate(ACROSS, start=1):
            con.execute("INSERT INTO foreign_stamps (id, at) VALUES (?, ?)", (i, text))
        con.commit()
        con.close()
        instants = {i: at for i, (_, at) in enumerate(ACROSS, start=1)}

        # Read back, the offset without a colon included.
        rows = await Stamp.objects.order_by("id").all()
        assert {r.id: r.at for r in rows} == instants

        got = await Stamp.objects.aggregate(lo=chakra.Min("at"), hi=chakra.Max("at"))
        assert got == {"lo": min(instants.values()), "hi": max(instants.values())}

        for day in {at.date() for at in instants.values()}:
            want = sorted(i for i, at in instants.items() if at.date() == day)
            got_ids = sorted(r.id for r in await Stamp.objects.filter(at__date=day).all())
            assert got_ids == want, day
        for hour in {at.hour for at in instants.values()}:
            want = sorted(i for i, at in instants.items() if at.hour == hour)
            got_ids = sorted(r.id for r in await Stamp.objects.filter(at__hour=hour).all())
            assert got_ids == want, hour
        want = sorted(i for i, at in instants.items() if at.year == 2001)
        got_ids = sorted(r.id for r in await Stamp.objects.filter(at__year=2001).all())
        assert got_ids == want
    finally:
        chakra.close(db.url)
