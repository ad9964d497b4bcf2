"""A typed use of the package: checked by mypy (strict) in the test command, and run by
pytest. If the stubs or annotations drift, mypy fails here."""

from __future__ import annotations

from datetime import datetime

import chakra
from chakra import F, Q, QuerySet, Session
from models import User


async def typed_calls() -> tuple[int, str, bool]:
    qs: QuerySet[User] = User.objects.filter(Q(username__startswith="a") | ~Q(balance=0))
    created: User = await User.objects.create(username="alice", email="a@example.com")
    one: User = await qs.get(id=created.id)
    maybe: User | None = await User.objects.order_by("-id").first()
    n: int = await qs.count()
    ok: bool = await User.objects.exists()
    name: str = one.username
    when: datetime = one.created_at
    balance: int = one.balance + 1
    changed: int = await User.objects.filter(id=one.id).update(balance=F("balance") + 1)
    pair: tuple[User, bool] = await User.objects.get_or_create(username="alice")
    async with Session() as session:
        async with session.begin():
            got: User | None = await session.get(User, one.id)
            if got is not None:
                got.balance -= 1
    del maybe, when, balance, changed, pair
    return n, name, ok


async def test_typed_calls_run(db: object) -> None:
    n, name, ok = await typed_calls()
    assert (n, name, ok) == (1, "alice", True)
    assert (await User.objects.get(id=1)).balance == 0
    assert chakra.current_url().startswith(("sqlite://", "postgres://", "mysql://"))
