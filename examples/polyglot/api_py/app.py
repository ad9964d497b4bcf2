"""The Python half of the polyglot example: a FastAPI service over the database the Rust
service uses. ``CHAKRA_DATABASE_URL`` names it (default ``sqlite://polyglot.db``).

- ``POST /users`` with ``{"username": …}``: a new user;
- ``GET /users/{id}``: a user with its post count.
"""

from __future__ import annotations

import os
from typing import Any

import chakra
from chakra import errors
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from models import Post, User

chakra.configure(os.environ.get("CHAKRA_DATABASE_URL", "sqlite://polyglot.db"))
app = FastAPI(title="polyglot: Python service")


class NewUser(BaseModel):
    username: str


@app.post("/users")
async def create_user(body: NewUser) -> dict[str, Any]:
    try:
        u = await User.objects.create(username=body.username)
    except (errors.UniqueViolation, errors.BadValue) as e:
        raise HTTPException(status_code=422, detail=str(e)) from e
    return {"id": u.id, "username": u.username, "served_by": "python"}


@app.get("/users/{user_id}")
async def get_user(user_id: int) -> dict[str, Any]:
    try:
        u = await User.objects.get(id=user_id)
    except errors.NotFound as e:
        raise HTTPException(status_code=404, detail=str(e)) from e
    posts = await Post.objects.filter(author_id=user_id).count()
    return {
        "id": u.id,
        "username": u.username,
        "balance": u.balance,
        "posts": posts,
        "served_by": "python",
    }
