"""The example app's models in Python: the tables of the repository's ``migrations/``
(users, profiles, posts, comments, tags and the join table ``posts_tags``), declared as a
Python service would. ``chakra/examples/blog_app.rs`` declares the same tables in Rust.

Both agree with the migrations::

    cd python-ext/examples
    chakra migrate make --models blog_models --dir ../../migrations --check   # exit 0

and ``make`` into an empty folder writes the same TOML from these models as from the Rust
ones. ``__app__`` says which app (folder under ``migrations/``) a new table goes to.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from chakra import (
    CASCADE,
    NOW,
    BigInteger,
    Boolean,
    DateTime,
    Field,
    ForeignKey,
    ManyToMany,
    Model,
    OneToMany,
    OneToOne,
    RelatedManager,
    Reverse,
    String,
    Text,
)

__all__ = ["Comment", "Post", "Profile", "Tag", "User"]


class User(Model):
    __tablename__ = "users"
    __app__ = "users"

    id: Field[int] = Field(BigInteger, primary_key=True)
    username: Field[str] = Field(String(50), unique=True)
    email: Field[str] = Field(String(255), default="")
    created_at: Field[datetime] = Field(DateTime, default=NOW)
    is_active: Field[bool] = Field(Boolean, default=True)
    balance: Field[int] = Field(BigInteger, default=0)

    posts: ClassVar[OneToMany[Post]] = OneToMany("Post", back_populates="author")
    # Installed by Profile.user and Comment.author (back_populates); declared for the types.
    profile: ClassVar[Reverse[Profile | None]]
    comments: ClassVar[Reverse[RelatedManager[Comment]]]


class Profile(Model):
    """One per user (a unique foreign key)."""

    __tablename__ = "profiles"
    __app__ = "profiles"

    id: Field[int] = Field(BigInteger, primary_key=True)
    user: OneToOne[User, int] = OneToOne("User", back_populates="profile", on_delete=CASCADE)
    user_id: Field[int] = user.key_field()
    bio: Field[str] = Field(String(200))


class Post(Model):
    __tablename__ = "posts"
    __app__ = "posts"

    id: Field[int] = Field(BigInteger, primary_key=True)
    author: ForeignKey[User, int] = ForeignKey("User", back_populates="posts", on_delete=CASCADE)
    author_id: Field[int] = author.key_field()
    title: Field[str] = Field(String(200))
    # The join table posts_tags(post_id, tag_id), created by the tags app's migration.
    tags: ClassVar[ManyToMany[Tag]] = ManyToMany(
        "Tag", through="posts_tags", back_populates="posts"
    )
    comments: ClassVar[Reverse[RelatedManager[Comment]]]


class Comment(Model):
    __tablename__ = "comments"
    __app__ = "comments"

    id: Field[int] = Field(BigInteger, primary_key=True)
    post: ForeignKey[Post, int] = ForeignKey("Post", back_populates="comments", on_delete=CASCADE)
    post_id: Field[int] = post.key_field()
    author: ForeignKey[User, int] = ForeignKey("User", back_populates="comments", on_delete=CASCADE)
    author_id: Field[int] = author.key_field()
    body: Field[str] = Field(Text)
    created_at: Field[datetime] = Field(DateTime, default=NOW)


class Tag(Model):
    __tablename__ = "tags"
    __app__ = "tags"

    id: Field[int] = Field(BigInteger, primary_key=True)
    name: Field[str] = Field(String(50), unique=True)
    posts: ClassVar[Reverse[RelatedManager[Post]]]
