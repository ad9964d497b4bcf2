"""Models used by the tests: the seed's ``User`` (with the fields its examples use) and
``Post``, with the blog around them for the relationship tests (``Profile``, ``Comment``,
``Tag``: the same shape as chakra/tests/blog/mod.rs), and ``Thing`` with one field of every
type for the lookup tests."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from chakra import (
    CASCADE,
    JSON,
    SET_NULL,
    UUID,
    Array,
    BigInteger,
    Boolean,
    Bytes,
    Date,
    DateTime,
    Decimal,
    Enum,
    Field,
    Float,
    ForeignKey,
    Integer,
    ManyToMany,
    Model,
    OneToMany,
    OneToOne,
    RelatedManager,
    Reverse,
    String,
    Text,
)


class User(Model):
    __tablename__ = "users"

    id = Field(Integer, primary_key=True)
    username = Field(String(50), unique=True)
    email = Field(String(255))
    created_at = Field(DateTime, default=datetime.utcnow)
    is_active = Field(Boolean, default=True)
    balance = Field(Integer, default=0)

    # Relationships
    posts: ClassVar[OneToMany[Post]] = OneToMany("Post", back_populates="author")
    # Installed by the other side's back_populates; declared for the static types.
    profile: ClassVar[Reverse[Profile | None]]
    edited_posts: ClassVar[Reverse[RelatedManager[Post]]]
    comments: ClassVar[Reverse[RelatedManager[Comment]]]


class Profile(Model):
    """One per user; gives ``User.profile`` (the reverse side, not declared on ``User``)."""

    __tablename__ = "profiles"

    id: Field[int] = Field(BigInteger, primary_key=True)
    user: OneToOne[User, int] = OneToOne(
        "User", back_populates="profile", type_=Integer, on_delete=CASCADE
    )
    user_id: Field[int] = user.key_field()
    bio: Field[str] = Field(Text)


class Post(Model):
    __tablename__ = "posts"

    id: Field[int] = Field(BigInteger, primary_key=True)
    title: Field[str] = Field(String(200))
    author: ForeignKey[User, int] = ForeignKey(
        "User", back_populates="posts", type_=Integer, on_delete=CASCADE
    )
    author_id: Field[int] = author.key_field()
    editor: ForeignKey[User | None, int | None] = ForeignKey(
        "User", back_populates="edited_posts", type_=Integer, nullable=True, on_delete=SET_NULL
    )
    editor_id: Field[int | None] = editor.key_field()
    tags: ClassVar[ManyToMany[Tag]] = ManyToMany("Tag", through="post_tags", back_populates="posts")
    comments: ClassVar[Reverse[RelatedManager[Comment]]]


class Comment(Model):
    """Deleting a post deletes its comments; a user with comments cannot be deleted
    (``RESTRICT``, the default)."""

    __tablename__ = "comments"

    id: Field[int] = Field(BigInteger, primary_key=True)
    post: ForeignKey[Post, int] = ForeignKey("Post", back_populates="comments", on_delete=CASCADE)
    post_id: Field[int] = post.key_field()
    commenter: ForeignKey[User, int] = ForeignKey("User", back_populates="comments", type_=Integer)
    commenter_id: Field[int] = commenter.key_field()
    body: Field[str] = Field(Text)


class Tag(Model):
    __tablename__ = "tags"

    id = Field(BigInteger, primary_key=True)
    name = Field(String(40), unique=True)
    posts: ClassVar[Reverse[RelatedManager[Post]]]


class Status(str, enum.Enum):
    """``Thing.status``: the same values as ``Status`` in chakra/examples/cross_language.rs."""

    OPEN = "open"
    ON_HOLD = "on hold"
    CLOSED = "closed"


class Thing(Model):
    __tablename__ = "things"

    id = Field(BigInteger, primary_key=True)
    name = Field(Text)
    nick = Field(String(40), nullable=True)
    n = Field(Integer, nullable=True)
    big = Field(BigInteger, default=0)
    flag = Field(Boolean, default=False)
    score = Field(Float, default=0.0)
    price = Field(Decimal(10, 2), nullable=True)
    at = Field(DateTime, nullable=True)
    day = Field(Date, nullable=True)
    data = Field(JSON, nullable=True)
    tags = Field(Array(Text), nullable=True)
    uid = Field(UUID, nullable=True)
    blob = Field(Bytes, nullable=True)
    amount = Field(Decimal(), nullable=True)
    status = Field(Enum(Status, name="thing_status"), nullable=True)


class Item(Model):
    """The same table as ``Item`` in chakra/tests/lookups_vs_ir.rs (the Rust typed DSL)."""

    __tablename__ = "items"

    id = Field(BigInteger, primary_key=True)
    name = Field(String(40))
    nick = Field(String(40), nullable=True)
    score = Field(Integer)
    born = Field(Date)
    seen = Field(DateTime, nullable=True)
    active = Field(Boolean)
    tags = Field(Array(Text), nullable=True)
    doc = Field(JSON, nullable=True)


ALL = (User, Profile, Post, Comment, Tag, Thing, Item)
