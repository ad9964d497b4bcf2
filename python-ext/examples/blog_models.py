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
    String,
    Text,
)

__all__ = ["Comment", "Post", "Profile", "Tag", "User"]


class User(Model):
    __tablename__ = "users"
    __app__ = "users"

    id = Field(BigInteger, primary_key=True)
    username = Field(String(50), unique=True)
    email = Field(String(255), default="")
    created_at = Field(DateTime, default=NOW)
    is_active = Field(Boolean, default=True)
    balance = Field(BigInteger, default=0)

    posts = OneToMany("Post", back_populates="author")


class Profile(Model):
    """One per user (a unique foreign key)."""

    __tablename__ = "profiles"
    __app__ = "profiles"

    id = Field(BigInteger, primary_key=True)
    user = OneToOne("User", back_populates="profile", on_delete=CASCADE)
    bio = Field(String(200))


class Post(Model):
    __tablename__ = "posts"
    __app__ = "posts"

    id = Field(BigInteger, primary_key=True)
    author = ForeignKey("User", back_populates="posts", on_delete=CASCADE)
    title = Field(String(200))
    # The join table posts_tags(post_id, tag_id), created by the tags app's migration.
    tags = ManyToMany("Tag", through="posts_tags", back_populates="posts")


class Comment(Model):
    __tablename__ = "comments"
    __app__ = "comments"

    id = Field(BigInteger, primary_key=True)
    post = ForeignKey("Post", back_populates="comments", on_delete=CASCADE)
    author = ForeignKey("User", back_populates="comments", on_delete=CASCADE)
    body = Field(Text)
    created_at = Field(DateTime, default=NOW)


class Tag(Model):
    __tablename__ = "tags"
    __app__ = "tags"

    id = Field(BigInteger, primary_key=True)
    name = Field(String(50), unique=True)
