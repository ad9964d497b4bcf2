"""Models with several ``primary_key=True`` fields (a composite key): every per-row path uses
every key column. Two rows share the first key column; saving, deleting or refreshing one of
them must leave the other alone, checked with hand-written SQL on SQLite, PostgreSQL and
MariaDB."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import chakra
import pytest
from chakra import (
    CASCADE,
    BigInteger,
    Count,
    Field,
    ForeignKey,
    Integer,
    Model,
    OneToOne,
    Session,
    String,
    errors,
)


class Membership(Model):
    __tablename__ = "cpk_membership"

    team_id = Field(BigInteger, primary_key=True)
    user_id = Field(BigInteger, primary_key=True)
    role = Field(String(20))
    score = Field(Integer, default=0)


class Holder(Model):
    __tablename__ = "cpk_holder"

    id = Field(BigInteger, primary_key=True)
    username = Field(String(20))


class Seat(Model):
    """A composite-key model with a foreign key of its own (to ``Holder``)."""

    __tablename__ = "cpk_seat"

    room = Field(String(10), primary_key=True)
    number = Field(Integer, primary_key=True)
    holder = ForeignKey(Holder, on_delete=CASCADE, back_populates="seats")
    holder_id = holder.key_field()


async def rows() -> list[tuple[Any, ...]]:
    got = await chakra.fetch(
        'SELECT "team_id", "user_id", "role", "score" FROM "cpk_membership" '
        'ORDER BY "team_id", "user_id"'
    )
    return [(int(t), int(u), r, int(s)) for t, u, r, s in got]


async def seed() -> None:
    await chakra.create_tables(Membership)
    for team, user, role in [(1, 10, "owner"), (1, 20, "member"), (2, 10, "member")]:
        await chakra.execute(
            'INSERT INTO "cpk_membership" ("team_id", "user_id", "role", "score") '
            "VALUES (%s, %s, %s, 0)",
            [team, user, role],
        )


async def test_save_changes_only_that_row(db: object) -> None:
    await seed()
    m = await Membership.objects.get(team_id=1, user_id=20)
    m.role = "admin"
    await m.save()
    assert await rows() == [(1, 10, "owner", 0), (1, 20, "admin", 0), (2, 10, "member", 0)]
    m.score = 5
    await m.save(update_fields=["score"])
    assert await rows() == [(1, 10, "owner", 0), (1, 20, "admin", 5), (2, 10, "member", 0)]


async def test_delete_removes_only_that_row(db: object) -> None:
    await seed()
    m = await Membership.objects.get(team_id=1, user_id=10)
    await m.delete()
    assert await rows() == [(1, 20, "member", 0), (2, 10, "member", 0)]


async def test_refresh_reads_that_row(db: object) -> None:
    await seed()
    m = await Membership.objects.get(team_id=1, user_id=20)
    await chakra.execute(
        'UPDATE "cpk_membership" SET "role" = %s WHERE "team_id" = 1 AND "user_id" = 20',
        ["changed"],
    )
    await m.refresh_from_db()
    assert m.role == "changed"


async def test_pk_is_a_tuple_and_get_takes_one(db: object) -> None:
    await seed()
    m = await Membership.objects.get(team_id=1, user_id=20)
    assert m.pk == (1, 20)
    got = await Membership.objects.get(pk=(1, 20))
    assert (got.team_id, got.user_id, got.role) == (1, 20, "member")
    with pytest.raises(errors.ChakraError, match="Membership"):
        await Membership.objects.get(pk=1)


async def test_bulk_update_names_rows_by_every_key_column(db: object) -> None:
    """Django 5.2's ``bulk_update()`` on a ``CompositePrimaryKey``: one statement, each row
    named by every key column; rows sharing one key column's value are untouched."""
    await seed()
    a = await Membership.objects.get(team_id=1, user_id=20)
    b = await Membership.objects.get(team_id=2, user_id=10)
    a.role, a.score = "admin", 5
    b.role, b.score = "lead", 7
    assert await Membership.objects.bulk_update([a, b], ["role", "score"]) == 2
    assert await rows() == [(1, 10, "owner", 0), (1, 20, "admin", 5), (2, 10, "lead", 7)]
    ghost = Membership(team_id=9, user_id=9, role="x", score=1)
    assert await Membership.objects.bulk_update([ghost], ["score"]) == 0
    with pytest.raises(errors.InvalidQuery, match=r"bulk_update\(\).*primary key user_id"):
        await Membership.objects.bulk_update([a], ["user_id"])
    half = Membership(team_id=1, role="x", score=1)
    with pytest.raises(errors.InvalidQuery, match=r"bulk_update\(\).*\(team_id, user_id\)"):
        await Membership.objects.bulk_update([half], ["score"])
    assert await rows() == [(1, 10, "owner", 0), (1, 20, "admin", 5), (2, 10, "lead", 7)]


async def test_pk_lookups(db: object) -> None:
    await seed()
    got = await Membership.objects.filter(pk__in=[(1, 20), (2, 10)]).order_by("team_id")
    assert [(m.team_id, m.user_id) for m in got] == [(1, 20), (2, 10)]
    assert await Membership.objects.filter(pk=(1, 10)).count() == 1
    with pytest.raises(errors.ChakraError, match="Membership"):
        await Membership.objects.filter(pk__gt=(1, 10)).count()
    first = await Membership.objects.first()
    assert first is not None and first.pk == (1, 10)
    last = await Membership.objects.last()
    assert last is not None and last.pk == (2, 10)


async def test_delete_by_queryset_and_new_object(db: object) -> None:
    await seed()
    await Membership(team_id=3, user_id=10, role="new").save()
    assert (await rows())[-1] == (3, 10, "new", 0)
    await Membership.objects.filter(pk=(1, 10)).delete()
    assert await rows() == [(1, 20, "member", 0), (2, 10, "member", 0), (3, 10, "new", 0)]


async def test_sliced_update_and_delete(db: object) -> None:
    await seed()
    n = await Membership.objects.order_by("team_id", "user_id")[1:2].update(score=3)
    assert n == 1
    assert await rows() == [(1, 10, "owner", 0), (1, 20, "member", 3), (2, 10, "member", 0)]
    await Membership.objects.order_by("team_id", "user_id")[1:2].delete()
    assert await rows() == [(1, 10, "owner", 0), (2, 10, "member", 0)]


async def test_in_bulk_keys_by_tuples(db: object) -> None:
    """Django 5.2's ``in_bulk()`` on a ``CompositePrimaryKey``: keys are tuples, missing keys
    are absent; checked against the rows read with hand-written SQL."""
    await seed()
    expected = {(t, u): (r, s) for t, u, r, s in await rows()}
    got = await Membership.objects.in_bulk([(1, 20), [2, 10], (9, 9)])
    assert {k: (m.role, m.score) for k, m in got.items()} == {
        k: expected[k] for k in [(1, 20), (2, 10)]
    }
    every = await Membership.objects.in_bulk()
    assert {k: (m.role, m.score) for k, m in every.items()} == expected
    assert await Membership.objects.in_bulk([]) == {}
    only_team_1 = await Membership.objects.filter(team_id=1).in_bulk([(1, 10), (2, 10)])
    assert list(only_team_1) == [(1, 10)]
    # More keys than one statement takes: read in chunks, every row found.
    for user in range(1000, 2200):
        await chakra.execute(
            'INSERT INTO "cpk_membership" ("team_id", "user_id", "role", "score") '
            "VALUES (%s, %s, %s, %s)",
            [3, user, "bulk", user % 7],
        )
    many = await Membership.objects.in_bulk([(3, u) for u in range(990, 2210)])
    assert sorted(many) == [(3, u) for u in range(1000, 2200)]
    assert all(m.score == m.user_id % 7 for m in many.values())
    with pytest.raises(errors.BadValue, match=r"Membership.pk__in: 1 is not a valid tuple"):
        await Membership.objects.in_bulk([1, 2])


def test_a_foreign_key_to_a_composite_key_model_is_refused() -> None:
    # In a process of its own: the refused model stays out of this one's registry.
    code = textwrap.dedent(
        """
        import chakra
        from chakra import CASCADE, BigInteger, Field, ForeignKey, Model, errors

        class Pair(Model):
            __tablename__ = "cpk_pair"
            a = Field(BigInteger, primary_key=True)
            b = Field(BigInteger, primary_key=True)

        class Badge(Model):
            __tablename__ = "cpk_badge"
            id = Field(BigInteger, primary_key=True)
            pair = ForeignKey(Pair, on_delete=CASCADE)

        try:
            chakra.create_table_sql(Badge, "sqlite")
        except errors.InvalidRelation as e:
            print(e)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Badge.pair" in out.stdout, out
    assert "Pair has a composite primary key (a, b)" in out.stdout, out


async def seed_seats() -> list[Holder]:
    await chakra.create_tables(Holder, Seat)
    users = [Holder(username=f"s{i}") for i in range(2)]
    await Holder.objects.bulk_create(users)
    for room, number, holder in [("b", 2, 0), ("a", 2, 1), ("a", 1, 0), ("b", 1, 1)]:
        await Seat(room=room, number=number, holder_id=users[holder].id).save()
    return users


async def test_chunks_first_last_and_grouping_use_every_key_field(db: object) -> None:
    await seed_seats()
    seen = [s.pk async for s in Seat.objects.iterator(chunk_size=1)]
    assert sorted(seen) == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
    assert len(seen) == 4
    first, last = await Seat.objects.first(), await Seat.objects.last()
    assert first is not None and first.pk == ("a", 1)
    assert last is not None and last.pk == ("b", 2)
    counted = await Seat.objects.annotate(n=Count("number")).order_by("room", "number")
    assert [(s.pk, s.n) for s in counted] == [  # type: ignore[attr-defined]
        (("a", 1), 1),
        (("a", 2), 1),
        (("b", 1), 1),
        (("b", 2), 1),
    ]


async def test_relations_from_a_composite_key_model(db: object) -> None:
    users = await seed_seats()
    seats = await Seat.objects.select_related("holder").order_by("room", "number")
    assert [(s.pk, s.holder.username) for s in seats] == [
        (("a", 1), "s0"),
        (("a", 2), "s1"),
        (("b", 1), "s1"),
        (("b", 2), "s0"),
    ]
    s = await Seat.objects.get(pk=("b", 1))
    await s.fetch_related("holder")
    assert s.holder.id == users[1].id
    # The reverse side: a holder's seats in key order (room, then number).
    u = await Holder.objects.prefetch_related("seats").get(id=users[0].id)
    assert [x.pk for x in u.seats] == [("a", 1), ("b", 2)]  # type: ignore[attr-defined]
    # Deleting the holder cascades to its seats, and only to them.
    await users[0].delete()
    assert sorted(s.pk for s in await Seat.objects.all()) == [("a", 2), ("b", 1)]


async def test_get_or_update_or_create(db: object) -> None:
    await seed()
    m, created = await Membership.objects.update_or_create(
        team_id=1, user_id=20, defaults={"role": "lead"}
    )
    assert not created and m.pk == (1, 20)
    assert await rows() == [(1, 10, "owner", 0), (1, 20, "lead", 0), (2, 10, "member", 0)]
    m, created = await Membership.objects.get_or_create(team_id=2, user_id=20, role="x")
    assert created and m.pk == (2, 20)
    await m.refresh_from_db(fields=["role"])
    assert m.role == "x"


class Basket(Model):
    __tablename__ = "cpk_basket"

    id = Field(BigInteger, primary_key=True)
    label = Field(String(20))


class BasketLine(Model):
    """A composite key ``(basket_id, line)`` whose ``basket_id`` is a foreign key (Django 5.2's
    ``CompositePrimaryKey("basket", "line")``)."""

    __tablename__ = "cpk_basket_line"

    basket: ForeignKey[Basket, int] = ForeignKey(
        Basket, on_delete=CASCADE, back_populates="lines", primary_key=True
    )
    basket_id = basket.key_field()
    line = Field(Integer, primary_key=True)
    qty = Field(Integer)


class Receipt(Model):
    """A one-to-one whose key is the primary key (``OneToOneField(primary_key=True)``)."""

    __tablename__ = "cpk_receipt"

    basket: OneToOne[Basket, int] = OneToOne(
        Basket, on_delete=CASCADE, back_populates="receipt", primary_key=True
    )
    basket_id = basket.key_field()
    number = Field(String(20))


async def line_rows() -> list[tuple[int, int, int]]:
    got = await chakra.fetch(
        'SELECT "basket_id", "line", "qty" FROM "cpk_basket_line" ORDER BY "basket_id", "line"'
    )
    return [(int(b), int(n), int(q)) for b, n, q in got]


async def test_a_key_field_that_is_a_foreign_key(db: object) -> None:
    await chakra.create_tables(Basket, BasketLine, Receipt)
    baskets = [Basket(label=x) for x in ("first", "second", "third")]
    for b in baskets:
        await b.save()
    a, b, c = (x.id for x in baskets)
    for basket, line, qty in [(a, 1, 5), (a, 2, 7), (b, 1, 9)]:
        await BasketLine(basket_id=basket, line=line, qty=qty).save()
    await Receipt(basket_id=b, number="R-2").save()
    assert await line_rows() == [(a, 1, 5), (a, 2, 7), (b, 1, 9)]
    receipt_cols = await chakra.fetch('SELECT "basket_id", "number" FROM "cpk_receipt"')
    assert [(int(k), n) for k, n in receipt_cols] == [(b, "R-2")]

    # Forward: joined, prefetched, fetched.
    lines = await BasketLine.objects.select_related("basket").order_by("basket_id", "line")
    assert [(x.pk, x.basket.label) for x in lines] == [
        ((a, 1), "first"),
        ((a, 2), "first"),
        ((b, 1), "second"),
    ]
    lines = await BasketLine.objects.prefetch_related("basket").order_by("-basket_id")
    assert lines[0].basket.label == "second"
    one = await BasketLine.objects.get(pk=(a, 2))
    await one.fetch_related("basket")
    assert one.basket.id == a
    assert await BasketLine.objects.filter(basket__label="first").count() == 2

    # Reverse: every basket with its lines and its receipt, the empty one too.
    got = await Basket.objects.prefetch_related("lines", "receipt").order_by("id")
    assert [
        (
            x.label,
            sorted((ln.line, ln.qty) for ln in x.lines),  # type: ignore[attr-defined]
            x.receipt.number if x.receipt is not None else None,  # type: ignore[attr-defined]
        )
        for x in got
    ] == [("first", [(1, 5), (2, 7)], None), ("second", [(1, 9)], "R-2"), ("third", [], None)]
    r = await Receipt.objects.select_related("basket").get(pk=b)
    assert r.pk == b and r.basket.label == "second"

    # Per-row writes by the whole key; the foreign key refuses an orphan; deletes cascade.
    one.qty = 70
    await one.save()
    assert await line_rows() == [(a, 1, 5), (a, 2, 70), (b, 1, 9)]
    with pytest.raises(errors.IntegrityError):
        await BasketLine(basket_id=c + 1000, line=1, qty=1).save()
    await baskets[1].delete()
    assert await line_rows() == [(a, 1, 5), (a, 2, 70)]
    assert await Receipt.objects.count() == 0


def test_a_nullable_key_foreign_key_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be nullable"):
        ForeignKey("Basket", nullable=True, primary_key=True)


# -- sessions -------------------------------------------------------------------------------


async def test_a_session_tracks_composite_key_rows_by_their_whole_key(db: object) -> None:
    """The identity map is keyed by the whole key; changes, inserts (one batched job),
    refresh and deletes name the row by every key field, so the row sharing the first key
    value is never touched. Checked with hand-written SQL."""
    await seed()
    async with Session() as s:
        a = await s.get(Membership, (1, 20))
        assert a is not None and await s.get(Membership, (1, 20)) is a
        assert await s.get(Membership, [1, 20]) is a
        assert await s.get(Membership, (1, 99)) is None
        b = await s.get(Membership, (2, 10))
        assert b is not None and b is not a
        a.role = "admin"
        b.score = 3
        s.add_all([Membership(team_id=3, user_id=u, role="new", score=u) for u in (1, 2, 3)])
        await s.commit()
        assert await s.get(Membership, (3, 2)) is not None
    assert await rows() == [
        (1, 10, "owner", 0),
        (1, 20, "admin", 0),
        (2, 10, "member", 3),
        (3, 1, "new", 1),
        (3, 2, "new", 2),
        (3, 3, "new", 3),
    ]
    async with Session() as s:
        m = await s.get(Membership, (1, 10))
        assert m is not None
        await chakra.execute(
            'UPDATE "cpk_membership" SET "role" = %s WHERE "team_id" = 1 AND "user_id" = 10',
            ["changed"],
        )
        await s.refresh(m)
        assert m.role == "changed"
        gone = await s.get(Membership, (3, 2))
        assert gone is not None
        s.delete(gone)
        await s.commit()
    assert await rows() == [
        (1, 10, "changed", 0),
        (1, 20, "admin", 0),
        (2, 10, "member", 3),
        (3, 1, "new", 1),
        (3, 3, "new", 3),
    ]


async def test_a_session_refuses_a_key_change_by_name(db: object) -> None:
    await seed()
    before = await rows()
    async with Session() as s:
        m = await s.get(Membership, (1, 20))
        assert m is not None
        m.user_id = 99
        m.role = "moved"
        with pytest.raises(errors.InvalidQuery, match=r"Membership\.user_id .*team_id, user_id"):
            await s.commit()
    assert await rows() == before


async def test_a_session_over_a_key_that_is_a_foreign_key(db: object) -> None:
    """``(basket_id, line)`` with ``basket_id`` a foreign key: a new parent and its new
    lines in one flush (the parent first, its key filled into the lines), a tracked line's
    change, a delete; the foreign key refuses an orphan."""
    await chakra.create_tables(Basket, BasketLine, Receipt)
    async with Session() as s:
        basket = Basket(id=7, label="b")
        s.add(basket)
        s.add_all([BasketLine(basket=basket, line=n, qty=n) for n in (1, 2, 3)])
        await s.commit()
    assert await line_rows() == [(7, 1, 1), (7, 2, 2), (7, 3, 3)]
    async with Session() as s:
        ln = await s.get(BasketLine, (7, 2))
        assert ln is not None
        ln.qty = 20
        last = await s.get(BasketLine, (7, 3))
        assert last is not None
        s.delete(last)
        await s.commit()
    assert await line_rows() == [(7, 1, 1), (7, 2, 20)]
    async with Session() as s:
        s.add(BasketLine(basket_id=1000, line=1, qty=1))
        with pytest.raises(errors.IntegrityError):
            await s.commit()
    assert await line_rows() == [(7, 1, 1), (7, 2, 20)]


async def test_two_sessions_conflict_on_a_composite_key_by_name(db: object) -> None:
    """A row changed by another writer after the session read it: ``ConcurrentUpdate``
    naming the model, table and whole key, and the other writer's value stays; in
    ``transaction()`` the re-run locks the row by its whole key and wins."""
    await seed()
    async with Session() as s:
        m = await s.get(Membership, (1, 20))
        assert m is not None
        await Membership.objects.filter(team_id=1, user_id=20).update(score=7)
        m.score += 1
        with pytest.raises(errors.ConcurrentUpdate) as caught:
            await s.commit()
        e = caught.value
        assert e.retryable
        assert (e.model, e.table, e.key) == ("Membership", "cpk_membership", "(1, 20)")
    assert (await rows())[1] == (1, 20, "member", 7)
    if db.backend == "sqlite":  # type: ignore[attr-defined]
        return  # SQLite serialises writers: no second writer inside the transaction.
    runs = 0

    async def body(s: Session) -> int:
        nonlocal runs
        runs += 1
        m = await s.get(Membership, (1, 20))
        assert m is not None
        if runs == 1:
            with chakra.outside_transaction():  # another connection's write
                await Membership.objects.filter(team_id=1, user_id=20).update(score=9)
        m.score += 1
        return int(m.score)

    async with Session() as s:
        got = await s.transaction(body)
    assert (runs, got) == (2, 10)
    assert await rows() == [(1, 10, "owner", 0), (1, 20, "member", 10), (2, 10, "member", 0)]
