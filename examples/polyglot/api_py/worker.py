"""The worker of the polyglot example: credits every active user 10 per post they wrote,
from whatever wrote the posts (here the Rust service). ``--once`` runs one pass; otherwise
it runs a pass every ``--every`` seconds.

    CHAKRA_DATABASE_URL=sqlite://polyglot.db python worker.py --once
"""

from __future__ import annotations

import argparse
import asyncio
import os

import chakra
from chakra import Count, Session

from models import Post, User


async def one_pass() -> int:
    """Sets each active user's balance to 10 × their posts; returns how many changed."""
    counts = {
        row["author_id"]: row["n"]
        for row in await Post.objects.values("author_id").annotate(n=Count("id"))
    }
    changed = 0

    async def credit(s: Session) -> None:
        nonlocal changed
        changed = 0
        for user in await s.query(User).filter(is_active=True).all():
            want = 10 * counts.get(user.id, 0)
            if user.balance != want:
                user.balance = want
                changed += 1

    await Session().transaction(credit)
    return changed


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--every", type=float, default=5.0)
    args = ap.parse_args()
    chakra.configure(os.environ.get("CHAKRA_DATABASE_URL", "sqlite://polyglot.db"))
    while True:
        print(f"worker: {await one_pass()} balances updated", flush=True)
        if args.once:
            break
        await asyncio.sleep(args.every)
    chakra.close()


if __name__ == "__main__":
    asyncio.run(main())
