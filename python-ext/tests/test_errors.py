"""Bad input fails with a clear chakra.errors exception before any SQL runs, and writes
nothing."""

from __future__ import annotations

import logging
from datetime import date

import chakra
import pytest
from chakra import F, Q, Session, _chakra, errors
from models import Thing, User


async def test_unknown_field_names_model_and_choices(db: object) -> None:
    with pytest.raises(errors.UnknownField) as ei:
        User.objects.filter(usernme__startswith="a")
    e = ei.value
    assert e.model == "User" and e.field == "usernme"
    assert e.choices is not None and "username" in e.choices
    assert "User" in str(e) and "usernme" in str(e) and "username" in str(e)
    assert isinstance(e, errors.FieldError) and isinstance(e, errors.ChakraError)
    with pytest.raises(errors.UnknownField):
        User.objects.exclude(Q(nope=1))
    with pytest.raises(errors.UnknownField):
        User.objects.order_by("-nope")
    with pytest.raises(errors.UnknownField):
        User.objects.values("nope")._all_job()
    with pytest.raises(errors.UnknownField):
        User(nope=1)


async def test_unknown_lookup_names_field_and_choices(db: object) -> None:
    with pytest.raises(errors.UnknownLookup) as ei:
        User.objects.filter(username__startwith="a")
    e = ei.value
    assert (e.model, e.field, e.lookup) == ("User", "username", "startwith")
    assert e.choices is not None and "startswith" in e.choices
    assert "startswith" in str(e)
    with pytest.raises(errors.UnknownLookup):
        User.objects.filter(balance__icontains="1")
    with pytest.raises(errors.UnknownLookup):
        Thing.objects.filter(day__hour=3)


async def test_relation_traversal_checks_the_related_model(db: object) -> None:
    User.objects.filter(posts__title="x")
    with pytest.raises(errors.UnknownField) as ei:
        User.objects.filter(posts__nope="x")
    assert (ei.value.model, ei.value.field) == ("Post", "nope")
    with pytest.raises(errors.BadValue) as bv:
        User.objects.filter(posts__isnull="yes")
    assert bv.value.model == "User"


async def test_wrong_value_type_names_model_field_value(db: object) -> None:
    with pytest.raises(errors.BadValue) as ei:
        User.objects.filter(balance__gt="ten")
    e = ei.value
    assert (e.model, e.field, e.value) == ("User", "balance__gt", "'ten'")
    assert isinstance(e, ValueError)
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(day=12)
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(n=2**40)
    with pytest.raises(errors.BadValue):
        User.objects._update_job({"balance": "x"})


async def test_bad_writes_write_nothing(db: object) -> None:
    with pytest.raises(errors.BadValue) as ei:
        await User.objects.create(username="x", email="e", balance="lots")
    assert ei.value.field == "balance" and ei.value.model == "User"
    with pytest.raises(errors.BadValue):
        await User.objects.bulk_create(
            [User(username="ok", email="e"), User(username=["no"], email="e")]
        )
    with pytest.raises(errors.BadValue, match="max_length"):
        await User.objects.create(username="x" * 51, email="e")
    with pytest.raises(errors.BadValue, match="not nullable"):
        await User.objects.create(username=None, email="e")
    with pytest.raises(errors.BadValue):
        await Thing.objects.create(name="t", day="2024-01-01")
    async with Session() as s:
        s.add(User(username="fine", email="e"))
        s.add(User(username="bad", email=3))
        with pytest.raises(errors.BadValue):
            await s.commit()
    assert await User.objects.count() == 0
    assert await Thing.objects.count() == 0


async def test_update_with_bad_values_fails_before_sql(db: object) -> None:
    await User.objects.create(username="a", email="e", balance=5)
    with pytest.raises(errors.BadValue):
        await User.objects.update(balance="x")
    with pytest.raises(errors.UnknownField):
        await User.objects.update(nope=1)
    with pytest.raises(errors.UnknownField):
        await User.objects.update(balance=F("nope") + 1)
    assert (await User.objects.get(username="a")).balance == 5


async def test_integrity_errors_map_to_classes(db: object) -> None:
    await User.objects.create(username="a", email="e")
    with pytest.raises(errors.UniqueViolation) as ei:
        await User.objects.create(username="a", email="e2")
    assert isinstance(ei.value, errors.IntegrityError)
    assert await User.objects.count() == 1


async def test_unique_violation_names_model_field_table_and_column(db: object) -> None:
    """The attributes docs/errors.md shows, the same on every backend where the backend
    gives them (the constraint's name: PostgreSQL and MySQL only)."""
    await User.objects.create(username="alice", email="a@x")
    with pytest.raises(errors.UniqueViolation) as ei:
        await User.objects.create(username="alice", email="b@x")
    e = ei.value
    assert (e.model, e.field, e.table, e.column) == ("User", "username", "users", "username")
    assert e.detail and e.message, (e.detail, e.message)
    if db.backend == "postgres":  # type: ignore[attr-defined]
        assert e.constraint == "users_username_key"
        assert e.detail == "Key (username)=(alice) already exists."
    elif db.backend == "mysql":  # type: ignore[attr-defined]
        assert e.constraint == "users_username_key"
        assert e.detail == "Duplicate entry 'alice' for key 'users_username_key'"
    else:
        assert e.detail == e.message == "UNIQUE constraint failed: users.username"


async def test_a_failed_statement_is_logged_with_its_error(
    db: object, caplog: pytest.LogCaptureFixture
) -> None:
    await User.objects.create(username="alice", email="a@x")
    with caplog.at_level(logging.DEBUG, logger="chakra.sql"):
        caplog.clear()
        with pytest.raises(errors.UniqueViolation):
            await User.objects.create(username="alice", email="b@x")
        with pytest.raises(errors.DatabaseError):
            await chakra.execute("SELECT * FROM no_such_table")
    failed = [r for r in caplog.records if r.name == "chakra.sql" and r.error]  # type: ignore[attr-defined]
    assert len(failed) == 2, [r.getMessage() for r in caplog.records]
    insert, select = failed
    assert insert.sql.startswith('INSERT INTO "users"')  # type: ignore[attr-defined]
    assert "unique violation" in insert.getMessage() and "failed after" in insert.getMessage()
    assert "no_such_table" in select.error  # type: ignore[attr-defined]
    assert insert.levelno == logging.DEBUG


async def test_does_not_exist_and_multiple_are_model_subclasses(db: object) -> None:
    await User.objects.create(username="a", email="same")
    await User.objects.create(username="b", email="same")
    with pytest.raises(User.DoesNotExist) as ei:
        await User.objects.get(username="zz")
    assert isinstance(ei.value, errors.DoesNotExist)
    assert "User matching query does not exist" in str(ei.value)
    assert "username='zz'" in str(ei.value)
    with pytest.raises(User.MultipleObjectsReturned) as mi:
        await User.objects.get(email="same")
    assert isinstance(mi.value, errors.MultipleObjectsReturned)
    assert mi.value.count == 2


def test_bad_urls_raise_invalid_url() -> None:
    for url in ["", "mysql://", "mysql://h:1/", "nosuch://", "sqlite://", "postgres://"]:
        with pytest.raises(errors.InvalidUrl):
            chakra.configure(url)
    with pytest.raises(errors.InvalidUrl):
        Session("ftp://x")


def test_mysql_and_mariadb_urls_are_accepted_and_bad_ones_named() -> None:
    # Both schemes reach the MySQL backend (no connection is made until a statement runs).
    for url in ["mysql://root@127.0.0.1:3306/db", "mariadb://u:secret@db.example/app"]:
        assert _chakra.PoolRef(url).dialect == "mysql"
    with pytest.raises(errors.InvalidUrl, match="no database name") as ei:
        chakra.configure("mariadb://u:secret@db.example/")
    assert "secret" not in str(ei.value)


async def test_unreachable_database_is_a_connection_error(new_db: object) -> None:
    chakra.configure("postgres://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises(errors.ConnectionError, match=r"127\.0\.0\.1"):
            await User.objects.count()
    finally:
        chakra.close()


async def test_values_list_flat_needs_one_field(db: object) -> None:
    with pytest.raises(errors.InvalidQuery):
        User.objects.values_list("id", "username", flat=True)


def test_errors_mirror_the_core_enum() -> None:
    for name in [
        "DoesNotExist",
        "MultipleObjectsReturned",
        "UniqueViolation",
        "ForeignKeyViolation",
        "NotNullViolation",
        "CheckViolation",
        "UnknownField",
        "UnknownLookup",
        "BadValue",
        "InvalidIdentifier",
        "InvalidUrl",
        "ConfigError",
        "ConnectionError",
        "InvalidQuery",
        "DatabaseError",
        "DecodeError",
        "TransactionError",
    ]:
        assert issubclass(getattr(errors, name), errors.ChakraError)


async def test_dates_are_checked(db: object) -> None:
    with pytest.raises(errors.BadValue):
        Thing.objects.filter(day__gt="yesterday")
    assert await Thing.objects.filter(day__gt=date(2000, 1, 1)).count() == 0
