"""``Model(**fields)``: the constructor compiled per class (``chakra.model_init``) makes the
same objects as the generic ``Model.__init__`` (defaults, callable defaults per object,
relations given as objects, unknown keywords refused by name), and a class that brings its
own ``__init__`` or ``__setattr__``, or a field that intercepts assignment, keeps it. Then
``bulk_create`` of such objects: every value reads back exactly and the keys set on the
objects are the rows'."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from chakra import BigInteger, Field, ForeignKey, Integer, Model, String, errors
from models import Post, Thing, User

_counter = itertools.count()


def generic(cls: type[Model], **kwargs: Any) -> Model:
    """The object the generic constructor makes (the reference the compiled one must match)."""
    obj = cls.__new__(cls)
    Model.__init__(obj, **kwargs)
    return obj


def test_compiled_for_plain_models() -> None:
    assert getattr(User.__init__, "__chakra_compiled__", False)
    assert getattr(Post.__init__, "__chakra_compiled__", False)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"username": "a", "email": "a@x"},
        {"username": "a", "email": "a@x", "is_active": False, "balance": 7, "id": 3},
        {"created_at": datetime(2024, 1, 1, tzinfo=timezone.utc), "balance": None},
    ],
)
def test_same_object_as_generic(kwargs: dict[str, Any]) -> None:
    made = User(**kwargs)
    ref = generic(User, **kwargs)
    a, b = dict(made.__dict__), dict(ref.__dict__)
    # ``created_at`` has a callable default (datetime.utcnow): called per object.
    if "created_at" not in kwargs:
        assert isinstance(a.pop("created_at"), datetime)
        assert isinstance(b.pop("created_at"), datetime)
    assert a == b
    assert list(made.__dict__) == list(ref.__dict__)
    assert made.__dict__["_chakra_new"] is True
    assert made._is_new()


def test_callable_default_called_per_object() -> None:
    calls = []

    def stamp() -> int:
        calls.append(1)
        return len(calls)

    class InitStamped(Model):
        __tablename__ = f"init_stamped_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        n = Field(Integer, default=stamp)

    assert [InitStamped().n, InitStamped().n, InitStamped(n=0).n] == [1, 2, 0]
    assert len(calls) == 2


def test_defaults_of_every_type() -> None:
    t = Thing(name="x")
    ref = generic(Thing, name="x")
    assert t.__dict__ == ref.__dict__
    assert (t.big, t.flag, t.score, t.nick, t.at) == (0, False, 0.0, None, None)


def test_unknown_keyword_named() -> None:
    with pytest.raises(errors.UnknownField, match="nope") as e:
        User(username="a", nope=1)
    assert e.value.model == "User"  # type: ignore[attr-defined]
    assert e.value.field == "nope"  # type: ignore[attr-defined]
    assert isinstance(e.value, TypeError)


def test_positional_arguments_refused() -> None:
    with pytest.raises(TypeError):
        User("a")  # type: ignore[misc]


def test_relation_given_as_object() -> None:
    u = User(id=5, username="a")
    p = Post(title="t", author=u)
    assert p.author_id == 5
    assert p.__dict__["author"] is u
    assert p.__dict__ == generic(Post, title="t", author=u).__dict__
    # The key given too: the same key is fine, another one is refused (either would be lost).
    assert Post(title="t", author=u, author_id=5).author_id == 5
    assert Post(author_id=5, title="t", author=u).author_id == 5
    with pytest.raises(TypeError, match="author_id"):
        Post(title="t", author=u, author_id=6)
    with pytest.raises(errors.UnknownField):
        Post(title="t", tags=[])  # a many-to-many is not a constructor keyword


def test_subclass_overriding_init() -> None:
    class InitOwn(Model):
        __tablename__ = f"init_own_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        name = Field(String(20))
        n = Field(Integer, default=4)

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("name", "anon")
            super().__init__(**kwargs)
            self.extra = True

    assert not getattr(InitOwn.__init__, "__chakra_compiled__", False)
    o = InitOwn(n=1)
    assert (o.name, o.n, o.extra, o._is_new()) == ("anon", 1, True, True)
    assert InitOwn().n == 4
    with pytest.raises(errors.UnknownField):
        InitOwn(bad=1)


def test_subclass_of_compiled_model_with_own_init() -> None:
    """A subclass's ``super().__init__`` reaches its parent's compiled constructor, which
    hands the object to the generic path: the subclass's own fields and defaults apply."""

    class InitBase(Model):
        __tablename__ = f"init_base_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        n = Field(Integer, default=1)

    class InitChild(InitBase):
        __tablename__ = f"init_child_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        n = Field(Integer, default=2)
        m = Field(Integer, default=3)

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)

    assert getattr(InitBase.__init__, "__chakra_compiled__", False)
    c = InitChild()
    assert (c.n, c.m) == (2, 3)
    assert InitChild(n=1).n == 1
    assert InitBase().n == 1


def test_mixin_init_kept() -> None:
    class Mixin:
        def __init__(self, **kwargs: Any) -> None:
            kwargs["n"] = kwargs.get("n", 0) + 100
            super().__init__(**kwargs)

    class InitMixed(Mixin, Model):
        __tablename__ = f"init_mixed_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        n = Field(Integer, default=1)

    assert InitMixed(n=1).n == 101


def test_own_setattr_and_property_keep_the_generic_path() -> None:
    seen: list[str] = []

    class InitWatched(Model):
        __tablename__ = f"init_watched_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        n = Field(Integer, default=1)

        def __setattr__(self, name: str, value: Any) -> None:
            seen.append(name)
            super().__setattr__(name, value)

    assert not getattr(InitWatched.__init__, "__chakra_compiled__", False)
    assert InitWatched(n=2).n == 2
    assert seen == []  # the constructor writes the fields, as before, not through setattr

    class SetField(Field[int]):
        """A field type that watches assignment (a data descriptor)."""

        def __get__(self, obj: Any, owner: Any) -> Any:
            return self if obj is None else obj.__dict__[self.name]

        def __set__(self, obj: Any, value: int) -> None:
            seen.append(f"set {value}")
            obj.__dict__[self.name] = value

    class InitDescribed(Model):
        __tablename__ = f"init_described_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        n = SetField(Integer, default=1)

    assert not getattr(InitDescribed.__init__, "__chakra_compiled__", False)
    assert InitDescribed(n=5).n == 5
    assert seen == []


def test_foreign_key_model_compiled() -> None:
    class InitOwner(Model):
        __tablename__ = f"init_owner_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)

    class InitOwned(Model):
        __tablename__ = f"init_owned_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        owner = ForeignKey(InitOwner.__name__, nullable=True)

    assert getattr(InitOwned.__init__, "__chakra_compiled__", False)
    assert InitOwned().owner_id is None
    assert InitOwned(owner_id=3).owner_id == 3
    assert InitOwned(owner=InitOwner(id=4)).owner_id == 4


async def test_bulk_create_reads_back_exactly(db: object) -> None:
    base = datetime(2024, 1, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
    made = [
        User(
            username=f"u{i}",
            email=f"u{i}@example.com",
            created_at=base + timedelta(seconds=i, microseconds=i),
            is_active=i % 3 != 0,
            balance=i * 1000 - 7,
        )
        for i in range(250)
    ]
    made.append(User(username="defaults", email="d@x"))
    objs = await User.objects.bulk_create(made)
    assert objs == made
    assert all(o.id is not None and not o._is_new() for o in made)
    assert len({o.id for o in made}) == len(made)
    rows = await User.objects.order_by("id").values_list(
        "id", "username", "email", "created_at", "is_active", "balance"
    )
    want = [(o.id, o.username, o.email, o.created_at, o.is_active, o.balance) for o in made]
    assert sorted(rows) == sorted(want)
    d = next(r for r in rows if r[1] == "defaults")
    assert (d[4], d[5]) == (True, 0)
    # Synchronous twin, and the objects read back as objects.
    more = User.objects.bulk_create_sync(
        [User(username=f"s{i}", email="s@x", balance=i) for i in range(30)]
    )
    got = {u.id: u for u in await User.objects.filter(username__startswith="s")}
    assert {o.id: (o.username, o.balance) for o in more} == {
        k: (u.username, u.balance) for k, u in got.items()
    }


async def test_bulk_create_bad_value_named(db: object) -> None:
    objs = [User(username="ok", email="a@x"), User(username="x" * 51, email="b@x")]
    with pytest.raises(errors.BadValue) as e:
        await User.objects.bulk_create(objs)
    assert e.value.model == "User"  # type: ignore[attr-defined]
    assert e.value.field == "username"  # type: ignore[attr-defined]
    assert await User.objects.count() == 0


def test_fields_named_like_builtins() -> None:
    class InitBuiltinNames(Model):
        __tablename__ = f"init_builtins_{next(_counter)}"
        id = Field(BigInteger, primary_key=True)
        type = Field(String(20), default="plain")
        object = Field(Integer, nullable=True)

    assert getattr(InitBuiltinNames.__init__, "__chakra_compiled__", False)
    o = InitBuiltinNames(type="x", object=3)
    assert (o.type, o.object, o.id) == ("x", 3, None)
    assert InitBuiltinNames().type == "plain"
    with pytest.raises(errors.UnknownField):
        InitBuiltinNames(kind=1)


async def test_bulk_create_shared_datetimes_read_back(db: object) -> None:
    """The same ``datetime`` / ``date`` object in consecutive objects is read once; every
    object still gets the value stored (a naive datetime is taken as UTC and written back
    as stored)."""
    naive = datetime(2023, 5, 6, 7, 8, 9, 123456)
    aware = datetime(2023, 5, 6, 7, 8, 9, 5, tzinfo=timezone(timedelta(hours=2)))
    day = date(2020, 2, 29)
    things = [Thing(name=f"t{i}", at=naive if i < 3 else aware, day=day) for i in range(6)]
    things.append(Thing(name="none"))
    await Thing.objects.bulk_create(things)
    want_naive = naive.replace(tzinfo=timezone.utc)
    want_aware = aware.astimezone(timezone.utc)
    for i, t in enumerate(things[:6]):
        assert t.at == (want_naive if i < 3 else want_aware)
        assert t.at.tzinfo is not None
        assert t.day == day
    rows = await Thing.objects.order_by("id").values_list("name", "at", "day")
    assert rows == [(t.name, t.at, t.day) for t in things]
    assert rows[-1] == ("none", None, None)


def test_signature_shows_fields_and_defaults() -> None:
    import inspect

    sig = inspect.signature(User)
    params = sig.parameters
    assert list(params)[:6] == ["id", "username", "email", "created_at", "is_active", "balance"]
    assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in list(params)[:6])
    assert (params["is_active"].default, params["balance"].default) == (True, 0)
    assert params["username"].default is None
    assert params["created_at"].default == datetime.utcnow
    assert params["relations"].kind is inspect.Parameter.VAR_KEYWORD
    # The signature binds what the constructor takes.
    sig.bind(username="a", author=None)
    with pytest.raises(TypeError):
        sig.bind("positional")
