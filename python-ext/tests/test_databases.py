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
