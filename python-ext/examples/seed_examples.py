"""The Python examples of the product spec (cross-language-support.md), runnable.

Run with a database URL (default: a SQLite file in the current directory)::

    CHAKRA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb python seed_examples.py

The model and the example bodies are the spec's, as written; the model adds the fields the
examples use (``is_active``, ``balance``) and the models its relationships name (``Post``
with its ``author``, ``Profile`` giving ``User.profile``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import ClassVar

import chakra
from chakra import (
    CASCADE,
    Boolean,
    DateTime,
    Field,
    ForeignKey,
    Integer,
    Model,
    OneToMany,
    OneToOne,
    Reverse,
    Session,
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
    profile: ClassVar[Reverse[Profile | None]]  # installed by Profile.user (back_populates)


class Post(Model):
    __tablename__ = "posts"

    id: Field[int] = Field(Integer, primary_key=True)
    title: Field[str] = Field(String(200))
    author: ForeignKey[User, int] = ForeignKey(
        "User", back_populates="posts", type_=Integer, on_delete=CASCADE
    )
    author_id: Field[int] = author.key_field()


class Profile(Model):
    __tablename__ = "profiles"

    id: Field[int] = Field(Integer, primary_key=True)
    user: OneToOne[User, int] = OneToOne(
        "User", back_populates="profile", type_=Integer, on_delete=CASCADE
    )
    user_id: Field[int] = user.key_field()
    bio: Field[str] = Field(Text)


async def basic_queries() -> None:
    # Get by ID
    user = await User.objects.get(id=1)

    # Filter
    users = await User.objects.filter(username__startswith="a", is_active=True).all()

    # Order and limit
    users = await User.objects.order_by("-created_at").limit(10).all()

    # Count
    count = await User.objects.filter(is_active=True).count()
    print(user.username, len(users), count)


async def creating_records() -> None:
    async with Session() as session:
        user = User(username="alice", email="alice@example.com")
        session.add(user)
        await session.commit()

        print(f"Created user with ID: {user.id}")


async def transactions() -> None:
    async with Session() as session:
        async with session.begin():
            user1 = await session.get(User, 1)
            user2 = await session.get(User, 2)
            assert user1 is not None and user2 is not None

            user1.balance -= 100
            user2.balance += 100

            # Auto-commits on exit, rolls back on exception


async def relationships() -> None:
    # Eager loading with JOIN
    users = await User.objects.select_related("profile").all()
    for user in users[:2]:
        print(f"{user.username}: {user.profile.bio if user.profile else '(no profile)'}")

    # Eager loading with separate queries
    users = await User.objects.prefetch_related("posts").all()

    for user in users:
        for post in user.posts:
            print(f"{user.username}: {post.title}")


async def main() -> None:
    await chakra.drop_tables(Profile, Post, User)
    await chakra.create_tables(User, Post, Profile)
    await creating_records()
    await User.objects.create(username="bob", email="bob@example.com", balance=100)
    await basic_queries()
    await transactions()
    print(await User.objects.order_by("id").values_list("username", "balance"))
    alice = await User.objects.get(username="alice")
    bob = await User.objects.get(username="bob")
    await Profile.objects.create(user=alice, bio="Rust and Python")
    await Post.objects.bulk_create(
        [Post(title="Hello", author=alice), Post(title="One ORM", author=alice)]
    )
    await Post.objects.create(title="Hi", author=bob)
    await relationships()


if __name__ == "__main__":
    asyncio.run(main())
