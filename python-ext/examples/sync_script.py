"""The synchronous mirror, for scripts and sync frameworks: no event loop needed.

python sync_script.py            # uses CHAKRA_DATABASE_URL, chakra.toml or sqlite://chakra.db
"""

from __future__ import annotations

import chakra
from chakra import Boolean, Field, Integer, Model, String, SyncSession


class Account(Model):
    __tablename__ = "accounts"

    id = Field(Integer, primary_key=True)
    owner = Field(String(50), unique=True)
    balance = Field(Integer, default=0)
    frozen = Field(Boolean, default=False)


def main() -> None:
    chakra.drop_tables_sync(Account)
    chakra.create_tables_sync(Account)
    Account.objects.bulk_create_sync(
        [Account(owner="alice", balance=500), Account(owner="bob", balance=100)]
    )
    with SyncSession() as session:
        with session.begin_sync():
            alice = session.get_sync(Account, 1)
            bob = session.get_sync(Account, 2)
            assert alice is not None and bob is not None
            alice.balance -= 100
            bob.balance += 100
    rich = Account.objects.filter(balance__gte=200, frozen=False).values_list("owner", flat=True)
    print(rich.all_sync(), Account.objects.count_sync())


if __name__ == "__main__":
    main()
