"""Several named databases in one process (two SQLite files; two PostgreSQL databases):
``chakra.configure({...})``, a model bound with ``__database__``, ``using()`` on querysets,
sessions and raw SQL; rows land where they belong (checked with hand-written SQL on each
database's own pool); a query joining across databases and an unknown name are refused."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import ClassVar

import chakra
import pytest
from chakra import BigInteger, Field, ForeignKey, Model, OneToMany, String, _chakra
from conftest import Db


class DbAccount(Model):
    __tablename__ = "pdb_accounts"

    id = Field(BigInteger, primary_key=True)
    name = Field(String(40))
    events: ClassVar[OneToMany[DbEvent]] = OneToMany("DbEvent", back_populates="account")


class DbEvent(Model):
    __tablename__ = "pdb_events"
    __database__ = "analytics"

    id = Field(BigInteger, primary_key=True)
    account: ForeignKey[DbAccount, int] = ForeignKey("DbAccount", back_populates="events")
    account_id: Field[int] = account.key_field()
    kind = Field(String(40))


def count(d: Db, table: str) -> int | None:
    """``SELECT COUNT(*)`` written by hand on a connection of the test's own (``None``: no
    such table there)."""
    if d.backend == "sqlite":
        con = sqlite3.connect(d.url.removeprefix("sqlite://"))
        try:
            return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        except sqlite3.OperationalError:
            return None
        finally:
            con.close()
    try:
        rows = _chakra.fetch_job(
            _chakra.PoolRef(d.url), f"SELECT COUNT(*) FROM {table}", [], False
        ).run_sync()
    except chakra.errors.DatabaseError:
        return None
    return int(rows[0][0])


@pytest.fixture(params=["sqlite", "postgres"])
def two(request: pytest.FixtureRequest, new_db: object) -> Iterator[tuple[Db, Db]]:
    main: Db = new_db(request.param)  # type: ignore[operator]
    analytics: Db = new_db(request.param)  # type: ignore[operator]
    chakra.configure({"default": main.url, "analytics": {"url": analytics.url, "max_size": 4}})
    yield main, analytics
    chakra.close()
    chakra.configure(main.url)


async def test_two_named_databases_hold_their_own_models(two: tuple[Db, Db]) -> None:
    main, analytics = two
    assert chakra.database_names() == ["analytics", "default"]
    await chakra.create_tables(DbAccount)  # unbound: the default database
    serial = "INTEGER PRIMARY KEY" if main.backend == "sqlite" else "BIGSERIAL PRIMARY KEY"
    # The events table has no foreign key: the accounts live in the other database.
    await chakra.execute(
        f"CREATE TABLE pdb_events (id {serial}, account_id BIGINT NOT NULL, "
        "kind VARCHAR(40) NOT NULL)",
        using="analytics",
    )
    acc = await DbAccount.objects.create(name="ada")
    await DbEvent.objects.create(account_id=acc.id, kind="login")
    await DbEvent.objects.using("analytics").create(account_id=acc.id, kind="logout")
    e = DbEvent(account_id=acc.id, kind="login")
    await e.save()
    async with chakra.Session(using="analytics") as s:
        s.add(DbEvent(account_id=acc.id, kind="late"))
        await s.commit()

    # Rows landed where their model is bound, and nowhere else.
    assert count(main, "pdb_accounts") == 1
    assert count(main, "pdb_events") is None
    assert count(analytics, "pdb_events") == 4
    assert count(analytics, "pdb_accounts") is None

    # Reads go to the model's database.
    assert await DbEvent.objects.filter(kind="login").count() == 2
    got = await DbEvent.objects.get(id=e.id)
    assert got.kind == "login"
    rows = await chakra.fetch("SELECT COUNT(*) FROM pdb_events", using="analytics")
    assert rows[0][0] == 4
    # The default database has no events table: using() on the query sends it there.
    with pytest.raises(chakra.errors.DatabaseError):
        await DbEvent.objects.using("default").count()

    # A query following a relation into the other database is refused by name.
    with pytest.raises(chakra.errors.CrossDatabaseQuery) as refused:
        await DbAccount.objects.filter(events__kind="login").all()
    assert "DbEvent" in str(refused.value) and "'analytics'" in str(refused.value)
    with pytest.raises(chakra.errors.CrossDatabaseQuery):
        await DbEvent.objects.select_related("account").all()

    # An unknown name is refused, naming the configured ones.
    with pytest.raises(chakra.errors.UnknownDatabase) as unknown:
        DbEvent.objects.using("analytcs")
    assert "analytics, default" in str(unknown.value)


def test_configure_checks_every_database_setting() -> None:
    with pytest.raises(chakra.errors.ConfigError, match="unknown setting"):
        chakra.configure({"default": {"url": "sqlite://a.db", "replica": []}})
    with pytest.raises(chakra.errors.ConfigError, match="not a policy"):
        chakra.configure({"default": {"url": "sqlite://a.db", "read_your_writes": "always"}})
    with pytest.raises(chakra.errors.ConfigError, match='"default"'):
        chakra.configure({"analytics": "sqlite://a.db"})
    with pytest.raises(chakra.errors.InvalidUrl):
        chakra.configure({"default": "mongodb://x"})
    chakra.configure()


# -- an object remembers the database its row lives on ---------------------------------------


class DbWriter(Model):
    __tablename__ = "pdb_writers"

    id = Field(BigInteger, primary_key=True)
    name = Field(String(40))
    notes: ClassVar[OneToMany[DbNote]] = OneToMany("DbNote", back_populates="writer")


class DbNote(Model):
    __tablename__ = "pdb_notes"

    id = Field(BigInteger, primary_key=True)
    writer: ForeignKey[DbWriter, int] = ForeignKey("DbWriter", back_populates="notes")
    writer_id: Field[int] = writer.key_field()
    text = Field(String(40))


def rows(d: Db, sql: str) -> list[tuple[object, ...]]:
    """Rows of hand-written SQL on the pool of the file's URL (not of a database name: the
    routing under test plays no part)."""
    out = _chakra.fetch_job(_chakra.PoolRef(d.url), sql, [], False).run_sync()
    return [tuple(r) for r in out]


@pytest.fixture
def two_files(new_db: object) -> Iterator[tuple[Db, Db]]:
    """Two SQLite files as ``default`` and ``analytics``, each holding a writer with id 1
    (different names) so that a write on the wrong file shows; notes only in analytics."""
    main: Db = new_db("sqlite")  # type: ignore[operator]
    other: Db = new_db("sqlite")  # type: ignore[operator]
    chakra.configure({"default": main.url, "analytics": other.url})
    for d in (main, other):
        chakra.create_tables_sync(DbWriter, DbNote, url=d.url)
    # Seeded with raw SQL through each database's pool (a row written by another connection
    # before the pool opened is not what is under test here).
    chakra.execute_sync("INSERT INTO pdb_writers (id, name) VALUES (1, 'home')", using="default")
    chakra.execute_sync("INSERT INTO pdb_writers (id, name) VALUES (1, 'ada')", using="analytics")
    chakra.execute_sync(
        "INSERT INTO pdb_notes (id, writer_id, text) VALUES (1, 1, 'a'), (2, 1, 'b')",
        using="analytics",
    )
    yield main, other
    chakra.close()
    chakra.configure(main.url)


async def test_an_object_read_with_using_writes_and_relates_on_that_database(
    two_files: tuple[Db, Db],
) -> None:
    main, other = two_files
    names = "SELECT id, name FROM pdb_writers ORDER BY id"

    w = await DbWriter.objects.using("analytics").get(id=1)
    assert w.name == "ada"
    w.name = "ada2"
    await w.save()
    assert rows(other, names) == [(1, "ada2")]
    assert rows(main, names) == [(1, "home")], "the default database was written"

    await chakra.execute("UPDATE pdb_writers SET name = 'ada3' WHERE id = 1", using="analytics")
    await w.refresh_from_db()
    assert w.name == "ada3"

    # Related managers and fetch_related read where the object was read.
    notes = await w.notes.all()
    assert sorted(n.text for n in notes) == ["a", "b"]
    assert await w.notes.count() == 2
    # ... and the related objects remember it in turn.
    note = next(n for n in notes if n.text == "a")
    note.text = "z"
    await note.save()
    assert rows(other, "SELECT text FROM pdb_notes ORDER BY text") == [("b",), ("z",)]
    assert rows(main, "SELECT COUNT(*) FROM pdb_notes") == [(0,)]

    n2 = await DbNote.objects.using("analytics").order_by("id").first()
    assert n2 is not None
    await n2.fetch_related("writer")
    assert n2.writer.name == "ada3"
    n2.writer.name = "ada4"
    await n2.writer.save()
    assert rows(other, names) == [(1, "ada4")]
    assert rows(main, names) == [(1, "home")]

    await n2.delete()
    assert rows(other, "SELECT COUNT(*) FROM pdb_notes") == [(1,)]

    # Created through using(): later writes follow it; sync twins too.
    bob = await DbWriter.objects.using("analytics").create(name="bob")
    bob.name = "bob2"
    bob.save_sync()
    assert rows(other, f"SELECT name FROM pdb_writers WHERE id = {int(bob.id)}") == [("bob2",)]
    assert rows(main, "SELECT COUNT(*) FROM pdb_writers") == [(1,)]
    bob.delete_sync()
    assert rows(other, "SELECT COUNT(*) FROM pdb_writers") == [(1,)]

    # A session on a named database: what it loads and adds remembers it.
    async with chakra.Session(using="analytics") as s:
        loaded = await s.query(DbWriter).get(id=1)
        added = DbWriter(name="cy")
        s.add(added)
        await s.commit()
    loaded.name = "ada5"
    await loaded.save()
    added.name = "cy2"
    await added.save()
    assert rows(other, names) == [(1, "ada5"), (int(added.id), "cy2")]
    assert rows(main, names) == [(1, "home")]

    # Read without a chosen database: the model's (here the default), as before.
    home = await DbWriter.objects.get(id=1)
    home.name = "home2"
    await home.save()
    assert rows(main, names) == [(1, "home2")]
    assert rows(other, names)[0] == (1, "ada5")


class DbListed(Model):
    """Bound by the ``models`` list of its database's settings, not ``__database__``."""

    __tablename__ = "pdb_listed"

    id = Field(BigInteger, primary_key=True)
    kind = Field(String(40))


def test_models_listed_in_a_databases_settings_are_bound_to_it(new_db: object) -> None:
    main: Db = new_db("sqlite")  # type: ignore[operator]
    analytics: Db = new_db("sqlite")  # type: ignore[operator]
    try:
        chakra.configure(
            {"default": main.url, "analytics": {"url": analytics.url, "models": ["DbListed"]}}
        )
        chakra.create_tables_sync(DbListed, url=analytics.url)
        DbListed.objects.create_sync(kind="x")  # type: ignore[attr-defined]
        assert count(analytics, "pdb_listed") == 1
        assert count(main, "pdb_listed") is None
        assert DbListed.__database__ == "analytics"
        # Configured again without the list: back on the default database.
        chakra.close()
        chakra.configure({"default": main.url, "analytics": analytics.url})
        assert DbListed.__database__ is None
        # Listed for one database, declared for another: refused by name.
        with pytest.raises(chakra.errors.ConfigError) as both:
            chakra.configure(
                {"default": {"url": main.url, "models": ["DbEvent"]}, "analytics": analytics.url}
            )
        message = str(both.value)
        assert "DbEvent" in message and "'analytics'" in message and "'default'" in message
        assert DbEvent.__database__ == "analytics"
    finally:
        chakra.close()
        chakra.configure(main.url)
