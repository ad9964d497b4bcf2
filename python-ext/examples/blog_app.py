"""The example app's Python service: the models of ``blog_models.py`` on the tables of the
shared ``migrations/`` (the Rust twin is ``chakra/examples/blog_app.rs``).

::

    python blog_app.py migrate make --dir ../../migrations --check   # chakra migrate, these models
    python blog_app.py migrate apply --database-url sqlite://blog.db --dir ../../migrations
    python blog_app.py write sqlite://blog.db   # a user, profile, post, tag, comment; prints ids
    python blog_app.py read sqlite://blog.db    # every row, as JSON (what the Rust side wrote too)

``migrate`` is ``chakra migrate`` with this app's models, as the Rust binary embeds
``chakra::cli::run()``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import blog_models
import chakra
from blog_models import Comment, Post, Profile, Tag, User
from chakra import migrate


async def write(url: str, who: str = "py") -> dict[str, Any]:
    """Writes one of everything through the Python models; returns the new ids."""
    chakra.configure(url)
    user = await User.objects.create(
        username=f"{who}_ada", email=f"{who}_ada@example.com", balance=42
    )
    await Profile.objects.create(user_id=user.id, bio=f"written by {who}")
    post = await Post.objects.create(author_id=user.id, title=f"Hello from {who}")
    tag, _ = await Tag.objects.get_or_create(name=who)
    await post.tags.add(tag)
    comment = await Comment.objects.create(post_id=post.id, author_id=user.id, body="first!")
    return {"user": user.id, "post": post.id, "tag": tag.id, "comment": comment.id}


async def read(url: str) -> dict[str, Any]:
    """Every row of the example app's tables, through the Python models."""
    chakra.configure(url)
    users = await User.objects.order_by("id").all()
    profiles = await Profile.objects.select_related("user").order_by("id").all()
    posts = await Post.objects.select_related("author").prefetch_related("tags").order_by("id")
    comments = await Comment.objects.select_related("post", "author").order_by("id").all()
    return {
        "users": [
            {
                "id": u.id,
                "username": u.username,
                "email": u.email,
                "is_active": u.is_active,
                "balance": u.balance,
                "has_created_at": u.created_at is not None,
            }
            for u in users
        ],
        "profiles": [{"user": p.user.username, "bio": p.bio} for p in profiles],
        "posts": [
            {"title": p.title, "author": p.author.username, "tags": sorted(t.name for t in p.tags)}
            for p in posts
        ],
        "comments": [
            {"post": c.post.title, "author": c.author.username, "body": c.body} for c in comments
        ],
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["migrate"]:
        return migrate.main(argv, models=[blog_models])
    if len(argv) in (2, 3) and argv[0] in ("write", "read"):
        if argv[0] == "write":
            out = asyncio.run(write(argv[1], *argv[2:]))
        else:
            out = asyncio.run(read(argv[1]))
        print(json.dumps(out, sort_keys=True))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
