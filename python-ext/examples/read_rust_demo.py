"""Reads, from Python, the rows the Rust demo (chakra/examples/demo.rs) wrote.

The model describes the same ``users`` table as the Rust ``#[derive(Model)] struct User``;
both front doors go through the same Rust core, so the values read back identical.
Run after the Rust demo, with the same ``CHAKRA_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio

from chakra import BigInteger, Boolean, DateTime, Field, Model, Session, String


class User(Model):
    __tablename__ = "users"

    id = Field(BigInteger, primary_key=True)
    username = Field(String(50), unique=True)
    email = Field(String(255))
    created_at = Field(DateTime)
    is_active = Field(Boolean, default=True)
    balance = Field(BigInteger, default=0)


async def main() -> None:
    users = await User.objects.filter(username__startswith="al").order_by("id").all()
    for user in users:
        print(f"python sees {user.username} <{user.email}> balance {user.balance}")

    # A write from Python, in a transaction, that the Rust side would see too.
    async with Session() as session:
        async with session.begin():
            alice = await session.get(User, 1)
            assert alice is not None
            alice.balance += 1
    print("python gave alice 1:", await User.objects.values_list("username", "balance").all())


if __name__ == "__main__":
    asyncio.run(main())
