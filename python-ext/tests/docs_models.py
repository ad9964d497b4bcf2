"""The models the documentation's Python examples use, and the rows every page starts with:
the same tables and rows as the Rust side of the docs check (docs-check/src/models.rs and
``sample_data`` in docs-check/src/lib.rs)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import chakra
from chakra import (
    CASCADE,
    JSON,
    SET_NULL,
    Array,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Decimal,
    Field,
    Float,
    ForeignKey,
    Integer,
    ManyToMany,
    Model,
    OneToMany,
    OneToOne,
    String,
    Text,
)


class User(Model):
    __tablename__ = "users"

    id = Field(Integer, primary_key=True)
    username = Field(String(50), unique=True)
    email = Field(String(255))
    created_at = Field(DateTime, default=dt.datetime.utcnow)
    is_active = Field(Boolean, default=True)
    balance = Field(Integer, default=0)

    posts = OneToMany("Post", back_populates="author")


class Profile(Model):
    __tablename__ = "profiles"

    id = Field(BigInteger, primary_key=True)
    user = OneToOne("User", back_populates="profile", type_=Integer, on_delete=CASCADE)
    bio = Field(String(200))


class Post(Model):
    __tablename__ = "posts"

    id = Field(BigInteger, primary_key=True)
    author = ForeignKey("User", back_populates="posts", type_=Integer, on_delete=CASCADE)
    editor = ForeignKey(
        "User", back_populates="edited_posts", type_=Integer, nullable=True, on_delete=SET_NULL
    )
    title = Field(String(200))
    tags = ManyToMany("Tag", through="post_tags", back_populates="posts")


class Tag(Model):
    __tablename__ = "tags"

    id = Field(BigInteger, primary_key=True)
    name = Field(String(40), unique=True)


class Account(Model):
    __tablename__ = "accounts"

    id = Field(BigInteger, primary_key=True)
    country = Field(String(2))
    balance = Field(Decimal(12, 2))
    active = Field(Boolean, default=True)
    opened = Field(Date)


class Thing(Model):
    __tablename__ = "things"

    id = Field(BigInteger, primary_key=True)
    name = Field(String(100))
    nick = Field(String(100), nullable=True)
    n = Field(BigInteger, nullable=True)
    data = Field(JSON)
    tags = Field(Array(Text))


class Reading(Model):
    __tablename__ = "readings"

    id = Field(BigInteger, primary_key=True)
    sensor = Field(String(40))
    taken_at = Field(DateTime)
    value = Field(Float)


class Member(Model):
    __tablename__ = "members"

    id = Field(BigInteger, primary_key=True)
    email = Field(String(255), unique=True)
    name = Field(String(100))
    visits = Field(BigInteger, default=0)


ALL = (User, Profile, Post, Tag, Account, Thing, Reading, Member)


async def sample_data() -> None:
    """Creates the tables and the rows every docs page starts with (on the configured
    database)."""
    await chakra.create_tables(*ALL)
    alice, bob, _anna, _arthur = await User.objects.bulk_create(
        [
            User(username="alice", email="alice@example.com", balance=500),
            User(username="bob", email="bob@example.com", balance=100),
            User(username="anna", email="anna@example.com", is_active=False),
            User(username="arthur", email="arthur@example.com"),
        ]
    )
    await Profile.objects.create(user=alice, bio="Rustacean")
    hello, _second, _bobs = await Post.objects.bulk_create(
        [
            Post(author=alice, title="Hello"),
            Post(author=alice, title="Second post"),
            Post(author=bob, editor=alice, title="Bob's post"),
        ]
    )
    tags = await Tag.objects.bulk_create([Tag(name="rust"), Tag(name="python")])
    await hello.tags.add(*tags)
    await Account.objects.bulk_create(
        [
            Account(country="de", balance=D("12.50"), opened=dt.date(2024, 1, 5)),
            Account(country="de", balance=D("7.00"), opened=dt.date(2024, 3, 1)),
            Account(country="fr", balance=D("1500.00"), opened=dt.date(2024, 2, 10)),
            Account(country="fr", balance=D("3.25"), active=False, opened=dt.date(2023, 12, 24)),
        ]
    )
    # MySQL/MariaDB has no array columns (refused by name, docs/mysql.md): no things there,
    # whose tags are an array; the blocks using them are marked `not on mysql`.
    if not chakra.current_url().startswith(("mysql:", "mariadb:")):
        await Thing.objects.bulk_create(
            [
                Thing(
                    name="apple",
                    n=12,
                    data={"plan": "pro", "n": 1, "a": {"b": 3}, "tags": ["x", "y"]},
                    tags=["a", "b"],
                ),
                Thing(name="fig", nick="f", n=3, data={"plan": "free", "nul": None}, tags=["a"]),
                Thing(name="kiwi", n=10, data={}, tags=[]),
            ]
        )
    at = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    await Reading.objects.bulk_create(
        [
            Reading(sensor="s1", taken_at=at.replace(hour=10), value=20.5),
            Reading(sensor="s1", taken_at=at.replace(hour=11), value=21.0),
            Reading(sensor="s2", taken_at=at.replace(hour=10, minute=30), value=18.25),
        ]
    )
    await Member.objects.create(email="ann@example.com", name="Ann", visits=1)
